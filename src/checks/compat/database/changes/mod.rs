//! Schema changes of this deploy's migrations that old code can notice, each with its file.
//!
//! The changes themselves are facts of the shared SQL model ([`crate::sql::changes`]): the walk
//! that writes the `migrations` facts writes them too, statement by statement over the same
//! schema (`sql::followed`, once per run and set), older files (not in this deploy)
//! included, because the schema they build (column types, nullability, enum values, index
//! columns) decides what a later statement changes. This module only gathers them per file and
//! counts the statements of this deploy that could not be read.

use crate::config::Dialect;
use crate::report::Location;
pub use crate::sql::changes::ChangeKind;
use crate::sql::changes::SchemaChange;
use crate::sql::files::MigrationFile;
use crate::sql::followed::{FollowSettings, SetFacts, follow_files};
use crate::sql::mysql::facts::Event;
use crate::sql::postgres::operations::Step;

#[cfg(test)]
mod mysql;
#[cfg(test)]
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
    /// The table was created by this deploy before this statement: old code cannot use it.
    pub table_is_new: bool,
}

impl Change {
    fn of(change: &SchemaChange, file: &MigrationFile) -> Change {
        Change {
            kind: change.kind.clone(),
            table: change.table.clone(),
            location: Location::new(&file.path, change.line, change.column),
            in_deploy: file.in_deploy,
            table_is_new: change.table_is_new,
        }
    }
}

/// Every change, from every file in order (older files included, marked in_deploy: false), the
/// files' `in_deploy` taken as chosen by a base: the files followed here, for tests and
/// benchmarks (a run reads the set's facts the context followed once).
pub fn changes(files: &[MigrationFile], dialect: Dialect) -> Vec<Change> {
    let facts = follow_files(files, dialect, FollowSettings::of(None, true));
    changes_and_unread(files, &facts).0
}

/// The changes of a set's followed facts ([`crate::sql::followed`]; `files`: the set's files,
/// in the same order), and how many statements of this deploy's files could not be read (they
/// are not judged, and the summary must say so rather than call the deploy clean).
///
/// They do not depend on the settings the facts were followed with (the runner's transactions
/// and the server version decide locks, not schema changes); whether a base chose the files
/// does: without one only a table created in the same file counts as new, since an earlier
/// file's table has long existed in production.
pub fn changes_and_unread(files: &[MigrationFile], facts: &SetFacts) -> (Vec<Change>, usize) {
    let (mut out, mut unread) = (Vec::new(), 0);
    match facts {
        SetFacts::Postgres(facts) => {
            for (file, facts) in files.iter().zip(facts) {
                if file.in_deploy {
                    unread += facts.unread;
                }
                for step in &facts.steps {
                    if let Step::Statement(statement) = step {
                        out.extend(statement.changes.iter().map(|c| Change::of(c, file)));
                    }
                }
            }
        }
        SetFacts::Mysql(events) => {
            for (file, events) in files.iter().zip(events) {
                for event in events {
                    let Event::Statement(statement) = event else {
                        continue;
                    };
                    if file.in_deploy && statement.unparsed.is_some() {
                        unread += 1;
                    }
                    out.extend(statement.schema_changes.iter().map(|c| Change::of(c, file)));
                }
            }
        }
    }
    (out, unread)
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

    /// Statements of this deploy that could not be read are counted (never judged as clean),
    /// as the migrations check reports them: the same walk decides, in both dialects.
    #[test]
    fn unread_statements_of_this_deploy_are_counted() {
        let file = |text: &str, in_deploy: bool| MigrationFile {
            path: "0.sql".to_string(),
            text: text.to_string(),
            in_deploy,
            transaction: None,
        };
        let cases = [
            (
                PG,
                "ALTER TABLE orders MODIFY COLUMN x int;\nALTER TABLE orders DROP COLUMN y;",
            ),
            (
                MY,
                "CREATE TABLE t (id INT);\nALTER TABLE t FROBNICATE;\nALTER TABLE u FROBNICATE;\nALTER TABLE u DROP COLUMN y;",
            ),
        ];
        for (dialect, text) in cases {
            let followed = |files: &[MigrationFile]| {
                let facts = follow_files(files, dialect, FollowSettings::of(None, true));
                changes_and_unread(files, &facts)
            };
            let (changes, unread) = followed(&[file(text, true)]);
            assert_eq!(unread, 1, "{text}");
            assert_eq!(changes.last().map(|c| &c.kind), Some(&drop_column("y")));
            let (_, unread) = followed(&[file(text, false)]);
            assert_eq!(unread, 0, "older files are not this deploy's: {text}");
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
