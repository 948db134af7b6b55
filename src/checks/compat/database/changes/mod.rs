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
//!
//! This module holds what both dialects share: the changes, the schema known so far and when a
//! type change is a widening; `postgres` and `mysql` read their dialect's statements into it.

use crate::config::Dialect;
use crate::report::Location;
use crate::sql::files::MigrationFile;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

mod mysql;
mod postgres;

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
        /// The database fills it when an INSERT leaves it out (DEFAULT, serial, identity,
        /// generated, AUTO_INCREMENT); otherwise rows the old code writes hold NULL there.
        filled: bool,
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
    /// DROP NOT NULL (PG), MySQL MODIFY/CHANGE making a NOT NULL column nullable: the new code
    /// may write NULLs that old pods then read.
    DropNotNull {
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
        /// A partial index's columns whose NULL keeps a row out of it (`WHERE c IS NOT NULL`,
        /// `WHERE c > 0`, and conjunctions of those): such a row is never checked.
        unless_null: Vec<String>,
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
/// Every change, from every file in order (older files included, marked in_deploy: false).
pub fn changes(files: &[MigrationFile], dialect: Dialect) -> Vec<Change> {
    changes_and_unread(files, dialect).0
}

/// [`changes`], and how many statements of this deploy's files could not be read (they are not
/// judged, and the summary must say so rather than call the deploy clean).
pub fn changes_and_unread(files: &[MigrationFile], dialect: Dialect) -> (Vec<Change>, usize) {
    let mut state = State {
        fold_case: dialect == Dialect::Mysql,
        ..State::default()
    };
    for file in files {
        let text = crate::sql::up_section(&file.text);
        match dialect {
            Dialect::Postgres => postgres::file(&mut state, file, text),
            Dialect::Mysql => mysql::file(&mut state, file, text),
        }
    }
    (state.out, state.unread)
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
    /// Statements of this deploy's files that could not be read.
    unread: usize,
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

    /// A new column; `filled`: the database fills it when an INSERT leaves it out (DEFAULT,
    /// serial, identity, generated, AUTO_INCREMENT); `unique`: an inline UNIQUE.
    fn add_column(
        &mut self,
        at: At,
        table: &str,
        column: &str,
        info: Column,
        filled: bool,
        unique: bool,
    ) {
        let kind = ChangeKind::AddColumn {
            column: column.to_string(),
            not_null_without_default: info.not_null && !filled,
            filled,
        };
        self.emit(at, table, kind);
        if unique {
            let columns = vec![column.to_string()];
            self.emit(
                at,
                table,
                ChangeKind::AddUnique {
                    columns,
                    unless_null: Vec::new(),
                },
            );
        }
        self.set_column(table, column, info);
    }

    /// A new CHECK on the columns its expression mentions.
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

    /// `column` is set from `from_columns` (sorted), when there are any.
    fn backfill(&mut self, at: At, table: &str, column: String, from_columns: Vec<String>) {
        if !from_columns.is_empty() {
            let kind = ChangeKind::Backfill {
                column,
                from_columns,
            };
            self.emit(at, table, kind);
        }
    }

    /// The column's type changes from `from` (None: not known) to `to`.
    fn type_changed(
        &mut self,
        at: At,
        table: &str,
        column: &str,
        from: Option<&Ty>,
        to: &Ty,
        narrowed: bool,
    ) {
        let kind = ChangeKind::TypeChanged {
            column: column.to_string(),
            from: from.map(Ty::to_string),
            to: to.to_string(),
            narrowed,
        };
        self.emit(at, table, kind);
    }

    /// The column (of enum type `type_name`, a PostgreSQL enum) no longer accepts `removed`.
    fn enum_values_removed(
        &mut self,
        at: At,
        table: &str,
        column: &str,
        type_name: Option<String>,
        removed: Vec<String>,
    ) {
        let kind = ChangeKind::EnumValuesRemoved {
            column: Some(column.to_string()),
            type_name,
            removed,
        };
        self.emit(at, table, kind);
    }

    /// A new PRIMARY KEY: unique, and NOT NULL on each of its columns.
    fn add_primary_key(&mut self, at: At, table: &str, columns: Vec<String>) {
        for column in &columns {
            self.set_not_null(at, table, column);
        }
        self.emit(
            at,
            table,
            ChangeKind::AddUnique {
                columns,
                unless_null: Vec::new(),
            },
        );
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
        // char(n) holds at most n characters (char alone is char(1) in both dialects), so
        // varchar(m ≥ n) or char(m ≥ n) holds every value the old code wrote: PostgreSQL drops
        // char's trailing pad blanks in the cast, MySQL never returns them.
        ("char", "varchar" | "char") => {
            let held = first(&from.mods).unwrap_or(1);
            match first(&to.mods) {
                Some(m) => m >= held,
                None => to.name == "varchar" || held <= 1,
            }
        }
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

/// A type change counts as narrowed unless the type it changes from is known and `to` widens it.
fn narrowed(from: Option<&Ty>, to: &Ty) -> bool {
    !from.is_some_and(|f| widened(f, to))
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

/// What the dialects' tests share: running migrations, and the changes written short.
#[cfg(test)]
mod tests {
    use super::*;
    use ChangeKind::*;

    pub(super) const PG: Dialect = Dialect::Postgres;
    pub(super) const MY: Dialect = Dialect::Mysql;

    /// Every change of these files (text, in_deploy), named `0.sql`, `1.sql`, … in order.
    pub(super) fn run(dialect: Dialect, files: &[(&str, bool)]) -> Vec<Change> {
        let files: Vec<MigrationFile> = files
            .iter()
            .enumerate()
            .map(|(i, (text, in_deploy))| MigrationFile {
                path: format!("{i}.sql"),
                text: text.to_string(),
                in_deploy: *in_deploy,
                transaction: None,
            })
            .collect();
        changes(&files, dialect)
    }

    /// (table, kind) of the changes an in-deploy file `new` makes after an older file `old`.
    pub(super) fn deploy(dialect: Dialect, old: &str, new: &str) -> Vec<(String, ChangeKind)> {
        let all = run(dialect, &[(old, false), (new, true)]);
        all.into_iter()
            .filter(|c| c.in_deploy)
            .map(|c| (c.table, c.kind))
            .collect()
    }

    pub(super) fn on(table: &str, kind: ChangeKind) -> (String, ChangeKind) {
        (table.to_string(), kind)
    }

    /// The same table for each change.
    pub(super) fn all_on(table: &str, kinds: Vec<ChangeKind>) -> Vec<(String, ChangeKind)> {
        kinds.into_iter().map(|kind| on(table, kind)).collect()
    }

    pub(super) fn s(text: &str) -> String {
        text.to_string()
    }

    pub(super) fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    pub(super) fn add(column: &str, not_null_without_default: bool) -> ChangeKind {
        AddColumn {
            column: s(column),
            not_null_without_default,
            filled: false,
        }
    }

    /// A column the database fills (DEFAULT, serial, identity, AUTO_INCREMENT).
    pub(super) fn add_filled(column: &str) -> ChangeKind {
        AddColumn {
            column: s(column),
            not_null_without_default: false,
            filled: true,
        }
    }

    pub(super) fn drop_column(column: &str) -> ChangeKind {
        DropColumn { column: s(column) }
    }

    pub(super) fn rename_column(column: &str, to: &str) -> ChangeKind {
        RenameColumn {
            column: s(column),
            to: s(to),
        }
    }

    pub(super) fn not_null(column: &str) -> ChangeKind {
        SetNotNull { column: s(column) }
    }

    pub(super) fn unique(columns: &[&str]) -> ChangeKind {
        AddUnique {
            columns: names(columns),
            unless_null: Vec::new(),
        }
    }

    pub(super) fn check(columns: &[&str], expression: &str, not_valid: bool) -> ChangeKind {
        AddCheck {
            columns: names(columns),
            expression: s(expression),
            not_valid,
        }
    }

    pub(super) fn typed(column: &str, from: Option<&str>, to: &str, narrowed: bool) -> ChangeKind {
        TypeChanged {
            column: s(column),
            from: from.map(s),
            to: s(to),
            narrowed,
        }
    }

    pub(super) fn enum_removed(
        column: &str,
        type_name: Option<&str>,
        removed: &[&str],
    ) -> ChangeKind {
        EnumValuesRemoved {
            column: Some(s(column)),
            type_name: type_name.map(s),
            removed: names(removed),
        }
    }

    pub(super) fn backfill(column: &str, from_columns: &[&str]) -> ChangeKind {
        Backfill {
            column: s(column),
            from_columns: names(from_columns),
        }
    }

    pub(super) fn copy_from(from: &str) -> ChangeKind {
        CopyFrom { from: s(from) }
    }

    /// One change alone in a file, at (line, column): statements in DO blocks count, and one
    /// statement the parser rejects (or a `DELIMITER` block) hides nothing after it.
    #[test]
    fn one_change_is_found_where_it_is_written() {
        let cases = [
            (
                PG,
                "DO $$\nBEGIN\n  ALTER TABLE orders DROP COLUMN note;\nEND\n$$;",
                "note",
                (3, 3),
            ),
            (
                PG,
                "ALTER TABLE orders MODIFY COLUMN x int;\nALTER TABLE orders DROP COLUMN y;",
                "y",
                (2, 1),
            ),
            (
                MY,
                "ALTER TABLE t FROBNICATE;\nDELIMITER //\nCREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN UPDATE t SET a = b; END //\nDELIMITER ;\nALTER TABLE t CONVERT TO CHARACTER SET utf8mb4,\n  DROP COLUMN x;",
                "x",
                (6, 3),
            ),
        ];
        for (dialect, text, column, (line, col)) in cases {
            let found: Vec<(ChangeKind, Location)> = run(dialect, &[(text, true)])
                .into_iter()
                .map(|c| (c.kind, c.location))
                .collect();
            let expected = (drop_column(column), Location::new("0.sql", line, col));
            assert_eq!(found, vec![expected], "{text}");
        }
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
