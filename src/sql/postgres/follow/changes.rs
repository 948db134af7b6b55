//! The schema changes a statement makes that code of the previous release can notice
//! ([`crate::sql::changes`]), written down by the same walk as the lock facts, over the same
//! [`Schema`]: each statement's are computed before the walk applies the statement, so they see
//! the schema as it was (the column's type before a type change, its nullability before SET NOT
//! NULL).
//!
//! Changes are listed on every table, new ones too (marked `table_is_new`): whether a change
//! matters is the reader's call. Names are kept as PostgreSQL stores them (a quoted `"Orders"`
//! stays `Orders`); the schema is looked up lower-cased, as the walk keys it. Clauses of an
//! ALTER TABLE are positioned at their own line when the commas match the commands.

use super::FileWalk;
use crate::sql::changes::{ChangeKind, SchemaChange, Ty, missing, narrowed, sorted_names};
use crate::sql::postgres::schema::Schema;
use crate::sql::postgres::{ColumnType, Origin, Statement, strings, written_type_name};
use pg_query::protobuf::{self, AlterTableType, ConstrType, ObjectType};
use pg_query::{NodeEnum, NodeRef};

/// Where a change is written: line and column in the file.
#[derive(Clone, Copy)]
struct At {
    line: u32,
    column: u32,
}

/// The changes of one statement, with the schema they read and keep up to date: nullability
/// and enum types, written here command by command (a later clause of the same ALTER reads what
/// an earlier one declared); the walk writes the rest after the statement (`follow.rs`).
struct Recorder<'s> {
    schema: &'s mut Schema,
    out: Vec<SchemaChange>,
}

impl FileWalk<'_> {
    /// What `node` changes that old code can notice, before the walk applies it.
    pub(super) fn schema_changes(
        &mut self,
        statement: &Statement,
        node: &NodeEnum,
    ) -> Vec<SchemaChange> {
        let mut recorder = Recorder {
            schema: &mut *self.schema,
            out: Vec::new(),
        };
        let at = At {
            line: statement.line,
            column: statement.column,
        };
        recorder.statement(at, statement, node);
        recorder.out
    }
}

fn key(name: &str) -> String {
    name.to_lowercase()
}

impl Recorder<'_> {
    fn emit(&mut self, at: At, table: &str, kind: ChangeKind) {
        let table_is_new = !self.schema.existing(&key(table));
        self.out.push(SchemaChange {
            kind,
            table: table.to_string(),
            line: at.line,
            column: at.column,
            table_is_new,
        });
    }

    /// The column's type before this statement, as people write it.
    fn column_type(&self, table: &str, column: &str) -> Option<Ty> {
        self.schema
            .column_type(&key(table), &key(column))
            .map(written_type)
    }

    /// Whether the column is NOT NULL: `Some` when the migrations say (or the column is known
    /// and nothing made it NOT NULL), `None` when the column is not known.
    fn not_null(&self, table: &str, column: &str) -> Option<bool> {
        self.schema.not_null(&key(table), &key(column))
    }

    fn set_not_null_fact(&mut self, table: &str, column: &str, not_null: bool) {
        self.schema
            .set_not_null(&key(table), &key(column), not_null);
    }

    fn statement(&mut self, at: At, statement: &Statement, node: &NodeEnum) {
        match node {
            NodeEnum::CreateStmt(stmt) => self.create_table(at, stmt),
            NodeEnum::CreateTableAsStmt(stmt) if stmt.objtype() == ObjectType::ObjectTable => {
                let Some(into) = &stmt.into else { return };
                let table = relation_name(&into.rel);
                if stmt.if_not_exists && self.schema.knows(&key(&table)) {
                    return;
                }
                self.emit(at, &table, ChangeKind::CreateTable);
                if let Some(NodeEnum::SelectStmt(select)) =
                    stmt.query.as_ref().and_then(|q| q.node.as_ref())
                {
                    let first = self.out.len();
                    self.copy_from(at, &table, select);
                    // Filled by the statement that creates it, so new (created in this file).
                    for change in &mut self.out[first..] {
                        change.table_is_new = true;
                    }
                }
            }
            NodeEnum::DropStmt(stmt) => {
                for object in &stmt.objects {
                    let name = object_name(object);
                    match stmt.remove_type() {
                        ObjectType::ObjectTable => {
                            self.emit(at, &name, ChangeKind::DropTable);
                        }
                        ObjectType::ObjectType => {
                            self.schema.enums.remove(&key(&name));
                        }
                        _ => {}
                    }
                }
            }
            NodeEnum::RenameStmt(stmt) => self.rename(at, stmt),
            NodeEnum::AlterTableStmt(stmt) => {
                if !matches!(
                    stmt.objtype(),
                    ObjectType::ObjectTable | ObjectType::Undefined
                ) {
                    return;
                }
                let table = relation_name(&stmt.relation);
                let text = statement.text.as_str();
                let starts = clause_starts(text);
                // Clauses are positioned only when the commas match the commands; statements
                // from DO blocks and function bodies are positioned by statement only.
                let positioned =
                    starts.len() == stmt.cmds.len() && statement.origin == Origin::TopLevel;
                for (index, command) in stmt.cmds.iter().enumerate() {
                    let Some(NodeEnum::AlterTableCmd(cmd)) = command.node.as_ref() else {
                        continue;
                    };
                    let (clause_at, clause) = if positioned {
                        let start = starts[index];
                        let end = starts.get(index + 1).map_or(text.len(), |s| s - 1);
                        (clause_position(at, text, start), &text[start..end])
                    } else {
                        (at, text)
                    };
                    self.alter_cmd(clause_at, &table, cmd, clause);
                }
            }
            NodeEnum::IndexStmt(stmt) => self.index(at, stmt),
            NodeEnum::CreateEnumStmt(stmt) => {
                let name = last_string(&stmt.type_name);
                let values = string_list(&stmt.vals);
                self.schema.enums.insert(key(&name), values);
            }
            NodeEnum::AlterEnumStmt(stmt) => self.alter_enum(at, stmt),
            NodeEnum::UpdateStmt(stmt) => {
                let table = relation_name(&stmt.relation);
                let alias = stmt
                    .relation
                    .as_ref()
                    .and_then(|r| r.alias.as_ref())
                    .map(|a| a.aliasname.clone())
                    .unwrap_or_default();
                for target in &stmt.target_list {
                    let Some(NodeEnum::ResTarget(target)) = target.node.as_ref() else {
                        continue;
                    };
                    let Some(value) = target.val.as_ref().and_then(|v| v.node.as_ref()) else {
                        continue;
                    };
                    let mentioned = columns_in(value, &[&table, &alias]);
                    let from_columns = sorted_names(mentioned, Some(&target.name));
                    if !from_columns.is_empty() {
                        let kind = ChangeKind::Backfill {
                            column: target.name.clone(),
                            from_columns,
                        };
                        self.emit(at, &table, kind);
                    }
                }
            }
            NodeEnum::InsertStmt(stmt) => {
                let table = relation_name(&stmt.relation);
                if let Some(NodeEnum::SelectStmt(select)) =
                    stmt.select_stmt.as_ref().and_then(|s| s.node.as_ref())
                {
                    self.copy_from(at, &table, select);
                }
            }
            _ => {}
        }
    }

    fn create_table(&mut self, at: At, stmt: &protobuf::CreateStmt) {
        let table = relation_name(&stmt.relation);
        // PostgreSQL skips CREATE TABLE IF NOT EXISTS of a table that exists (a NOTICE): the
        // table keeps its rows and columns, and is not new.
        if stmt.if_not_exists && self.schema.knows(&key(&table)) {
            return;
        }
        // The walk writes the table's columns down (`definitions::created_table`).
        self.emit(at, &table, ChangeKind::CreateTable);
    }

    fn index(&mut self, at: At, stmt: &protobuf::IndexStmt) {
        let table = relation_name(&stmt.relation);
        if stmt.unique {
            let columns = index_columns(stmt);
            let unless_null = stmt
                .where_clause
                .as_ref()
                .and_then(|w| w.node.as_ref())
                .map(|w| null_excludes(w, &table))
                .unwrap_or_default();
            let kind = ChangeKind::AddUnique {
                columns,
                unless_null,
            };
            self.emit(at, &table, kind);
        }
    }

    fn rename(&mut self, at: At, stmt: &protobuf::RenameStmt) {
        let table = relation_name(&stmt.relation);
        match stmt.rename_type() {
            ObjectType::ObjectTable => {
                let to = stmt.newname.clone();
                self.emit(at, &table, ChangeKind::RenameTable { to });
            }
            ObjectType::ObjectColumn => {
                let kind = ChangeKind::RenameColumn {
                    column: stmt.subname.clone(),
                    to: stmt.newname.clone(),
                };
                self.emit(at, &table, kind);
            }
            ObjectType::ObjectType => {
                let old = stmt.object.as_deref().map(object_name).unwrap_or_default();
                self.schema.rename_type(&key(&old), &key(&stmt.newname));
            }
            _ => {}
        }
    }

    fn alter_enum(&mut self, at: At, stmt: &protobuf::AlterEnumStmt) {
        let name = key(&last_string(&stmt.type_name));
        if stmt.old_val.is_empty() {
            let values = self.schema.enums.entry(name).or_default();
            if !values.contains(&stmt.new_val) {
                values.push(stmt.new_val.clone());
            }
            return;
        }
        // RENAME VALUE: rows holding the old value now read as the new one, and the old code's
        // writes of the old value fail with "invalid input value for enum".
        for (table, column) in self.schema.columns_of_type(&name) {
            let kind = ChangeKind::EnumValuesRemoved {
                column: Some(column),
                type_name: Some(name.clone()),
                removed: vec![stmt.old_val.clone()],
            };
            self.emit(at, &table, kind);
        }
        if let Some(value) = self
            .schema
            .enums
            .get_mut(&name)
            .and_then(|values| values.iter_mut().find(|v| **v == stmt.old_val))
        {
            *value = stmt.new_val.clone();
        }
        self.schema
            .rename_enum_value_in_defaults(&name, &stmt.old_val, &stmt.new_val);
    }

    fn alter_cmd(&mut self, at: At, table: &str, cmd: &protobuf::AlterTableCmd, clause: &str) {
        let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
        match (cmd.subtype(), def) {
            (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(def))) => {
                let facts = ColumnFacts::of(def);
                let column = def.colname.clone();
                let kind = ChangeKind::AddColumn {
                    column: column.clone(),
                    not_null_without_default: facts.not_null && !facts.filled,
                    filled: facts.filled,
                };
                self.emit(at, table, kind);
                if facts.unique {
                    let kind = ChangeKind::AddUnique {
                        columns: vec![column.clone()],
                        unless_null: Vec::new(),
                    };
                    self.emit(at, table, kind);
                }
                self.set_not_null_fact(table, &column, facts.not_null);
                for check in facts.checks {
                    let expression = check_expression(clause).unwrap_or_default();
                    let mentioned = columns_in(check, &[table]);
                    self.add_check(at, table, mentioned, expression, false);
                }
            }
            (AlterTableType::AtDropColumn, _) => {
                let kind = ChangeKind::DropColumn {
                    column: cmd.name.clone(),
                };
                self.emit(at, table, kind);
            }
            (AlterTableType::AtSetNotNull, _) => self.set_not_null(at, table, &cmd.name),
            (AlterTableType::AtDropNotNull, _) => {
                // Dropping NOT NULL from a column known to be nullable changes nothing.
                if self.not_null(table, &cmd.name).is_none_or(|n| n) {
                    let kind = ChangeKind::DropNotNull {
                        column: cmd.name.clone(),
                    };
                    self.emit(at, table, kind);
                }
                self.set_not_null_fact(table, &cmd.name, false);
            }
            (AlterTableType::AtAlterColumnType, Some(NodeEnum::ColumnDef(def))) => {
                if let Some(ty) = def.type_name.as_ref() {
                    let to = written_type(&crate::sql::postgres::ast::column_type(ty));
                    self.alter_type(at, table, &cmd.name, to);
                }
            }
            (AlterTableType::AtAddConstraint, Some(NodeEnum::Constraint(c))) => {
                self.add_constraint(at, table, c, clause)
            }
            _ => {}
        }
    }

    fn add_constraint(&mut self, at: At, table: &str, c: &protobuf::Constraint, clause: &str) {
        match c.contype() {
            ConstrType::ConstrCheck => {
                let expr = c.raw_expr.as_ref().and_then(|e| e.node.as_ref());
                let mentioned = expr.map(|e| columns_in(e, &[table])).unwrap_or_default();
                let expression = check_expression(clause).unwrap_or_default();
                self.add_check(at, table, mentioned, expression, c.skip_validation);
            }
            ConstrType::ConstrUnique | ConstrType::ConstrPrimary => {
                let columns = if c.indexname.is_empty() {
                    string_list(&c.keys)
                } else {
                    self.schema
                        .index(&key(&c.indexname))
                        .map(|index| index.columns.clone())
                        .unwrap_or_default()
                };
                // A PRIMARY KEY is NOT NULL on each of its columns, and unique.
                if c.contype() == ConstrType::ConstrPrimary {
                    for column in &columns {
                        self.set_not_null(at, table, column);
                    }
                }
                let kind = ChangeKind::AddUnique {
                    columns,
                    unless_null: Vec::new(),
                };
                self.emit(at, table, kind);
            }
            ConstrType::ConstrNotnull => {
                for column in string_list(&c.keys) {
                    self.set_not_null(at, table, &column);
                }
            }
            _ => {}
        }
    }

    /// SET NOT NULL, unless the column is already known to be NOT NULL (a no-op then).
    fn set_not_null(&mut self, at: At, table: &str, column: &str) {
        if self.not_null(table, column) == Some(true) {
            return;
        }
        let kind = ChangeKind::SetNotNull {
            column: column.to_string(),
        };
        self.emit(at, table, kind);
        self.set_not_null_fact(table, column, true);
    }

    fn add_check(
        &mut self,
        at: At,
        table: &str,
        mentioned: Vec<String>,
        expression: String,
        not_valid: bool,
    ) {
        let kind = ChangeKind::AddCheck {
            columns: sorted_names(mentioned, None),
            expression,
            not_valid,
        };
        self.emit(at, table, kind);
    }

    fn alter_type(&mut self, at: At, table: &str, column: &str, to: Ty) {
        let from = self.column_type(table, column);
        let enum_values = |ty: &Ty| self.schema.enums.get(&key(&ty.name)).cloned();
        let kind = match (from.as_ref().and_then(enum_values), enum_values(&to)) {
            (Some(old_values), Some(new_values)) => {
                let removed = missing(&old_values, &new_values);
                if removed.is_empty() {
                    // Another enum with every old value: whatever the old code writes still fits.
                    type_changed(column, from.as_ref(), &to, false)
                } else {
                    ChangeKind::EnumValuesRemoved {
                        column: Some(column.to_string()),
                        type_name: Some(to.name.clone()),
                        removed,
                    }
                }
            }
            _ => type_changed(column, from.as_ref(), &to, narrowed(from.as_ref(), &to)),
        };
        self.emit(at, table, kind);
    }

    fn copy_from(&mut self, at: At, table: &str, select: &protobuf::SelectStmt) {
        let mut sources = Vec::new();
        select_sources(select, &mut sources);
        for from in sorted_names(sources, Some(table)) {
            self.emit(at, table, ChangeKind::CopyFrom { from });
        }
    }
}

fn type_changed(column: &str, from: Option<&Ty>, to: &Ty, narrowed: bool) -> ChangeKind {
    ChangeKind::TypeChanged {
        column: column.to_string(),
        from: from.map(Ty::to_string),
        to: to.to_string(),
        narrowed,
    }
}

/// The position of the clause starting at byte `start` of the statement's text.
fn clause_position(at: At, text: &str, start: usize) -> At {
    let rest = text.get(start..).unwrap_or("");
    let (line, column) = crate::sql::line_col(text, start + crate::sql::skip_trivia(rest));
    At {
        line: at.line.saturating_add(line - 1),
        column: if line == 1 {
            at.column.saturating_add(column - 1)
        } else {
            column
        },
    }
}

/// What a column definition says about how the column is filled.
struct ColumnFacts<'a> {
    not_null: bool,
    /// The database fills it: DEFAULT, serial, identity, generated.
    filled: bool,
    unique: bool,
    checks: Vec<&'a NodeEnum>,
}

impl<'a> ColumnFacts<'a> {
    fn of(def: &'a protobuf::ColumnDef) -> ColumnFacts<'a> {
        let raw = def
            .type_name
            .as_ref()
            .map(|t| last_string(&t.names))
            .unwrap_or_default();
        let mut facts = ColumnFacts {
            not_null: false,
            filled: matches!(
                raw.as_str(),
                "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
            ),
            unique: false,
            checks: Vec::new(),
        };
        for constraint in &def.constraints {
            let Some(NodeEnum::Constraint(c)) = constraint.node.as_ref() else {
                continue;
            };
            match c.contype() {
                ConstrType::ConstrNotnull | ConstrType::ConstrPrimary => facts.not_null = true,
                // PostgreSQL makes an identity column NOT NULL.
                ConstrType::ConstrIdentity => {
                    facts.not_null = true;
                    facts.filled = true;
                }
                ConstrType::ConstrDefault | ConstrType::ConstrGenerated => facts.filled = true,
                ConstrType::ConstrUnique => facts.unique = true,
                ConstrType::ConstrCheck => {
                    if let Some(expr) = c.raw_expr.as_ref().and_then(|e| e.node.as_ref()) {
                        facts.checks.push(expr);
                    }
                }
                _ => {}
            }
        }
        facts
    }
}

fn select_sources(select: &protobuf::SelectStmt, out: &mut Vec<String>) {
    for item in &select.from_clause {
        if let Some(node) = item.node.as_ref() {
            from_item(node, out);
        }
    }
    for side in [&select.larg, &select.rarg].into_iter().flatten() {
        select_sources(side, out);
    }
}

fn from_item(node: &NodeEnum, out: &mut Vec<String>) {
    match node {
        NodeEnum::RangeVar(range) => out.push(range.relname.clone()),
        NodeEnum::JoinExpr(join) => {
            for side in [&join.larg, &join.rarg].into_iter().flatten() {
                if let Some(node) = side.node.as_ref() {
                    from_item(node, out);
                }
            }
        }
        _ => {}
    }
}

/// The columns whose NULL makes a partial index's predicate not true, so a row with NULL there
/// is not in the index: `c IS NOT NULL`, an operator on `c` (`c > 0`, `c = 'x'`: NULL in, NULL
/// out), and the conjuncts of an AND. Anything else (OR, COALESCE, IS NULL) claims none.
fn null_excludes(node: &NodeEnum, table: &str) -> Vec<String> {
    let column = |n: &Option<Box<protobuf::Node>>| match n.as_ref().and_then(|n| n.node.as_ref()) {
        Some(inner @ NodeEnum::ColumnRef(_)) => columns_in(inner, &[table]),
        _ => Vec::new(),
    };
    match node {
        NodeEnum::NullTest(test) if test.nulltesttype() == protobuf::NullTestType::IsNotNull => {
            column(&test.arg)
        }
        NodeEnum::AExpr(expr) if expr.kind() == protobuf::AExprKind::AexprOp => {
            let mut out = column(&expr.lexpr);
            out.extend(column(&expr.rexpr));
            out
        }
        NodeEnum::BoolExpr(expr) if expr.boolop() == protobuf::BoolExprType::AndExpr => expr
            .args
            .iter()
            .filter_map(|a| a.node.as_ref())
            .flat_map(|a| null_excludes(a, table))
            .collect(),
        _ => Vec::new(),
    }
}

/// Column names an expression mentions: unqualified, or qualified by one of `tables`.
fn columns_in(node: &NodeEnum, tables: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for (node, ..) in node.nodes() {
        let NodeRef::ColumnRef(column) = node else {
            continue;
        };
        let names = string_list(&column.fields);
        if names.len() != column.fields.len() {
            continue; // `t.*`
        }
        match names.as_slice() {
            [name] => out.push(name.clone()),
            [.., qualifier, name] if tables.contains(&qualifier.as_str()) => out.push(name.clone()),
            _ => {}
        }
    }
    out
}

/// The table's name as PostgreSQL stores it: the parser has already folded unquoted names, and
/// the schema is dropped (migrations rarely mix schemas).
/// The columns an index is built on, as written: plain columns, and the columns its expressions
/// read (`lower(email)` → `email`).
pub(super) fn index_columns(stmt: &protobuf::IndexStmt) -> Vec<String> {
    let table = relation_name(&stmt.relation);
    stmt.index_params
        .iter()
        .flat_map(|p| match p.node.as_ref() {
            Some(NodeEnum::IndexElem(e)) if !e.name.is_empty() => vec![e.name.clone()],
            Some(NodeEnum::IndexElem(e)) => e
                .expr
                .as_ref()
                .and_then(|x| x.node.as_ref())
                .map(|x| columns_in(x, &[&table]))
                .unwrap_or_default(),
            _ => Vec::new(),
        })
        .collect()
}

fn relation_name(relation: &Option<protobuf::RangeVar>) -> String {
    relation
        .as_ref()
        .map(|r| r.relname.clone())
        .unwrap_or_default()
}

fn object_name(object: &protobuf::Node) -> String {
    match object.node.as_ref() {
        Some(NodeEnum::List(list)) => last_string(&list.items),
        Some(NodeEnum::String(s)) => s.sval.clone(),
        Some(NodeEnum::TypeName(t)) => last_string(&t.names),
        _ => String::new(),
    }
}

fn string_list(nodes: &[protobuf::Node]) -> Vec<String> {
    strings(nodes).map(str::to_string).collect()
}

fn last_string(nodes: &[protobuf::Node]) -> String {
    string_list(nodes).pop().unwrap_or_default()
}

/// The type as people write it: the catalog's `int8` is shown as `bigint`.
fn written_type(declared: &ColumnType) -> Ty {
    let (base, array) = match declared.name.strip_suffix("[]") {
        Some(base) => (base, "[]"),
        None => (declared.name.as_str(), ""),
    };
    // The serial types are integers whose DEFAULT is a sequence: the column holds the integer.
    let base = match base {
        "serial" | "serial4" => "int4",
        "bigserial" | "serial8" => "int8",
        "smallserial" | "serial2" => "int2",
        other => other,
    };
    let name = format!("{}{array}", written_type_name(base));
    let mut mods = declared.mods.clone();
    // numeric(p) is numeric(p,0).
    if name == "numeric" && mods.len() == 1 {
        mods.push(0);
    }
    Ty {
        name,
        mods,
        ..Ty::default()
    }
}

/// Byte offsets where each comma-separated clause of `text` starts (the first at 0), outside
/// parentheses, quotes and `--` comments.
fn clause_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut depth = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' => depth += 1,
            b')' => depth -= 1,
            b',' if depth == 0 => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

/// The parenthesised expression after the word CHECK in `text`.
fn check_expression(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower.get(from..)?.find("check") {
        let start = from + found;
        from = start + 5;
        let word_start = start == 0 || !lower.as_bytes()[start - 1].is_ascii_alphanumeric();
        let rest = lower[from..].trim_start();
        if !word_start || !rest.starts_with('(') {
            continue;
        }
        let open = lower.len() - rest.len();
        let mut depth = 0;
        for (i, c) in text[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(text[open + 1..open + i].trim().to_string());
                    }
                }
                _ => {}
            }
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::config::TransactionMode;
    use crate::sql::changes::{ChangeKind, SchemaChange};
    use crate::sql::files::MigrationFile;
    use crate::sql::postgres::operations::{Operation, Step};
    use crate::sql::postgres::{FollowOptions, follow};

    fn file(text: &str, in_deploy: bool) -> MigrationFile {
        MigrationFile {
            path: "x.sql".to_string(),
            text: text.to_string(),
            in_deploy,
            transaction: None,
        }
    }

    /// (file index, change) of every change; the operations of the last file's statements.
    fn followed(
        files: &[(&str, bool)],
        deploy_is_known: bool,
    ) -> (Vec<(usize, SchemaChange)>, Vec<Operation>) {
        let files: Vec<MigrationFile> = files.iter().map(|(t, d)| file(t, *d)).collect();
        let options = FollowOptions {
            transaction: TransactionMode::PerFile,
            postgres_version: 15,
            deploy_is_known,
        };
        let (mut changes, mut operations) = (Vec::new(), Vec::new());
        let facts = follow(&files, options);
        let last = facts.len() - 1;
        for (index, facts) in facts.into_iter().enumerate() {
            for step in facts.steps {
                if let Step::Statement(statement) = step {
                    changes.extend(statement.changes.into_iter().map(|c| (index, c)));
                    if index == last {
                        operations.extend(statement.operations.unwrap_or_default());
                    }
                }
            }
        }
        (changes, operations)
    }

    /// PostgreSQL runs a PL/pgSQL function's body when the file calls it: a column it drops is
    /// dropped for the old code too (compat's own walk used to skip function bodies).
    #[test]
    fn a_change_inside_a_called_function_counts() {
        let old = "CREATE TABLE orders (id int, note text);";
        let new = "CREATE FUNCTION cleanup() RETURNS void AS $$\nBEGIN\n  ALTER TABLE orders DROP COLUMN note;\nEND\n$$ LANGUAGE plpgsql;\nSELECT cleanup();";
        let (changes, _) = followed(&[(old, false), (new, true)], true);
        let kinds: Vec<(usize, &ChangeKind, bool)> = changes
            .iter()
            .map(|(i, c)| (*i, &c.kind, c.table_is_new))
            .collect();
        let dropped = ChangeKind::DropColumn {
            column: "note".to_string(),
        };
        assert_eq!(
            kinds,
            vec![(0, &ChangeKind::CreateTable, false), (1, &dropped, false)]
        );
    }

    /// `CREATE TABLE IF NOT EXISTS` of a table an older migration created is a no-op in
    /// PostgreSQL (a NOTICE): the table keeps its rows, so it is neither a new table for compat
    /// nor one the migrations rules may lock freely.
    #[test]
    fn if_not_exists_of_a_known_table_leaves_it_existing() {
        let old = "CREATE TABLE orders (id int, note text NOT NULL);";
        let new = "CREATE TABLE IF NOT EXISTS orders (id int);\nCREATE INDEX orders_id ON orders (id);\nALTER TABLE orders ALTER COLUMN note DROP NOT NULL;";
        let (changes, operations) = followed(&[(old, false), (new, true)], true);
        let in_deploy: Vec<(&ChangeKind, bool)> = changes
            .iter()
            .filter(|(i, _)| *i == 1)
            .map(|(_, c)| (&c.kind, c.table_is_new))
            .collect();
        let dropped = ChangeKind::DropNotNull {
            column: "note".to_string(),
        };
        assert_eq!(in_deploy, vec![(&dropped, false)]);
        assert!(
            matches!(operations.as_slice(), [Operation::CreateIndex { table, .. }] if table == "orders"),
            "{operations:?}"
        );
    }

    /// Without a base every file counts as this deploy's, but a table an earlier file created
    /// has long existed in production: only a same-file creation is new (as the migrations
    /// rules read it). With a base, a table an earlier file of the deploy created is new.
    #[test]
    fn a_table_is_new_when_this_deploy_created_it() {
        let first = "CREATE TABLE fresh (id int);";
        let second = "ALTER TABLE fresh ADD COLUMN a int NOT NULL;";
        for (deploy_is_known, new) in [(true, true), (false, false)] {
            let (changes, _) = followed(&[(first, true), (second, true)], deploy_is_known);
            let (_, added) = &changes[1];
            assert_eq!(added.table_is_new, new, "deploy known: {deploy_is_known}");
        }
        let (changes, _) = followed(&[(&format!("{first}\n{second}"), true)], false);
        assert!(changes[1].1.table_is_new);
        assert_eq!((changes[1].1.line, changes[1].1.column), (2, 1));
    }

    /// A column of an existing table keeps its type when renamed: a later type change is
    /// judged from it (the walk used to forget it, calling a widening a narrowing).
    #[test]
    fn a_renamed_column_keeps_its_type() {
        let old = "CREATE TABLE orders (id int, amount int);";
        let new = "ALTER TABLE orders RENAME COLUMN amount TO total;\nALTER TABLE orders ALTER COLUMN total TYPE bigint;";
        let (changes, operations) = followed(&[(old, false), (new, true)], true);
        assert_eq!(
            changes[2].1.kind,
            ChangeKind::TypeChanged {
                column: "total".to_string(),
                from: Some("integer".to_string()),
                to: "bigint".to_string(),
                narrowed: false,
            }
        );
        assert!(
            operations.iter().any(|op| matches!(op, Operation::AlterColumnType { before: Some(before), .. } if before.name == "int4")),
            "{operations:?}"
        );
    }

    /// Quoted names keep their case in the change; the schema is looked up as the walk keys it.
    #[test]
    fn quoted_names_keep_their_case() {
        let old = "CREATE TABLE \"Orders\" (\"Total\" int NOT NULL);";
        let new = "ALTER TABLE \"Orders\" ALTER COLUMN \"Total\" TYPE smallint;";
        let (changes, _) = followed(&[(old, false), (new, true)], true);
        let (_, changed) = &changes[1];
        assert_eq!(changed.table, "Orders");
        assert_eq!(
            changed.kind,
            ChangeKind::TypeChanged {
                column: "Total".to_string(),
                from: Some("integer".to_string()),
                to: "smallint".to_string(),
                narrowed: true,
            }
        );
    }
}
