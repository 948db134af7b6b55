//! PostgreSQL migrations → schema changes, from libpg_query's parse trees
//! (`crate::sql::postgres`). Clauses of an ALTER TABLE are positioned at their own line when the
//! commas match the commands; statements inside `DO` blocks count too.

use super::{At, ChangeKind, Column, State, Ty, missing, narrowed, sorted_names};
use crate::sql::files::MigrationFile;
use crate::sql::postgres::{self, ColumnType, Origin, Statement as PgStatement, written_type_name};
use pg_query::protobuf::{self, AlterTableType, ConstrType, ObjectType};
use pg_query::{NodeEnum, NodeRef};

pub(super) fn file(state: &mut State, file: &MigrationFile, text: &str) {
    for statement in postgres::parse(text) {
        let Ok(node) = &statement.node else {
            state.unread += usize::from(file.in_deploy);
            continue;
        };
        let at = At {
            path: &file.path,
            in_deploy: file.in_deploy,
            line: statement.line,
            column: statement.column,
        };
        pg_statement(state, at, &statement, node);
    }
}

fn pg_statement(state: &mut State, at: At, statement: &PgStatement, node: &NodeEnum) {
    match node {
        NodeEnum::CreateStmt(stmt) => {
            let table = pg_table(&stmt.relation);
            if stmt.if_not_exists && state.tables.contains_key(&table) {
                return;
            }
            let mut columns = Vec::new();
            let mut primary = Vec::new();
            for element in &stmt.table_elts {
                match element.node.as_ref() {
                    Some(NodeEnum::ColumnDef(def)) => {
                        let facts = ColumnFacts::of(def);
                        let ty = def.type_name.as_ref().map(pg_type);
                        let not_null = facts.not_null;
                        columns.push((def.colname.clone(), Column { ty, not_null }));
                    }
                    Some(NodeEnum::Constraint(c)) if c.contype() == ConstrType::ConstrPrimary => {
                        primary.extend(string_list(&c.keys));
                    }
                    _ => {}
                }
            }
            for (name, column) in &mut columns {
                column.not_null |= primary.contains(name);
            }
            state.create_table(at, &table, columns);
        }
        NodeEnum::CreateTableAsStmt(stmt) if stmt.objtype() == ObjectType::ObjectTable => {
            let Some(into) = &stmt.into else { return };
            let table = pg_table(&into.rel);
            state.create_table(at, &table, Vec::new());
            if let Some(NodeEnum::SelectStmt(select)) =
                stmt.query.as_ref().and_then(|q| q.node.as_ref())
            {
                pg_copy_from(state, at, &table, select);
            }
        }
        NodeEnum::DropStmt(stmt) => {
            for object in &stmt.objects {
                let name = pg_object_name(object);
                match stmt.remove_type() {
                    ObjectType::ObjectTable => state.drop_table(at, &name),
                    ObjectType::ObjectType => drop(state.enums.remove(&name)),
                    ObjectType::ObjectIndex => drop(state.indexes.remove(&name)),
                    _ => {}
                }
            }
        }
        NodeEnum::RenameStmt(stmt) => pg_rename(state, at, stmt),
        NodeEnum::AlterTableStmt(stmt) => {
            if !matches!(
                stmt.objtype(),
                ObjectType::ObjectTable | ObjectType::Undefined
            ) {
                return;
            }
            let table = pg_table(&stmt.relation);
            let text = statement.text.as_str();
            let starts = clause_starts(text);
            // Clauses are positioned only when the commas match the commands; statements from
            // DO blocks are positioned by line only.
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
                pg_alter_cmd(state, clause_at, &table, cmd, clause);
            }
        }
        NodeEnum::IndexStmt(stmt) => {
            let table = pg_table(&stmt.relation);
            let columns: Vec<String> = stmt
                .index_params
                .iter()
                .flat_map(|p| match p.node.as_ref() {
                    Some(NodeEnum::IndexElem(e)) if !e.name.is_empty() => vec![e.name.clone()],
                    Some(NodeEnum::IndexElem(e)) => e
                        .expr
                        .as_ref()
                        .and_then(|x| x.node.as_ref())
                        .map(|x| pg_columns(x, &[&table]))
                        .unwrap_or_default(),
                    _ => Vec::new(),
                })
                .collect();
            if !stmt.idxname.is_empty() {
                state.indexes.insert(stmt.idxname.clone(), columns.clone());
            }
            if stmt.unique {
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
                state.emit(at, &table, kind);
            }
        }
        NodeEnum::CreateEnumStmt(stmt) => {
            let name = last_string(&stmt.type_name);
            state.enums.insert(name, string_list(&stmt.vals));
        }
        NodeEnum::AlterEnumStmt(stmt) => pg_alter_enum(state, at, stmt),
        NodeEnum::UpdateStmt(stmt) => {
            let table = pg_table(&stmt.relation);
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
                let mentioned = pg_columns(value, &[&table, &alias]);
                let from_columns = sorted_names(mentioned, Some(&target.name));
                state.backfill(at, &table, target.name.clone(), from_columns);
            }
        }
        NodeEnum::InsertStmt(stmt) => {
            let table = pg_table(&stmt.relation);
            if let Some(NodeEnum::SelectStmt(select)) =
                stmt.select_stmt.as_ref().and_then(|s| s.node.as_ref())
            {
                pg_copy_from(state, at, &table, select);
            }
        }
        _ => {}
    }
}

/// The position of the clause starting at byte `start` of the statement's text.
fn clause_position<'a>(at: At<'a>, text: &str, start: usize) -> At<'a> {
    let rest = text.get(start..).unwrap_or("");
    let (line, column) = crate::sql::line_col(text, start + crate::sql::skip_trivia(rest));
    At {
        line: at.line.saturating_add(line - 1),
        column: if line == 1 {
            at.column.saturating_add(column - 1)
        } else {
            column
        },
        ..at
    }
}

fn pg_rename(state: &mut State, at: At, stmt: &protobuf::RenameStmt) {
    let table = pg_table(&stmt.relation);
    match stmt.rename_type() {
        ObjectType::ObjectTable => state.rename_table(at, &table, &stmt.newname),
        ObjectType::ObjectColumn => state.rename_column(at, &table, &stmt.subname, &stmt.newname),
        ObjectType::ObjectType => {
            let old = stmt
                .object
                .as_deref()
                .map(pg_object_name)
                .unwrap_or_default();
            if let Some(values) = state.enums.remove(&old) {
                state.enums.insert(stmt.newname.clone(), values);
            }
            for column in state.tables.values_mut().flat_map(|c| c.values_mut()) {
                if let Some(ty) = column.ty.as_mut().filter(|t| t.name == old) {
                    ty.name = stmt.newname.clone();
                }
            }
        }
        ObjectType::ObjectIndex => {
            if let Some(columns) = state.indexes.remove(&table) {
                state.indexes.insert(stmt.newname.clone(), columns);
            }
        }
        _ => {}
    }
}

fn pg_alter_enum(state: &mut State, at: At, stmt: &protobuf::AlterEnumStmt) {
    let name = last_string(&stmt.type_name);
    if stmt.old_val.is_empty() {
        let values = state.enums.entry(name).or_default();
        if !values.contains(&stmt.new_val) {
            values.push(stmt.new_val.clone());
        }
        return;
    }
    // RENAME VALUE: rows holding the old value now read as the new one, and the old code's
    // writes of the old value fail with "invalid input value for enum".
    let users: Vec<(String, String)> = state
        .tables
        .iter()
        .flat_map(|(table, columns)| {
            columns
                .iter()
                .filter(|(_, c)| c.ty.as_ref().is_some_and(|t| t.name == name))
                .map(move |(column, _)| (table.clone(), column.clone()))
        })
        .collect();
    for (table, column) in users {
        let kind = ChangeKind::EnumValuesRemoved {
            column: Some(column),
            type_name: Some(name.clone()),
            removed: vec![stmt.old_val.clone()],
        };
        state.emit(at, &table, kind);
    }
    if let Some(value) = state
        .enums
        .get_mut(&name)
        .and_then(|values| values.iter_mut().find(|v| **v == stmt.old_val))
    {
        *value = stmt.new_val.clone();
    }
}

fn pg_alter_cmd(
    state: &mut State,
    at: At,
    table: &str,
    cmd: &protobuf::AlterTableCmd,
    clause: &str,
) {
    let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
    match (cmd.subtype(), def) {
        (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(def))) => {
            let facts = ColumnFacts::of(def);
            let column = def.colname.clone();
            let ty = def.type_name.as_ref().map(pg_type);
            let info = Column {
                ty,
                not_null: facts.not_null,
            };
            state.add_column(at, table, &column, info, facts.filled, facts.unique);
            for check in facts.checks {
                let expression = check_expression(clause).unwrap_or_default();
                let mentioned = pg_columns(check, &[table]);
                state.add_check(at, table, mentioned, expression, false);
            }
        }
        (AlterTableType::AtDropColumn, _) => state.drop_column(at, table, &cmd.name),
        (AlterTableType::AtSetNotNull, _) => state.set_not_null(at, table, &cmd.name),
        (AlterTableType::AtDropNotNull, _) => {
            let known = state.column(table, &cmd.name).cloned();
            // Dropping NOT NULL from a column known to be nullable changes nothing.
            if known.as_ref().is_none_or(|c| c.not_null) {
                let kind = ChangeKind::DropNotNull {
                    column: cmd.name.clone(),
                };
                state.emit(at, table, kind);
            }
            let mut column = known.unwrap_or_default();
            column.not_null = false;
            state.set_column(table, &cmd.name, column);
        }
        (AlterTableType::AtAlterColumnType, Some(NodeEnum::ColumnDef(def))) => {
            if let Some(ty) = def.type_name.as_ref().map(pg_type) {
                pg_alter_type(state, at, table, &cmd.name, ty);
            }
        }
        (AlterTableType::AtAddConstraint, Some(NodeEnum::Constraint(c))) => match c.contype() {
            ConstrType::ConstrCheck => {
                let expr = c.raw_expr.as_ref().and_then(|e| e.node.as_ref());
                let mentioned = expr.map(|e| pg_columns(e, &[table])).unwrap_or_default();
                let expression = check_expression(clause).unwrap_or_default();
                state.add_check(at, table, mentioned, expression, c.skip_validation);
            }
            ConstrType::ConstrUnique => {
                let columns = if c.indexname.is_empty() {
                    string_list(&c.keys)
                } else {
                    state.indexes.get(&c.indexname).cloned().unwrap_or_default()
                };
                state.emit(
                    at,
                    table,
                    ChangeKind::AddUnique {
                        columns,
                        unless_null: Vec::new(),
                    },
                );
            }
            ConstrType::ConstrPrimary => {
                let columns = if c.indexname.is_empty() {
                    string_list(&c.keys)
                } else {
                    state.indexes.get(&c.indexname).cloned().unwrap_or_default()
                };
                state.add_primary_key(at, table, columns);
            }
            ConstrType::ConstrNotnull => {
                for column in string_list(&c.keys) {
                    state.set_not_null(at, table, &column);
                }
            }
            _ => {}
        },
        _ => {}
    }
}

fn pg_alter_type(state: &mut State, at: At, table: &str, column: &str, to: Ty) {
    let known = state.column(table, column).cloned().unwrap_or_default();
    let from = known.ty.as_ref();
    let enum_values = |ty: &Ty| state.enums.get(&ty.name).cloned();
    match (from.and_then(enum_values), enum_values(&to)) {
        (Some(old_values), Some(new_values)) => {
            let removed = missing(&old_values, &new_values);
            if removed.is_empty() {
                // Another enum with every old value: whatever the old code writes still fits.
                state.type_changed(at, table, column, from, &to, false);
            } else {
                let type_name = Some(to.name.clone());
                state.enum_values_removed(at, table, column, type_name, removed);
            }
        }
        _ => state.type_changed(at, table, column, from, &to, narrowed(from, &to)),
    }
    let ty = Some(to);
    state.set_column(table, column, Column { ty, ..known });
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
            .map(pg_raw_type_name)
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
                ConstrType::ConstrDefault
                | ConstrType::ConstrIdentity
                | ConstrType::ConstrGenerated => facts.filled = true,
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

fn pg_copy_from(state: &mut State, at: At, table: &str, select: &protobuf::SelectStmt) {
    let mut sources = Vec::new();
    pg_select_sources(select, &mut sources);
    for from in sorted_names(sources, Some(table)) {
        state.emit(at, table, ChangeKind::CopyFrom { from });
    }
}

fn pg_select_sources(select: &protobuf::SelectStmt, out: &mut Vec<String>) {
    for item in &select.from_clause {
        if let Some(node) = item.node.as_ref() {
            pg_from_item(node, out);
        }
    }
    for side in [&select.larg, &select.rarg].into_iter().flatten() {
        pg_select_sources(side, out);
    }
}

fn pg_from_item(node: &NodeEnum, out: &mut Vec<String>) {
    match node {
        NodeEnum::RangeVar(range) => out.push(range.relname.clone()),
        NodeEnum::JoinExpr(join) => {
            for side in [&join.larg, &join.rarg].into_iter().flatten() {
                if let Some(node) = side.node.as_ref() {
                    pg_from_item(node, out);
                }
            }
        }
        _ => {}
    }
}

/// Column names an expression mentions: unqualified, or qualified by one of `tables`.
/// The columns whose NULL makes a partial index's predicate not true, so a row with NULL there
/// is not in the index: `c IS NOT NULL`, an operator on `c` (`c > 0`, `c = 'x'`: NULL in, NULL
/// out), and the conjuncts of an AND. Anything else (OR, COALESCE, IS NULL) claims none.
fn null_excludes(node: &NodeEnum, table: &str) -> Vec<String> {
    let column = |n: &Option<Box<protobuf::Node>>| match n.as_ref().and_then(|n| n.node.as_ref()) {
        Some(inner @ NodeEnum::ColumnRef(_)) => pg_columns(inner, &[table]),
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

fn pg_columns(node: &NodeEnum, tables: &[&str]) -> Vec<String> {
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
fn pg_table(relation: &Option<protobuf::RangeVar>) -> String {
    relation
        .as_ref()
        .map(|r| r.relname.clone())
        .unwrap_or_default()
}

fn pg_object_name(object: &protobuf::Node) -> String {
    match object.node.as_ref() {
        Some(NodeEnum::List(list)) => last_string(&list.items),
        Some(NodeEnum::String(s)) => s.sval.clone(),
        Some(NodeEnum::TypeName(t)) => last_string(&t.names),
        _ => String::new(),
    }
}

fn string_list(nodes: &[protobuf::Node]) -> Vec<String> {
    postgres::strings(nodes).map(str::to_string).collect()
}

fn last_string(nodes: &[protobuf::Node]) -> String {
    string_list(nodes).pop().unwrap_or_default()
}

fn pg_raw_type_name(type_name: &protobuf::TypeName) -> String {
    last_string(&type_name.names)
}

/// The type as people write it: the catalog's `int8` is shown as `bigint`.
fn pg_type(type_name: &protobuf::TypeName) -> Ty {
    let declared = ColumnType::of(type_name);
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
    let mut mods = declared.mods;
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
    use super::super::tests::*;
    use crate::checks::compat::database::changes::ChangeKind::*;

    #[test]
    fn tables_created_renamed_dropped() {
        let old = "CREATE TABLE orders (id bigint PRIMARY KEY); CREATE TABLE other (id int);";
        let new = "CREATE TABLE IF NOT EXISTS other (id int);
            ALTER TABLE orders RENAME TO purchases;
            DROP TABLE IF EXISTS purchases, other;
            CREATE TABLE fresh (id int);";
        assert_eq!(
            deploy(PG, old, new),
            vec![
                on("orders", RenameTable { to: s("purchases") }),
                on("purchases", DropTable),
                on("other", DropTable),
                on("fresh", CreateTable),
            ]
        );
    }

    #[test]
    fn columns_added_dropped_renamed() {
        let new = "ALTER TABLE orders ADD COLUMN a int NOT NULL;
            ALTER TABLE orders ADD COLUMN b int NOT NULL DEFAULT 0, ADD COLUMN c bigserial NOT NULL;
            ALTER TABLE orders ADD COLUMN d int NOT NULL GENERATED ALWAYS AS IDENTITY, ADD e text UNIQUE;
            ALTER TABLE orders DROP COLUMN IF EXISTS x, DROP COLUMN y;
            ALTER TABLE orders RENAME COLUMN f TO g;";
        assert_eq!(
            deploy(PG, "", new),
            all_on(
                "orders",
                vec![
                    add("a", true),
                    add_filled("b"),
                    add_filled("c"),
                    add_filled("d"),
                    add("e", false),
                    unique(&["e"]),
                    drop_column("x"),
                    drop_column("y"),
                    rename_column("f", "g"),
                ]
            )
        );
    }

    #[test]
    fn not_null_and_checks() {
        let old = "CREATE TABLE orders (id int NOT NULL, note text);";
        let new = "ALTER TABLE orders ALTER COLUMN note SET NOT NULL, ALTER COLUMN id SET NOT NULL;
            ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0 AND orders.currency <> '') NOT VALID;
            ALTER TABLE orders ADD CHECK (length(code) = 3);";
        assert_eq!(
            deploy(PG, old, new),
            all_on(
                "orders",
                vec![
                    not_null("note"),
                    check(
                        &["amount", "currency"],
                        "amount > 0 AND orders.currency <> ''",
                        true
                    ),
                    check(&["code"], "length(code) = 3", false),
                ]
            )
        );
    }

    #[test]
    fn unique_indexes_and_constraints() {
        let old = "CREATE INDEX orders_ref_idx ON orders (ref, shop_id);";
        let new = "CREATE UNIQUE INDEX CONCURRENTLY orders_email ON orders (email, lower(name));
            CREATE INDEX plain ON orders (x);
            ALTER TABLE orders ADD CONSTRAINT u UNIQUE (a, b);
            ALTER TABLE orders ADD CONSTRAINT orders_ref UNIQUE USING INDEX orders_ref_idx;
            ALTER TABLE orders ADD PRIMARY KEY (id);";
        assert_eq!(
            deploy(PG, old, new),
            all_on(
                "orders",
                vec![
                    unique(&["email", "name"]),
                    unique(&["a", "b"]),
                    unique(&["ref", "shop_id"]),
                    not_null("id"),
                    unique(&["id"]),
                ]
            )
        );
    }

    #[test]
    fn type_changes_know_the_type_from_older_files() {
        let old = "CREATE TABLE t (a int, b varchar(64), c character varying(64), d numeric(10,2),
            e numeric(10,2), f text, g integer, h timestamp, i real, j smallint, k numeric(8,2),
            l serial, m int8[]);";
        let new = "ALTER TABLE t ALTER COLUMN a TYPE int8, ALTER COLUMN b TYPE varchar(32),
            ALTER COLUMN c TYPE text, ALTER COLUMN d TYPE numeric(12,2);
            ALTER TABLE t ALTER COLUMN e TYPE numeric(10,3), ALTER COLUMN f TYPE varchar(64),
            ALTER COLUMN g TYPE text USING g::text, ALTER COLUMN h TYPE timestamptz;
            ALTER TABLE t ALTER COLUMN i TYPE double precision, ALTER COLUMN j TYPE numeric,
            ALTER COLUMN k TYPE numeric, ALTER COLUMN z TYPE bigint;
            ALTER TABLE t ALTER COLUMN l TYPE bigint, ALTER COLUMN m TYPE bigint[];";
        let expected = [
            ("a", Some("integer"), "bigint", false),
            ("b", Some("varchar(64)"), "varchar(32)", true),
            ("c", Some("varchar(64)"), "text", false),
            ("d", Some("numeric(10,2)"), "numeric(12,2)", false),
            ("e", Some("numeric(10,2)"), "numeric(10,3)", true),
            ("f", Some("text"), "varchar(64)", true),
            ("g", Some("integer"), "text", true),
            ("h", Some("timestamp"), "timestamptz", false),
            ("i", Some("real"), "double precision", false),
            ("j", Some("smallint"), "numeric", false),
            ("k", Some("numeric(8,2)"), "numeric", false),
            ("z", None, "bigint", true),
            ("l", Some("integer"), "bigint", false),
            ("m", Some("bigint[]"), "bigint[]", false),
        ];
        let expected = expected
            .iter()
            .map(|(column, from, to, narrowed)| on("t", typed(column, *from, to, *narrowed)))
            .collect::<Vec<_>>();
        assert_eq!(deploy(PG, old, new), expected);
    }

    /// Every char(n) value fits varchar(m ≥ n): a UUID column moved from char(36) to
    /// varchar(36) is not a narrowing (issue 18); varchar(35) and char(1) → varchar(0) are.
    #[test]
    fn char_to_a_varchar_as_long_is_a_widening() {
        let old = "CREATE TABLE t (a char(36), b character(36), c char, d char(10));";
        let new = "ALTER TABLE t ALTER COLUMN a TYPE varchar(36), ALTER COLUMN b TYPE varchar(35),
            ALTER COLUMN c TYPE varchar(1), ALTER COLUMN d TYPE char(12);";
        let expected = [
            ("a", "char(36)", "varchar(36)", false),
            ("b", "char(36)", "varchar(35)", true),
            ("c", "char(1)", "varchar(1)", false),
            ("d", "char(10)", "char(12)", false),
        ];
        let expected = expected
            .iter()
            .map(|(column, from, to, narrowed)| on("t", typed(column, Some(from), to, *narrowed)))
            .collect::<Vec<_>>();
        assert_eq!(deploy(PG, old, new), expected);
    }

    #[test]
    fn enum_values_removed() {
        let old = "CREATE TYPE status AS ENUM ('new', 'paid');
            ALTER TYPE status ADD VALUE 'shipped';
            CREATE TABLE orders (id int, state status);
            CREATE TABLE refunds (state public.status);
            CREATE TYPE status_v2 AS ENUM ('new', 'sent');
            CREATE TYPE unused AS ENUM ('a');";
        let new = "ALTER TYPE status RENAME VALUE 'paid' TO 'sent';
            ALTER TYPE unused RENAME VALUE 'a' TO 'b';
            ALTER TABLE orders ALTER COLUMN state TYPE status_v2 USING state::text::status_v2;";
        assert_eq!(
            deploy(PG, old, new),
            vec![
                on("orders", enum_removed("state", Some("status"), &["paid"])),
                on("refunds", enum_removed("state", Some("status"), &["paid"])),
                on(
                    "orders",
                    enum_removed("state", Some("status_v2"), &["shipped"])
                ),
            ]
        );
    }

    #[test]
    fn backfills_and_copies() {
        let new = "UPDATE orders SET total = price * qty, note = lower(note) WHERE total IS NULL;
            UPDATE orders o SET ref = o.legacy_ref || '-' || other.x FROM other;
            INSERT INTO orders_v2 (id, total) SELECT o.id, o.total FROM orders o JOIN shops s ON true;
            INSERT INTO orders_v2 (id) VALUES (1);
            CREATE TABLE orders_copy AS SELECT * FROM orders;";
        assert_eq!(
            deploy(PG, "", new),
            vec![
                on("orders", backfill("total", &["price", "qty"])),
                on("orders", backfill("ref", &["legacy_ref"])),
                on("orders_v2", copy_from("orders")),
                on("orders_v2", copy_from("shops")),
                on("orders_copy", CreateTable),
                on("orders_copy", copy_from("orders")),
            ]
        );
    }

    #[test]
    fn schema_is_dropped_and_quotes_keep_case() {
        let new = "ALTER TABLE public.orders DROP COLUMN a;
            ALTER TABLE \"Orders\" RENAME COLUMN \"Total\" TO total;
            DROP TABLE Public.ITEMS;";
        assert_eq!(
            deploy(PG, "", new),
            vec![
                on("orders", drop_column("a")),
                on("Orders", rename_column("Total", "total")),
                on("items", DropTable),
            ]
        );
    }

    /// (table, in_deploy, table_is_new, line, column)
    type Summary<'a> = (&'a str, bool, bool, Option<u32>, Option<u32>);

    #[test]
    fn clauses_are_positioned_and_new_tables_marked() {
        let old = "CREATE TABLE old_t (id int);";
        let first = "CREATE TABLE fresh (id int);\nALTER TABLE fresh ADD COLUMN a int NOT NULL;";
        let second = "ALTER TABLE fresh DROP COLUMN a;\nALTER TABLE old_t ADD COLUMN b int,\n  DROP COLUMN id;\n-- migrate:down\nDROP TABLE old_t;";
        let found = run(PG, &[(old, false), (first, true), (second, true)]);
        let summary: Vec<Summary> = found
            .iter()
            .map(|c| {
                let l = &c.location;
                let new = c.table_is_new;
                (c.table.as_str(), c.in_deploy, new, l.line, l.column)
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("old_t", false, false, Some(1), Some(1)),
                ("fresh", true, false, Some(1), Some(1)),
                ("fresh", true, true, Some(2), Some(1)),
                ("fresh", true, true, Some(1), Some(1)),
                ("old_t", true, false, Some(2), Some(1)),
                ("old_t", true, false, Some(3), Some(3)),
            ]
        );
        assert_eq!(found[5].location.path, "2.sql");
    }
}
