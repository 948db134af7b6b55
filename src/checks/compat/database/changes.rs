//! Schema changes of this deploy's migrations that old code can notice.
//!
//! During a rolling deploy the pods of the previous release keep serving traffic after the
//! migrations have run, until the last of them is replaced. Whatever a migration changes under
//! them (a dropped or renamed column, a new NOT NULL column their INSERTs do not set, a narrower
//! type, a removed enum value, a new CHECK or UNIQUE rule their writes may break) fails their
//! queries for the length of the rollout. This module is the SQL side of that question: from the
//! migration files it lists every such change, with where it is written. It does no I/O; another
//! module searches the old code for references, and the rules combine both.
//!
//! Every file is followed in migration order, older files (not in this deploy) too, because the
//! schema they build (tables, column types, nullability, enum values, index columns) decides
//! what a later statement changes. Statements that do not parse are skipped: the `migrations`
//! check reports them already.

use crate::checks::migrations::MigrationFile;
use crate::config::Dialect;
use crate::report::Location;
use crate::sql::postgres::{self, Origin, Statement as PgStatement};
use pg_query::protobuf::{self, AlterTableType, ConstrType, ObjectType, a_const::Val};
use pg_query::{NodeEnum, NodeRef};
use sqlparser::ast::{
    AlterTableOperation, AssignmentTarget, ColumnOption, CreateTable, CreateTableLikeKind,
    DataType, EnumMember, Expr, Ident, IndexColumn, ObjectName, ObjectNamePart,
    RenameTableNameKind, SetExpr, Statement as MyStatement, TableConstraint, TableFactor,
    TableObject, TableWithJoins,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// One schema change a migration makes, that code of the previous release may notice.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    /// The table, lower-cased unless it was quoted, without schema qualifier (`public.orders` → `orders`).
    pub table: String,
    /// The statement (or the clause inside an ALTER TABLE, when it can be positioned) in its file.
    pub location: Location,
    /// Whether the file is part of this deploy.
    pub in_deploy: bool,
    /// The table was created by a file of this deploy before this statement: old code cannot use it.
    pub table_is_new: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    CreateTable,
    DropTable,
    RenameTable {
        to: String,
    },
    /// `not_null_without_default`: NOT NULL (or PRIMARY KEY) with no DEFAULT, and not filled by
    /// the database (serial, identity, generated, AUTO_INCREMENT).
    AddColumn {
        column: String,
        not_null_without_default: bool,
    },
    DropColumn {
        column: String,
    },
    RenameColumn {
        column: String,
        to: String,
    },
    /// SET NOT NULL (PG), MySQL MODIFY/CHANGE making a nullable (or unknown) column NOT NULL, or
    /// a new PRIMARY KEY on a column not known to be NOT NULL.
    SetNotNull {
        column: String,
    },
    /// A new CHECK constraint; `columns` are the column names its expression mentions (sorted).
    /// MySQL `NOT ENFORCED` checks are not listed: they never reject a write.
    AddCheck {
        columns: Vec<String>,
        expression: String,
        not_valid: bool,
    },
    /// A new UNIQUE constraint or unique index (CREATE UNIQUE INDEX, ADD UNIQUE, ADD CONSTRAINT …
    /// UNIQUE, ADD PRIMARY KEY, an inline UNIQUE on an added column).
    AddUnique {
        columns: Vec<String>,
    },
    /// ALTER COLUMN … TYPE (PG), MODIFY / CHANGE with another type (MySQL). `from` is the type
    /// known from earlier migrations (None when unknown); `narrowed` is true unless the change is
    /// a known widening, so every value the old code writes still fits. A change to an unrelated
    /// type (integer → text) counts as narrowed too: the old code's values may not convert, or
    /// convert to something it does not read back. Types are shown as people write them:
    /// "bigint", "varchar(64)", "numeric(10,2)".
    TypeChanged {
        column: String,
        from: Option<String>,
        to: String,
        narrowed: bool,
    },
    /// Enum values the column (or the enum type) no longer accepts.
    EnumValuesRemoved {
        column: Option<String>,
        type_name: Option<String>,
        removed: Vec<String>,
    },
    /// `UPDATE t SET column = <expr>` where expr mentions other columns of the same table: a
    /// backfill that makes `column` the replacement of `from_columns` (sorted).
    Backfill {
        column: String,
        from_columns: Vec<String>,
    },
    /// `INSERT INTO t [(…)] SELECT … FROM other` (or `CREATE TABLE t AS SELECT … FROM other`):
    /// t is filled from `from` (a table replacement).
    CopyFrom {
        from: String,
    },
}

/// Every change, from every file in order (older files included, marked in_deploy: false).
pub fn changes(files: &[MigrationFile], dialect: Dialect) -> Vec<Change> {
    let mut state = State {
        fold_case: dialect == Dialect::Mysql,
        ..State::default()
    };
    for file in files {
        let text = up_section(&file.text);
        match dialect {
            Dialect::Postgres => pg_file(&mut state, file, text),
            Dialect::Mysql => mysql_file(&mut state, file, text),
        }
    }
    state.out
}

/// dbmate's `-- migrate:down` section is the rollback, not part of the deploy.
fn up_section(text: &str) -> &str {
    match text.find("\n-- migrate:down") {
        Some(index) => &text[..=index],
        None => text,
    }
}

// ---------------------------------------------------------------------------------------------
// The schema known so far, shared by both dialects

/// A column type: canonical name and modifiers (`varchar(64)` → ("varchar", [64])).
#[derive(Debug, Clone, PartialEq, Default)]
struct Ty {
    name: String,
    mods: Vec<i64>,
    unsigned: bool,
    /// A MySQL ENUM's values (PostgreSQL enum values live in `State::enums`).
    values: Vec<String>,
}

impl std::fmt::Display for Ty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        if self.name == "enum" {
            let values: Vec<String> = self.values.iter().map(|v| format!("'{v}'")).collect();
            write!(f, "({})", values.join(","))?;
        } else if !self.mods.is_empty() {
            let mods: Vec<String> = self.mods.iter().map(i64::to_string).collect();
            write!(f, "({})", mods.join(","))?;
        }
        if self.unsigned {
            f.write_str(" unsigned")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
struct Column {
    ty: Option<Ty>,
    not_null: bool,
}

#[derive(Default)]
struct State {
    /// MySQL table and column names compare case-insensitively (tables on the usual
    /// `lower_case_table_names` setups); PostgreSQL's parser already folds unquoted names.
    fold_case: bool,
    /// table key → column key → what is known of it.
    tables: BTreeMap<String, BTreeMap<String, Column>>,
    /// PostgreSQL enum type → its values.
    enums: HashMap<String, Vec<String>>,
    /// PostgreSQL index name → its columns, for `ADD CONSTRAINT … UNIQUE USING INDEX`.
    indexes: HashMap<String, Vec<String>>,
    /// Keys of tables created by this deploy's files so far.
    new_tables: HashSet<String>,
    out: Vec<Change>,
}

/// Where a change is written.
#[derive(Clone, Copy)]
struct At<'a> {
    path: &'a str,
    in_deploy: bool,
    line: u32,
    column: u32,
}

impl State {
    fn key(&self, name: &str) -> String {
        if self.fold_case {
            name.to_lowercase()
        } else {
            name.to_string()
        }
    }

    fn emit(&mut self, at: At, table: &str, kind: ChangeKind) {
        let table_is_new = self.new_tables.contains(&self.key(table));
        self.out.push(Change {
            kind,
            table: table.to_string(),
            location: Location::new(at.path, at.line, at.column),
            in_deploy: at.in_deploy,
            table_is_new,
        });
    }

    fn column(&self, table: &str, column: &str) -> Option<&Column> {
        self.tables.get(&self.key(table))?.get(&self.key(column))
    }

    fn set_column(&mut self, table: &str, column: &str, info: Column) {
        let (table, column) = (self.key(table), self.key(column));
        self.tables.entry(table).or_default().insert(column, info);
    }

    fn create_table(&mut self, at: At, table: &str, columns: Vec<(String, Column)>) {
        self.emit(at, table, ChangeKind::CreateTable);
        let key = self.key(table);
        let columns = columns
            .into_iter()
            .map(|(c, i)| (self.key(&c), i))
            .collect();
        self.tables.insert(key.clone(), columns);
        if at.in_deploy {
            self.new_tables.insert(key);
        } else {
            self.new_tables.remove(&key);
        }
    }

    fn drop_table(&mut self, at: At, table: &str) {
        self.emit(at, table, ChangeKind::DropTable);
        let key = self.key(table);
        self.tables.remove(&key);
        self.new_tables.remove(&key);
    }

    fn rename_table(&mut self, at: At, table: &str, to: &str) {
        let to_string = to.to_string();
        self.emit(at, table, ChangeKind::RenameTable { to: to_string });
        let (old, new) = (self.key(table), self.key(to));
        if old == new {
            return;
        }
        let columns = self.tables.remove(&old).unwrap_or_default();
        self.tables.insert(new.clone(), columns);
        // Renaming a table this deploy created keeps it new; an old table under a new name is
        // still the old code's table.
        if self.new_tables.remove(&old) {
            self.new_tables.insert(new);
        } else {
            self.new_tables.remove(&new);
        }
    }

    fn rename_column(&mut self, at: At, table: &str, column: &str, to: &str) {
        let kind = ChangeKind::RenameColumn {
            column: column.to_string(),
            to: to.to_string(),
        };
        self.emit(at, table, kind);
        let (table, old, new) = (self.key(table), self.key(column), self.key(to));
        if let Some(columns) = self.tables.get_mut(&table)
            && let Some(info) = columns.remove(&old)
        {
            columns.insert(new, info);
        }
    }

    fn drop_column(&mut self, at: At, table: &str, column: &str) {
        let kind = ChangeKind::DropColumn {
            column: column.to_string(),
        };
        self.emit(at, table, kind);
        let (table, column) = (self.key(table), self.key(column));
        if let Some(columns) = self.tables.get_mut(&table) {
            columns.remove(&column);
        }
    }

    /// SET NOT NULL, unless the column is already known to be NOT NULL (a no-op then).
    fn set_not_null(&mut self, at: At, table: &str, column: &str) {
        let known = self.column(table, column).cloned();
        if known.as_ref().is_some_and(|c| c.not_null) {
            return;
        }
        let kind = ChangeKind::SetNotNull {
            column: column.to_string(),
        };
        self.emit(at, table, kind);
        let ty = known.and_then(|c| c.ty);
        self.set_column(table, column, Column { ty, not_null: true });
    }

    /// A new PRIMARY KEY: unique, and NOT NULL on each of its columns.
    fn add_primary_key(&mut self, at: At, table: &str, columns: Vec<String>) {
        for column in &columns {
            self.set_not_null(at, table, column);
        }
        self.emit(at, table, ChangeKind::AddUnique { columns });
    }
}

/// Whether every value of `from` fits `to` unchanged (both dialects' canonical names).
fn widened(from: &Ty, to: &Ty) -> bool {
    if from == to {
        return true;
    }
    let first = |mods: &[i64]| mods.first().copied();
    match (int_rank(&from.name), int_rank(&to.name)) {
        // An unsigned column holds values above the signed maximum of the same width, and a
        // signed one holds negatives no unsigned column takes.
        (Some(a), Some(b)) => return b > a && (from.unsigned || !to.unsigned),
        (Some(_), None) => return to.name == "numeric" && to.mods.is_empty(),
        _ => {}
    }
    match (from.name.as_str(), to.name.as_str()) {
        ("real" | "float", "double precision" | "double") => true,
        ("varchar", "varchar") => match (first(&from.mods), first(&to.mods)) {
            (_, None) => true,
            (Some(n), Some(m)) => m >= n,
            (None, Some(_)) => false,
        },
        ("text", "varchar") => to.mods.is_empty(),
        ("varchar" | "char", "text" | "mediumtext" | "longtext")
        | ("text", "mediumtext" | "longtext")
        | ("mediumtext", "longtext")
        | ("timestamp", "timestamptz") => true,
        ("numeric", "numeric") | ("decimal", "decimal") => {
            match (from.mods.as_slice(), to.mods.as_slice()) {
                (_, []) => true,
                ([p, s], [p2, s2]) => s2 >= s && p2.saturating_sub(*s2) >= p.saturating_sub(*s),
                _ => false,
            }
        }
        _ => false,
    }
}

fn int_rank(name: &str) -> Option<u8> {
    match name {
        "tinyint" => Some(0),
        "smallint" => Some(1),
        "mediumint" => Some(2),
        "integer" | "int" => Some(3),
        "bigint" => Some(4),
        _ => None,
    }
}

/// Values of `old` missing from `new`, in `old`'s order.
fn missing(old: &[String], new: &[String]) -> Vec<String> {
    old.iter().filter(|v| !new.contains(v)).cloned().collect()
}

/// Sorted, without duplicates, without `except`.
fn sorted_names(names: impl IntoIterator<Item = String>, except: Option<&str>) -> Vec<String> {
    let set: BTreeSet<String> = names
        .into_iter()
        .filter(|n| Some(n.as_str()) != except)
        .collect();
    set.into_iter().collect()
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

// ---------------------------------------------------------------------------------------------
// PostgreSQL

fn pg_file(state: &mut State, file: &MigrationFile, text: &str) {
    for statement in postgres::parse(text) {
        let Ok(node) = &statement.node else {
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
                state.emit(at, &table, ChangeKind::AddUnique { columns });
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
                if !from_columns.is_empty() {
                    let column = target.name.clone();
                    state.emit(
                        at,
                        &table,
                        ChangeKind::Backfill {
                            column,
                            from_columns,
                        },
                    );
                }
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
            let kind = ChangeKind::AddColumn {
                column: column.clone(),
                not_null_without_default: facts.not_null && !facts.filled,
            };
            state.emit(at, table, kind);
            if facts.unique {
                let columns = vec![column.clone()];
                state.emit(at, table, ChangeKind::AddUnique { columns });
            }
            for check in facts.checks {
                let expression = check_expression(clause).unwrap_or_default();
                let columns = sorted_names(pg_columns(check, &[table]), None);
                let kind = ChangeKind::AddCheck {
                    columns,
                    expression,
                    not_valid: false,
                };
                state.emit(at, table, kind);
            }
            let ty = def.type_name.as_ref().map(pg_type);
            state.set_column(
                table,
                &column,
                Column {
                    ty,
                    not_null: facts.not_null,
                },
            );
        }
        (AlterTableType::AtDropColumn, _) => state.drop_column(at, table, &cmd.name),
        (AlterTableType::AtSetNotNull, _) => state.set_not_null(at, table, &cmd.name),
        (AlterTableType::AtDropNotNull, _) => {
            let mut column = state.column(table, &cmd.name).cloned().unwrap_or_default();
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
                let columns = sorted_names(
                    expr.map(|e| pg_columns(e, &[table])).unwrap_or_default(),
                    None,
                );
                let expression = check_expression(clause).unwrap_or_default();
                let not_valid = c.skip_validation;
                state.emit(
                    at,
                    table,
                    ChangeKind::AddCheck {
                        columns,
                        expression,
                        not_valid,
                    },
                );
            }
            ConstrType::ConstrUnique => {
                let columns = if c.indexname.is_empty() {
                    string_list(&c.keys)
                } else {
                    state.indexes.get(&c.indexname).cloned().unwrap_or_default()
                };
                state.emit(at, table, ChangeKind::AddUnique { columns });
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
    let from = known.ty.clone();
    let enum_values = |ty: &Ty| state.enums.get(&ty.name).cloned();
    let (old_values, new_values) = (from.as_ref().and_then(enum_values), enum_values(&to));
    let mut enum_superset = false;
    if let (Some(old_values), Some(new_values)) = (&old_values, &new_values) {
        let removed = missing(old_values, new_values);
        if !removed.is_empty() {
            let kind = ChangeKind::EnumValuesRemoved {
                column: Some(column.to_string()),
                type_name: Some(to.name.clone()),
                removed,
            };
            state.emit(at, table, kind);
            state.set_column(
                table,
                column,
                Column {
                    ty: Some(to),
                    ..known
                },
            );
            return;
        }
        enum_superset = true;
    }
    let narrowed = !(enum_superset || from.as_ref().is_some_and(|f| widened(f, &to)));
    let kind = ChangeKind::TypeChanged {
        column: column.to_string(),
        from: from.as_ref().map(Ty::to_string),
        to: to.to_string(),
        narrowed,
    };
    state.emit(at, table, kind);
    state.set_column(
        table,
        column,
        Column {
            ty: Some(to),
            ..known
        },
    );
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
    nodes
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

fn last_string(nodes: &[protobuf::Node]) -> String {
    string_list(nodes).pop().unwrap_or_default()
}

fn pg_raw_type_name(type_name: &protobuf::TypeName) -> String {
    last_string(&type_name.names)
}

/// The type as people write it: the catalog's `int8` is shown as `bigint`.
fn pg_type(type_name: &protobuf::TypeName) -> Ty {
    let raw = pg_raw_type_name(type_name);
    let name = match raw.as_str() {
        "int" | "int4" | "serial" | "serial4" => "integer",
        "int8" | "bigserial" | "serial8" => "bigint",
        "int2" | "smallserial" | "serial2" => "smallint",
        "float8" => "double precision",
        "float4" => "real",
        "bool" => "boolean",
        "bpchar" => "char",
        "decimal" => "numeric",
        other => other,
    };
    let mut mods: Vec<i64> = type_name
        .typmods
        .iter()
        .filter_map(|m| match m.node.as_ref() {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(Val::Ival(i)) => Some(i64::from(i.ival)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    // numeric(p) is numeric(p,0).
    if name == "numeric" && mods.len() == 1 {
        mods.push(0);
    }
    let array = if type_name.array_bounds.is_empty() {
        ""
    } else {
        "[]"
    };
    Ty {
        name: format!("{name}{array}"),
        mods,
        ..Ty::default()
    }
}

// ---------------------------------------------------------------------------------------------
// MySQL

fn mysql_file(state: &mut State, file: &MigrationFile, text: &str) {
    for tokens in mysql_statements(text) {
        let Some(first) = tokens.iter().find(|t| significant(t)) else {
            continue;
        };
        let at = At {
            path: &file.path,
            in_deploy: file.in_deploy,
            line: to_u32(first.span.start.line),
            column: to_u32(first.span.start.column),
        };
        let mut parser = Parser::new(&MySqlDialect {}).with_tokens_with_locations(tokens.clone());
        let parsed = parser.parse_statement();
        let complete = parser.next_token().token == Token::EOF;
        match parsed {
            Ok(statement) if complete => mysql_statement(state, at, &tokens, statement),
            _ => mysql_alter_by_clause(state, at, &tokens),
        }
    }
}

/// The file's statements as tokens, split at `;`. `DELIMITER` blocks (stored programs) are
/// skipped: their bodies run later, not during the migration. When the tokenizer fails (an
/// unterminated quote), the statements before the error are kept.
fn mysql_statements(text: &str) -> Vec<Vec<TokenWithSpan>> {
    let mut end = text.len();
    let mut tokens = Vec::new();
    for _ in 0..3 {
        match Tokenizer::new(&MySqlDialect {}, &text[..end]).tokenize_with_location() {
            Ok(found) => {
                tokens = found;
                break;
            }
            Err(err) => {
                let line = usize::try_from(err.location.line.max(1)).unwrap_or(usize::MAX);
                let cut = text[..end]
                    .match_indices('\n')
                    .nth(line.saturating_sub(2))
                    .map_or(0, |(i, _)| i);
                let cut = if line <= 1 { 0 } else { cut };
                // The statement holding the error is incomplete: cut back to the last `;`.
                end = text[..cut].rfind(';').map_or(0, |i| i + 1);
            }
        }
    }
    let mut out = Vec::new();
    let mut pending: Vec<TokenWithSpan> = Vec::new();
    let (mut in_block, mut closing) = (false, false);
    for token in tokens {
        if in_block {
            match &token.token {
                Token::Whitespace(_) => {}
                Token::SemiColon if closing => in_block = false,
                other => closing = is_word(other, "DELIMITER"),
            }
            continue;
        }
        if token.token == Token::SemiColon {
            out.push(std::mem::take(&mut pending));
            continue;
        }
        if significant(&token) {
            let mut sig = pending.iter().filter(|t| significant(t));
            if let (Some(first), None) = (sig.next(), sig.next())
                && is_word(&first.token, "DELIMITER")
            {
                in_block = true;
                closing = false;
                pending.clear();
                continue;
            }
        }
        pending.push(token);
    }
    out.push(pending);
    out.retain(|tokens| tokens.iter().any(significant));
    out
}

fn mysql_statement(state: &mut State, at: At, tokens: &[TokenWithSpan], statement: MyStatement) {
    match statement {
        MyStatement::CreateTable(create) => mysql_create_table(state, at, &create),
        MyStatement::AlterTable(alter) => {
            let table = my_table(&alter.name);
            let positions = op_positions(at, tokens, alter.operations.len());
            for (op, op_at) in alter.operations.iter().zip(positions) {
                mysql_alter_op(state, op_at, &table, op);
            }
        }
        MyStatement::CreateIndex(index) if index.unique => {
            let table = my_table(&index.table_name);
            let columns = index_columns(&index.columns, &table);
            state.emit(at, &table, ChangeKind::AddUnique { columns });
        }
        MyStatement::Drop {
            object_type: sqlparser::ast::ObjectType::Table,
            names,
            temporary: false,
            ..
        } => {
            for name in &names {
                state.drop_table(at, &my_table(name));
            }
        }
        MyStatement::RenameTable(renames) => {
            for rename in &renames {
                state.rename_table(at, &my_table(&rename.old_name), &my_table(&rename.new_name));
            }
        }
        MyStatement::Update(update) => {
            let Some((table, alias)) = table_and_alias(&update.table) else {
                return;
            };
            let qualifiers = [table.clone(), alias];
            for assignment in &update.assignments {
                let AssignmentTarget::ColumnName(target) = &assignment.target else {
                    continue;
                };
                let parts: Vec<String> = target
                    .0
                    .iter()
                    .filter_map(ObjectNamePart::as_ident)
                    .map(my_ident)
                    .collect();
                let (column, qualified_elsewhere) = match parts.as_slice() {
                    [column] => (column.clone(), false),
                    [.., qualifier, column] => (column.clone(), !qualifiers.contains(qualifier)),
                    [] => continue,
                };
                if qualified_elsewhere {
                    continue;
                }
                let mentioned = my_columns(&assignment.value, &qualifiers);
                let from_columns: Vec<String> = sorted_names(mentioned, None)
                    .into_iter()
                    .filter(|c| !c.eq_ignore_ascii_case(&column))
                    .collect();
                if !from_columns.is_empty() {
                    state.emit(
                        at,
                        &table,
                        ChangeKind::Backfill {
                            column,
                            from_columns,
                        },
                    );
                }
            }
        }
        MyStatement::Insert(insert) => {
            let TableObject::TableName(name) = &insert.table else {
                return;
            };
            let table = my_table(name);
            if let Some(query) = &insert.source {
                mysql_copy_from(state, at, &table, &query.body);
            }
        }
        _ => {}
    }
}

fn mysql_create_table(state: &mut State, at: At, create: &CreateTable) {
    let table = my_table(&create.name);
    if create.if_not_exists && state.tables.contains_key(&state.key(&table)) {
        return;
    }
    let mut columns: Vec<(String, Column)> = match &create.like {
        Some(CreateTableLikeKind::Plain(like) | CreateTableLikeKind::Parenthesized(like)) => state
            .tables
            .get(&state.key(&my_table(&like.name)))
            .map(|c| c.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    for def in &create.columns {
        let props = Props::of(def.options.iter().map(|o| &o.option));
        let column = Column {
            ty: Some(my_type(&def.data_type)),
            not_null: props.not_null,
        };
        columns.push((my_ident(&def.name), column));
    }
    for constraint in &create.constraints {
        if let TableConstraint::PrimaryKey(pk) = constraint {
            let keys = index_columns(&pk.columns, &table);
            for (name, column) in &mut columns {
                column.not_null |= keys.iter().any(|k| k.eq_ignore_ascii_case(name));
            }
        }
    }
    state.create_table(at, &table, columns);
    if let Some(query) = &create.query {
        mysql_copy_from(state, at, &table, &query.body);
    }
}

fn mysql_alter_op(state: &mut State, at: At, table: &str, op: &AlterTableOperation) {
    match op {
        AlterTableOperation::AddColumn { column_def, .. } => {
            let props = Props::of(column_def.options.iter().map(|o| &o.option));
            let column = my_ident(&column_def.name);
            let kind = ChangeKind::AddColumn {
                column: column.clone(),
                not_null_without_default: props.not_null && !props.filled,
            };
            state.emit(at, table, kind);
            if props.unique {
                let columns = vec![column.clone()];
                state.emit(at, table, ChangeKind::AddUnique { columns });
            }
            for check in &props.checks {
                mysql_check(state, at, table, check);
            }
            let ty = Some(my_type(&column_def.data_type));
            state.set_column(
                table,
                &column,
                Column {
                    ty,
                    not_null: props.not_null,
                },
            );
        }
        AlterTableOperation::DropColumn { column_names, .. } => {
            for column in column_names {
                state.drop_column(at, table, &my_ident(column));
            }
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => {
            state.rename_column(
                at,
                table,
                &my_ident(old_column_name),
                &my_ident(new_column_name),
            );
        }
        AlterTableOperation::ChangeColumn {
            old_name,
            new_name,
            data_type,
            options,
            ..
        } => {
            let (old, new) = (my_ident(old_name), my_ident(new_name));
            let known = state.column(table, &old).cloned();
            if !old.eq_ignore_ascii_case(&new) {
                state.rename_column(at, table, &old, &new);
            }
            mysql_modify(state, at, table, &new, known, data_type, options);
        }
        AlterTableOperation::ModifyColumn {
            col_name,
            data_type,
            options,
            ..
        } => {
            let column = my_ident(col_name);
            let known = state.column(table, &column).cloned();
            mysql_modify(state, at, table, &column, known, data_type, options);
        }
        AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
            TableConstraint::Unique(unique) => {
                let columns = index_columns(&unique.columns, table);
                state.emit(at, table, ChangeKind::AddUnique { columns });
            }
            TableConstraint::PrimaryKey(pk) => {
                let columns = index_columns(&pk.columns, table);
                state.add_primary_key(at, table, columns);
            }
            TableConstraint::Check(check) if check.enforced != Some(false) => {
                mysql_check(state, at, table, &check.expr);
            }
            _ => {}
        },
        AlterTableOperation::RenameTable { table_name } => {
            let (RenameTableNameKind::To(new) | RenameTableNameKind::As(new)) = table_name;
            state.rename_table(at, table, &my_table(new));
        }
        _ => {}
    }
}

/// MODIFY / CHANGE: the whole new definition replaces the old one.
fn mysql_modify(
    state: &mut State,
    at: At,
    table: &str,
    column: &str,
    known: Option<Column>,
    data_type: &DataType,
    options: &[ColumnOption],
) {
    let props = Props::of(options.iter());
    let to = my_type(data_type);
    let from = known.as_ref().and_then(|c| c.ty.clone());
    match &from {
        // MySQL rejects (strict mode) or blanks (otherwise) a value missing from the ENUM;
        // appending or reordering values keeps every value the old code writes valid.
        Some(from) if from.name == "enum" && to.name == "enum" => {
            let removed = missing(&from.values, &to.values);
            if !removed.is_empty() {
                let kind = ChangeKind::EnumValuesRemoved {
                    column: Some(column.to_string()),
                    type_name: None,
                    removed,
                };
                state.emit(at, table, kind);
            }
        }
        Some(from) if *from == to => {}
        _ => {
            let kind = ChangeKind::TypeChanged {
                column: column.to_string(),
                from: from.as_ref().map(Ty::to_string),
                to: to.to_string(),
                narrowed: !from.as_ref().is_some_and(|f| widened(f, &to)),
            };
            state.emit(at, table, kind);
        }
    }
    if props.not_null && !known.as_ref().is_some_and(|c| c.not_null) {
        state.emit(
            at,
            table,
            ChangeKind::SetNotNull {
                column: column.to_string(),
            },
        );
    }
    state.set_column(
        table,
        column,
        Column {
            ty: Some(to),
            not_null: props.not_null,
        },
    );
}

fn mysql_check(state: &mut State, at: At, table: &str, expr: &Expr) {
    let columns = sorted_names(my_columns(expr, &[table.to_string()]), None);
    let expression = expr.to_string();
    state.emit(
        at,
        table,
        ChangeKind::AddCheck {
            columns,
            expression,
            not_valid: false,
        },
    );
}

fn mysql_copy_from(state: &mut State, at: At, table: &str, body: &SetExpr) {
    let mut sources = Vec::new();
    my_select_sources(body, &mut sources);
    let key = state.key(table);
    let sources: Vec<String> = sorted_names(sources, None)
        .into_iter()
        .filter(|s| state.key(s) != key)
        .collect();
    for from in sources {
        state.emit(at, table, ChangeKind::CopyFrom { from });
    }
}

fn my_select_sources(body: &SetExpr, out: &mut Vec<String>) {
    match body {
        SetExpr::Select(select) => {
            for from in &select.from {
                for factor in
                    std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation))
                {
                    if let TableFactor::Table { name, .. } = factor {
                        out.push(my_table(name));
                    }
                }
            }
        }
        SetExpr::Query(query) => my_select_sources(&query.body, out),
        SetExpr::SetOperation { left, right, .. } => {
            my_select_sources(left, out);
            my_select_sources(right, out);
        }
        _ => {}
    }
}

/// An ALTER TABLE sqlparser rejects as a whole (a clause it does not know, such as
/// `CONVERT TO CHARACTER SET`): each comma-separated clause is parsed alone, so the clauses it
/// knows still count.
fn mysql_alter_by_clause(state: &mut State, at: At, tokens: &[TokenWithSpan]) {
    let sig: Vec<&TokenWithSpan> = tokens.iter().filter(|t| significant(t)).collect();
    let mut i = 1;
    while sig
        .get(i)
        .is_some_and(|t| is_word(&t.token, "ONLINE") || is_word(&t.token, "IGNORE"))
    {
        i += 1;
    }
    if !sig.first().is_some_and(|t| is_word(&t.token, "ALTER"))
        || !sig.get(i).is_some_and(|t| is_word(&t.token, "TABLE"))
    {
        return;
    }
    // The name: `t`, `s.t`.
    let mut end = i + 2;
    while sig.get(end).is_some_and(|t| t.token == Token::Period) {
        end += 2;
    }
    let Some(name_tokens) = sig.get(i + 1..end.min(sig.len())) else {
        return;
    };
    let mut header: Vec<TokenWithSpan> = vec![(*sig[0]).clone(), (*sig[i]).clone()];
    header.extend(name_tokens.iter().map(|t| (*t).clone()));
    let rest: Vec<TokenWithSpan> = sig
        .get(end..)
        .unwrap_or(&[])
        .iter()
        .map(|t| (*t).clone())
        .collect();
    for clause in split_commas(&rest) {
        let Some(first) = clause.first() else {
            continue;
        };
        let clause_at = At {
            line: to_u32(first.span.start.line),
            column: to_u32(first.span.start.column),
            ..at
        };
        let mut statement = header.clone();
        statement.extend(clause.iter().cloned());
        let mut parser = Parser::new(&MySqlDialect {}).with_tokens_with_locations(statement);
        if let Ok(MyStatement::AlterTable(alter)) = parser.parse_statement()
            && parser.next_token().token == Token::EOF
        {
            let table = my_table(&alter.name);
            for op in &alter.operations {
                mysql_alter_op(state, clause_at, &table, op);
            }
        }
    }
}

/// Each ALTER operation's position: after the commas outside parentheses, when they match.
fn op_positions<'a>(at: At<'a>, tokens: &[TokenWithSpan], count: usize) -> Vec<At<'a>> {
    let sig: Vec<TokenWithSpan> = tokens.iter().filter(|t| significant(t)).cloned().collect();
    let clauses = split_commas(&sig);
    if clauses.len() != count {
        return vec![at; count];
    }
    clauses
        .iter()
        .enumerate()
        .map(|(index, clause)| match clause.first() {
            Some(first) if index > 0 => At {
                line: to_u32(first.span.start.line),
                column: to_u32(first.span.start.column),
                ..at
            },
            _ => at,
        })
        .collect()
}

/// Split at commas outside parentheses.
fn split_commas(tokens: &[TokenWithSpan]) -> Vec<&[TokenWithSpan]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, token) in tokens.iter().enumerate() {
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// The column attributes of a MySQL column definition that matter here.
#[derive(Default)]
struct Props<'a> {
    not_null: bool,
    /// MySQL fills it: DEFAULT, AUTO_INCREMENT, generated.
    filled: bool,
    unique: bool,
    checks: Vec<&'a Expr>,
}

impl<'a> Props<'a> {
    fn of(options: impl Iterator<Item = &'a ColumnOption>) -> Props<'a> {
        let mut props = Props::default();
        for option in options {
            match option {
                ColumnOption::NotNull | ColumnOption::PrimaryKey(_) => props.not_null = true,
                ColumnOption::Null => props.not_null = false,
                ColumnOption::Default(_) | ColumnOption::Generated { .. } => props.filled = true,
                ColumnOption::DialectSpecific(tokens)
                    if tokens.iter().any(|t| is_word(t, "AUTO_INCREMENT")) =>
                {
                    props.filled = true
                }
                ColumnOption::Unique(_) => props.unique = true,
                ColumnOption::Check(check) if check.enforced != Some(false) => {
                    props.checks.push(&check.expr)
                }
                _ => {}
            }
        }
        props
    }
}

/// Backquoted identifiers keep their case; others are lower-cased.
fn my_ident(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

fn my_table(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(ObjectNamePart::as_ident)
        .map(my_ident)
        .unwrap_or_default()
}

fn table_and_alias(from: &TableWithJoins) -> Option<(String, String)> {
    match &from.relation {
        TableFactor::Table { name, alias, .. } => Some((
            my_table(name),
            alias
                .as_ref()
                .map(|a| my_ident(&a.name))
                .unwrap_or_default(),
        )),
        _ => None,
    }
}

fn index_columns(columns: &[IndexColumn], table: &str) -> Vec<String> {
    columns
        .iter()
        .flat_map(|c| match &c.column.expr {
            Expr::Identifier(ident) => vec![my_ident(ident)],
            other => sorted_names(my_columns(other, &[table.to_string()]), None),
        })
        .collect()
}

/// Words that are part of an expression's syntax, not column names.
const EXPRESSION_WORDS: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "XOR",
    "NULL",
    "IS",
    "TRUE",
    "FALSE",
    "UNKNOWN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "IN",
    "BETWEEN",
    "LIKE",
    "REGEXP",
    "RLIKE",
    "ESCAPE",
    "AS",
    "DIV",
    "MOD",
    "INTERVAL",
    "COLLATE",
    "BINARY",
    "DISTINCT",
    "SEPARATOR",
    "MICROSECOND",
    "SECOND",
    "MINUTE",
    "HOUR",
    "DAY",
    "WEEK",
    "MONTH",
    "QUARTER",
    "YEAR",
    "CURRENT_TIMESTAMP",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "USING",
];

/// Column names an expression mentions (unqualified, or qualified by one of `tables`), read from
/// its tokens: names not followed by `(` (functions), not after AS (CAST types), not syntax.
fn my_columns(expr: &Expr, tables: &[String]) -> Vec<String> {
    let text = expr.to_string();
    let Ok(tokens) = Tokenizer::new(&MySqlDialect {}, &text).tokenize() else {
        return Vec::new();
    };
    let sig: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut out = Vec::new();
    for (i, token) in sig.iter().enumerate() {
        let Token::Word(word) = token else { continue };
        // In MySQL "…" is a string unless ANSI_QUOTES is set.
        if word.quote_style.is_some_and(|q| q != '`') {
            continue;
        }
        let next = sig.get(i + 1).copied();
        if matches!(next, Some(Token::LParen | Token::Period)) {
            continue;
        }
        let name = if word.quote_style.is_some() {
            word.value.clone()
        } else {
            word.value.to_lowercase()
        };
        let previous = i.checked_sub(1).and_then(|p| sig.get(p)).copied();
        if previous == Some(&Token::Period) {
            let qualifier = i.checked_sub(2).and_then(|p| sig.get(p)).copied();
            if let Some(Token::Word(q)) = qualifier {
                let q = if q.quote_style.is_some() {
                    q.value.clone()
                } else {
                    q.value.to_lowercase()
                };
                if tables.contains(&q) {
                    out.push(name);
                }
            }
            continue;
        }
        let after_as = matches!(previous, Some(p) if is_word(p, "AS"));
        let syntax = word.quote_style.is_none()
            && EXPRESSION_WORDS
                .iter()
                .any(|w| word.value.eq_ignore_ascii_case(w));
        if !after_as && !syntax {
            out.push(name);
        }
    }
    out
}

/// The type as written, lower-cased, with the names MySQL treats as the same type merged.
fn my_type(data_type: &DataType) -> Ty {
    if let DataType::Enum(members, _) = data_type {
        let values = members
            .iter()
            .map(|m| match m {
                EnumMember::Name(name) | EnumMember::NamedValue(name, _) => name.clone(),
            })
            .collect();
        return Ty {
            name: "enum".to_string(),
            values,
            ..Ty::default()
        };
    }
    let text = data_type.to_string().to_lowercase();
    let unsigned = text.contains("unsigned");
    let base = text.replace("unsigned", "").replace("zerofill", "");
    let (name, rest) = base.split_once('(').unwrap_or((base.as_str(), ""));
    let mut mods: Vec<i64> = rest
        .split(')')
        .next()
        .unwrap_or("")
        .split(',')
        .filter_map(|m| m.trim().parse().ok())
        .collect();
    let name = match name.trim() {
        "integer" => "int",
        "bool" | "boolean" => "tinyint",
        "character varying" => "varchar",
        "character" => "char",
        "dec" | "numeric" | "fixed" => "decimal",
        "double precision" | "real" => "double",
        other => other,
    }
    .to_string();
    if int_rank(&name).is_some() {
        mods.clear(); // INT(11): a display width, not a range.
    }
    // MySQL's DECIMAL is DECIMAL(10,0), and DECIMAL(p) is DECIMAL(p,0).
    if name == "decimal" {
        match mods.len() {
            0 => mods = vec![10, 0],
            1 => mods.push(0),
            _ => {}
        }
    }
    Ty {
        name,
        mods,
        unsigned,
        values: Vec::new(),
    }
}

fn significant(token: &TokenWithSpan) -> bool {
    !matches!(token.token, Token::Whitespace(_) | Token::EOF)
}

fn is_word(token: &Token, expected: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(expected))
}

fn to_u32(n: u64) -> u32 {
    u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChangeKind::*;

    fn run(dialect: Dialect, files: &[(&str, bool)]) -> Vec<Change> {
        let files: Vec<MigrationFile> = files
            .iter()
            .enumerate()
            .map(|(i, (text, in_deploy))| MigrationFile {
                path: format!("{i}.sql"),
                text: text.to_string(),
                in_deploy: *in_deploy,
            })
            .collect();
        changes(&files, dialect)
    }

    /// (table, kind) of the changes an in-deploy file `new` makes after an older file `old`.
    fn deploy(dialect: Dialect, old: &str, new: &str) -> Vec<(String, ChangeKind)> {
        let all = run(dialect, &[(old, false), (new, true)]);
        all.into_iter()
            .filter(|c| c.in_deploy)
            .map(|c| (c.table, c.kind))
            .collect()
    }

    fn on(table: &str, kind: ChangeKind) -> (String, ChangeKind) {
        (table.to_string(), kind)
    }

    fn s(text: &str) -> String {
        text.to_string()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    fn typed(column: &str, from: Option<&str>, to: &str, narrowed: bool) -> ChangeKind {
        TypeChanged {
            column: s(column),
            from: from.map(s),
            to: s(to),
            narrowed,
        }
    }

    const PG: Dialect = Dialect::Postgres;
    const MY: Dialect = Dialect::Mysql;

    #[test]
    fn pg_tables_created_renamed_dropped() {
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
    fn pg_columns_added_dropped_renamed() {
        let new = "ALTER TABLE orders ADD COLUMN a int NOT NULL;
            ALTER TABLE orders ADD COLUMN b int NOT NULL DEFAULT 0, ADD COLUMN c bigserial NOT NULL;
            ALTER TABLE orders ADD COLUMN d int NOT NULL GENERATED ALWAYS AS IDENTITY, ADD e text UNIQUE;
            ALTER TABLE orders DROP COLUMN IF EXISTS x, DROP COLUMN y;
            ALTER TABLE orders RENAME COLUMN f TO g;";
        let add = |c: &str, nn: bool| AddColumn {
            column: s(c),
            not_null_without_default: nn,
        };
        assert_eq!(
            deploy(PG, "", new),
            vec![
                on("orders", add("a", true)),
                on("orders", add("b", false)),
                on("orders", add("c", false)),
                on("orders", add("d", false)),
                on("orders", add("e", false)),
                on(
                    "orders",
                    AddUnique {
                        columns: names(&["e"])
                    }
                ),
                on("orders", DropColumn { column: s("x") }),
                on("orders", DropColumn { column: s("y") }),
                on(
                    "orders",
                    RenameColumn {
                        column: s("f"),
                        to: s("g")
                    }
                ),
            ]
        );
    }

    #[test]
    fn pg_not_null_and_checks() {
        let old = "CREATE TABLE orders (id int NOT NULL, note text);";
        let new = "ALTER TABLE orders ALTER COLUMN note SET NOT NULL, ALTER COLUMN id SET NOT NULL;
            ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0 AND orders.currency <> '') NOT VALID;
            ALTER TABLE orders ADD CHECK (length(code) = 3);";
        assert_eq!(
            deploy(PG, old, new),
            vec![
                on("orders", SetNotNull { column: s("note") }),
                on(
                    "orders",
                    AddCheck {
                        columns: names(&["amount", "currency"]),
                        expression: s("amount > 0 AND orders.currency <> ''"),
                        not_valid: true,
                    }
                ),
                on(
                    "orders",
                    AddCheck {
                        columns: names(&["code"]),
                        expression: s("length(code) = 3"),
                        not_valid: false,
                    }
                ),
            ]
        );
    }

    #[test]
    fn pg_unique_indexes_and_constraints() {
        let old = "CREATE INDEX orders_ref_idx ON orders (ref, shop_id);";
        let new = "CREATE UNIQUE INDEX CONCURRENTLY orders_email ON orders (email, lower(name));
            CREATE INDEX plain ON orders (x);
            ALTER TABLE orders ADD CONSTRAINT u UNIQUE (a, b);
            ALTER TABLE orders ADD CONSTRAINT orders_ref UNIQUE USING INDEX orders_ref_idx;
            ALTER TABLE orders ADD PRIMARY KEY (id);";
        assert_eq!(
            deploy(PG, old, new),
            vec![
                on(
                    "orders",
                    AddUnique {
                        columns: names(&["email", "name"])
                    }
                ),
                on(
                    "orders",
                    AddUnique {
                        columns: names(&["a", "b"])
                    }
                ),
                on(
                    "orders",
                    AddUnique {
                        columns: names(&["ref", "shop_id"])
                    }
                ),
                on("orders", SetNotNull { column: s("id") }),
                on(
                    "orders",
                    AddUnique {
                        columns: names(&["id"])
                    }
                ),
            ]
        );
    }

    #[test]
    fn pg_type_changes_know_the_type_from_older_files() {
        let old = "CREATE TABLE t (a int, b varchar(64), c character varying(64), d numeric(10,2),
            e numeric(10,2), f text, g integer, h timestamp, i real, j smallint, k numeric(8,2));";
        let new = "ALTER TABLE t ALTER COLUMN a TYPE int8, ALTER COLUMN b TYPE varchar(32),
            ALTER COLUMN c TYPE text, ALTER COLUMN d TYPE numeric(12,2);
            ALTER TABLE t ALTER COLUMN e TYPE numeric(10,3), ALTER COLUMN f TYPE varchar(64),
            ALTER COLUMN g TYPE text USING g::text, ALTER COLUMN h TYPE timestamptz;
            ALTER TABLE t ALTER COLUMN i TYPE double precision, ALTER COLUMN j TYPE numeric,
            ALTER COLUMN k TYPE numeric, ALTER COLUMN z TYPE bigint;";
        assert_eq!(
            deploy(PG, old, new),
            vec![
                on("t", typed("a", Some("integer"), "bigint", false)),
                on("t", typed("b", Some("varchar(64)"), "varchar(32)", true)),
                on("t", typed("c", Some("varchar(64)"), "text", false)),
                on(
                    "t",
                    typed("d", Some("numeric(10,2)"), "numeric(12,2)", false)
                ),
                on(
                    "t",
                    typed("e", Some("numeric(10,2)"), "numeric(10,3)", true)
                ),
                on("t", typed("f", Some("text"), "varchar(64)", true)),
                on("t", typed("g", Some("integer"), "text", true)),
                on("t", typed("h", Some("timestamp"), "timestamptz", false)),
                on("t", typed("i", Some("real"), "double precision", false)),
                on("t", typed("j", Some("smallint"), "numeric", false)),
                on("t", typed("k", Some("numeric(8,2)"), "numeric", false)),
                on("t", typed("z", None, "bigint", true)),
            ]
        );
    }

    #[test]
    fn pg_enum_values_removed() {
        let old = "CREATE TYPE status AS ENUM ('new', 'paid');
            ALTER TYPE status ADD VALUE 'shipped';
            CREATE TABLE orders (id int, state status);
            CREATE TABLE refunds (state public.status);
            CREATE TYPE status_v2 AS ENUM ('new', 'sent');
            CREATE TYPE unused AS ENUM ('a');";
        let new = "ALTER TYPE status RENAME VALUE 'paid' TO 'sent';
            ALTER TYPE unused RENAME VALUE 'a' TO 'b';
            ALTER TABLE orders ALTER COLUMN state TYPE status_v2 USING state::text::status_v2;";
        let removed = |column: &str, type_name: &str, removed: &[&str]| EnumValuesRemoved {
            column: Some(s(column)),
            type_name: Some(s(type_name)),
            removed: names(removed),
        };
        assert_eq!(
            deploy(PG, old, new),
            vec![
                on("orders", removed("state", "status", &["paid"])),
                on("refunds", removed("state", "status", &["paid"])),
                on("orders", removed("state", "status_v2", &["shipped"])),
            ]
        );
    }

    #[test]
    fn pg_backfills_and_copies() {
        let new = "UPDATE orders SET total = price * qty, note = lower(note) WHERE total IS NULL;
            UPDATE orders o SET ref = o.legacy_ref || '-' || other.x FROM other;
            INSERT INTO orders_v2 (id, total) SELECT o.id, o.total FROM orders o JOIN shops s ON true;
            INSERT INTO orders_v2 (id) VALUES (1);
            CREATE TABLE orders_copy AS SELECT * FROM orders;";
        assert_eq!(
            deploy(PG, "", new),
            vec![
                on(
                    "orders",
                    Backfill {
                        column: s("total"),
                        from_columns: names(&["price", "qty"])
                    }
                ),
                on(
                    "orders",
                    Backfill {
                        column: s("ref"),
                        from_columns: names(&["legacy_ref"])
                    }
                ),
                on("orders_v2", CopyFrom { from: s("orders") }),
                on("orders_v2", CopyFrom { from: s("shops") }),
                on("orders_copy", CreateTable),
                on("orders_copy", CopyFrom { from: s("orders") }),
            ]
        );
    }

    #[test]
    fn pg_do_blocks_count() {
        let new = "DO $$\nBEGIN\n  ALTER TABLE orders DROP COLUMN note;\nEND\n$$;";
        let found = run(PG, &[(new, true)]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, DropColumn { column: s("note") });
        assert_eq!(found[0].location, Location::new("0.sql", 3, 3));
    }

    #[test]
    fn pg_unparsable_statement_hides_nothing() {
        let new = "ALTER TABLE orders MODIFY COLUMN x int;\nALTER TABLE orders DROP COLUMN y;";
        let found = run(PG, &[(new, true)]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, DropColumn { column: s("y") });
        assert_eq!(found[0].location, Location::new("0.sql", 2, 1));
    }

    #[test]
    fn pg_schema_is_dropped_and_quotes_keep_case() {
        let new = "ALTER TABLE public.orders DROP COLUMN a;
            ALTER TABLE \"Orders\" RENAME COLUMN \"Total\" TO total;
            DROP TABLE Public.ITEMS;";
        assert_eq!(
            deploy(PG, "", new),
            vec![
                on("orders", DropColumn { column: s("a") }),
                on(
                    "Orders",
                    RenameColumn {
                        column: s("Total"),
                        to: s("total")
                    }
                ),
                on("items", DropTable),
            ]
        );
    }

    /// (table, in_deploy, table_is_new, line, column)
    type Summary<'a> = (&'a str, bool, bool, Option<u32>, Option<u32>);

    #[test]
    fn pg_clauses_are_positioned_and_new_tables_marked() {
        let old = "CREATE TABLE old_t (id int);";
        let first = "CREATE TABLE fresh (id int);\nALTER TABLE fresh ADD COLUMN a int NOT NULL;";
        let second = "ALTER TABLE fresh DROP COLUMN a;\nALTER TABLE old_t ADD COLUMN b int,\n  DROP COLUMN id;\n-- migrate:down\nDROP TABLE old_t;";
        let found = run(PG, &[(old, false), (first, true), (second, true)]);
        let summary: Vec<Summary> = found
            .iter()
            .map(|c| {
                let l = &c.location;
                (
                    c.table.as_str(),
                    c.in_deploy,
                    c.table_is_new,
                    l.line,
                    l.column,
                )
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

    #[test]
    fn mysql_tables_created_renamed_dropped() {
        let old = "CREATE TABLE a (id INT); CREATE TABLE x (id INT);";
        let new = "DROP TABLE a;
            RENAME TABLE x TO y, c TO d;
            ALTER TABLE y RENAME TO z;
            ALTER TABLE z RENAME AS w;
            CREATE TABLE n (id INT);";
        assert_eq!(
            deploy(MY, old, new),
            vec![
                on("a", DropTable),
                on("x", RenameTable { to: s("y") }),
                on("c", RenameTable { to: s("d") }),
                on("y", RenameTable { to: s("z") }),
                on("z", RenameTable { to: s("w") }),
                on("n", CreateTable),
            ]
        );
    }

    #[test]
    fn mysql_columns_added_dropped_renamed() {
        let old = "CREATE TABLE t (g INT NULL);";
        let new = "ALTER TABLE t ADD COLUMN a INT NOT NULL, ADD b INT NOT NULL DEFAULT 0,
                ADD c BIGINT NOT NULL AUTO_INCREMENT, ADD e INT UNIQUE;
            ALTER TABLE t DROP COLUMN x, DROP y;
            ALTER TABLE t RENAME COLUMN f TO f2;
            ALTER TABLE t CHANGE COLUMN g h INT NULL;
            ALTER TABLE t CHANGE h h BIGINT NULL;";
        let add = |c: &str, nn: bool| AddColumn {
            column: s(c),
            not_null_without_default: nn,
        };
        assert_eq!(
            deploy(MY, old, new),
            vec![
                on("t", add("a", true)),
                on("t", add("b", false)),
                on("t", add("c", false)),
                on("t", add("e", false)),
                on(
                    "t",
                    AddUnique {
                        columns: names(&["e"])
                    }
                ),
                on("t", DropColumn { column: s("x") }),
                on("t", DropColumn { column: s("y") }),
                on(
                    "t",
                    RenameColumn {
                        column: s("f"),
                        to: s("f2")
                    }
                ),
                on(
                    "t",
                    RenameColumn {
                        column: s("g"),
                        to: s("h")
                    }
                ),
                on("t", typed("h", Some("int"), "bigint", false)),
            ]
        );
    }

    #[test]
    fn mysql_modify_types_nullability_and_enums() {
        let old = "CREATE TABLE t (a INT(11), b VARCHAR(64) NULL, s ENUM('a','b','c') NOT NULL,
            s2 ENUM('a','b'), n DECIMAL(10,2), f FLOAT, u INT UNSIGNED, v VARCHAR(10) NOT NULL);";
        let new = "ALTER TABLE t MODIFY a BIGINT, MODIFY COLUMN b VARCHAR(32) NOT NULL;
            ALTER TABLE t MODIFY s ENUM('a','b') NOT NULL, MODIFY s2 ENUM('a','b','c');
            ALTER TABLE t MODIFY n DECIMAL(12,2), MODIFY f DOUBLE, MODIFY u INT;
            ALTER TABLE t MODIFY v VARCHAR(10) NOT NULL, MODIFY v TEXT, MODIFY w INT;";
        assert_eq!(
            deploy(MY, old, new),
            vec![
                on("t", typed("a", Some("int"), "bigint", false)),
                on("t", typed("b", Some("varchar(64)"), "varchar(32)", true)),
                on("t", SetNotNull { column: s("b") }),
                on(
                    "t",
                    EnumValuesRemoved {
                        column: Some(s("s")),
                        type_name: None,
                        removed: names(&["c"])
                    }
                ),
                on(
                    "t",
                    typed("n", Some("decimal(10,2)"), "decimal(12,2)", false)
                ),
                on("t", typed("f", Some("float"), "double", false)),
                on("t", typed("u", Some("int unsigned"), "int", true)),
                on("t", typed("v", Some("varchar(10)"), "text", false)),
                on("t", typed("w", None, "int", true)),
            ]
        );
    }

    #[test]
    fn mysql_unique_and_checks() {
        let new = "ALTER TABLE t ADD UNIQUE KEY k (a, b), ADD CONSTRAINT u UNIQUE (c);
            CREATE UNIQUE INDEX i ON t (d);
            CREATE INDEX j ON t (e);
            ALTER TABLE t ADD CONSTRAINT ck CHECK (amount > 0 AND t.`Currency` <> 'x');
            ALTER TABLE t ADD CHECK (x < y) NOT ENFORCED;
            ALTER TABLE t ADD PRIMARY KEY (id);";
        assert_eq!(
            deploy(MY, "", new),
            vec![
                on(
                    "t",
                    AddUnique {
                        columns: names(&["a", "b"])
                    }
                ),
                on(
                    "t",
                    AddUnique {
                        columns: names(&["c"])
                    }
                ),
                on(
                    "t",
                    AddUnique {
                        columns: names(&["d"])
                    }
                ),
                on(
                    "t",
                    AddCheck {
                        columns: names(&["Currency", "amount"]),
                        expression: s("amount > 0 AND t.`Currency` <> 'x'"),
                        not_valid: false,
                    }
                ),
                on("t", SetNotNull { column: s("id") }),
                on(
                    "t",
                    AddUnique {
                        columns: names(&["id"])
                    }
                ),
            ]
        );
    }

    #[test]
    fn mysql_backfills_and_copies() {
        let new = "UPDATE t SET total = price * qty, a = LOWER(a) WHERE total IS NULL;
            UPDATE t SET b = CAST(c AS CHAR), d = CASE WHEN e IS NULL THEN 'x' ELSE d END;
            INSERT INTO t2 SELECT * FROM t;
            INSERT INTO t2 (id) VALUES (1);";
        assert_eq!(
            deploy(MY, "", new),
            vec![
                on(
                    "t",
                    Backfill {
                        column: s("total"),
                        from_columns: names(&["price", "qty"])
                    }
                ),
                on(
                    "t",
                    Backfill {
                        column: s("b"),
                        from_columns: names(&["c"])
                    }
                ),
                on(
                    "t",
                    Backfill {
                        column: s("d"),
                        from_columns: names(&["e"])
                    }
                ),
                on("t2", CopyFrom { from: s("t") }),
            ]
        );
    }

    #[test]
    fn mysql_unparsable_statement_hides_nothing() {
        let new = "ALTER TABLE t FROBNICATE;\nDELIMITER //\nCREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN UPDATE t SET a = b; END //\nDELIMITER ;\nALTER TABLE t CONVERT TO CHARACTER SET utf8mb4,\n  DROP COLUMN x;";
        let found = run(MY, &[(new, true)]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, DropColumn { column: s("x") });
        assert_eq!(found[0].location, Location::new("0.sql", 6, 3));
    }

    #[test]
    fn mysql_quotes_keep_case_and_schema_is_dropped() {
        let new =
            "ALTER TABLE `Orders` DROP COLUMN `Total`;\nALTER TABLE shop.Orders DROP COLUMN X;";
        assert_eq!(
            deploy(MY, "", new),
            vec![
                on("Orders", DropColumn { column: s("Total") }),
                on("orders", DropColumn { column: s("x") }),
            ]
        );
    }

    #[test]
    fn mysql_new_tables_are_marked() {
        let found = run(
            MY,
            &[
                ("CREATE TABLE old_t (id INT);", false),
                (
                    "CREATE TABLE `N` (id INT);\nALTER TABLE n DROP id;\nALTER TABLE old_t DROP id;",
                    true,
                ),
            ],
        );
        let new: Vec<bool> = found.iter().map(|c| c.table_is_new).collect();
        assert_eq!(new, vec![false, false, true, false]);
    }

    #[test]
    fn garbage_neither_panics_nor_invents_changes() {
        let inputs = [
            "ALTER TABLE",
            "ALTER TABLE t ADD CONSTRAINT c CHECK",
            "'unterminated; DROP TABLE x;",
            "DELIMITER //",
            "UPDATE",
            "é, é; ALTER TABLE é ,",
            "ALTER TABLE t ADD c int CHECK (",
        ];
        for input in inputs {
            for dialect in [PG, MY] {
                assert_eq!(run(dialect, &[(input, true)]), Vec::new(), "{input}");
            }
        }
    }
}
