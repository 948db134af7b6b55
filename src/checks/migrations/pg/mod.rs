//! PostgreSQL rules of the `migrations` check. The facts come first, computed once from the
//! files by [`crate::sql::postgres::follow`] (operations, locks, long work, transaction); each
//! rule is then a file here holding its `declare_rule!` (the docs `gonogo explain` prints) and a
//! `check` over those facts. This module runs them in order and writes their findings.
//!
//! Adding a rule: its file here (declaration, docs, `check`), one line in [`OPERATION_RULES`],
//! one in the check's `RULES` list, and its fixtures.

mod add_check_constraint;
mod add_column_generated_stored;
mod add_column_serial;
mod add_column_volatile_default;
mod add_foreign_key;
mod add_index_not_concurrent;
mod add_unique_constraint;
mod alter_column_type;
mod concurrently_in_transaction;
mod concurrently_on_partitioned_table;
mod drop_index_not_concurrent;
mod enum_value_used_in_transaction;
mod lock_accumulation;
mod lock_table;
mod missing_lock_timeout;
mod refresh_matview_not_concurrent;
mod reindex_not_concurrent;
mod set_not_null;
mod table_rewrite;
mod truncate;
mod unbatched_backfill;
mod validate_in_same_transaction;

pub use add_check_constraint::ADD_CHECK_CONSTRAINT;
pub use add_column_generated_stored::ADD_COLUMN_GENERATED_STORED;
pub use add_column_serial::ADD_COLUMN_SERIAL;
pub use add_column_volatile_default::ADD_COLUMN_VOLATILE_DEFAULT;
pub use add_foreign_key::ADD_FOREIGN_KEY;
pub use add_index_not_concurrent::ADD_INDEX_NOT_CONCURRENT;
pub use add_unique_constraint::ADD_UNIQUE_CONSTRAINT;
pub use alter_column_type::ALTER_COLUMN_TYPE;
pub use concurrently_in_transaction::CONCURRENTLY_IN_TRANSACTION;
pub use concurrently_on_partitioned_table::CONCURRENTLY_ON_PARTITIONED_TABLE;
pub use drop_index_not_concurrent::DROP_INDEX_NOT_CONCURRENT;
pub use enum_value_used_in_transaction::ENUM_VALUE_USED_IN_TRANSACTION;
pub use lock_accumulation::LOCK_ACCUMULATION;
pub use lock_table::LOCK_TABLE;
pub use missing_lock_timeout::MISSING_LOCK_TIMEOUT;
pub use refresh_matview_not_concurrent::REFRESH_MATVIEW_NOT_CONCURRENT;
pub use reindex_not_concurrent::REINDEX_NOT_CONCURRENT;
pub use set_not_null::SET_NOT_NULL;
pub use table_rewrite::TABLE_REWRITE;
pub use truncate::TRUNCATE;
pub use unbatched_backfill::UNBATCHED_BACKFILL;
pub use validate_in_same_transaction::VALIDATE_IN_SAME_TRANSACTION;

/// The live part names lock modes the same way.
pub use crate::sql::postgres::lock_name;

use super::{MigrationFile, Settings, UNPARSED_STATEMENT, compat};
use crate::checks::Rule;
use crate::report::{Finding, Location, Severity};
use crate::sql::postgres::operations::{FileFacts, Operation, Origin, StatementFacts, Step};
use crate::sql::postgres::{FollowOptions, follow};

/// The rules judged on each operation, in this order: for one `ADD COLUMN` the rewrite rules come
/// before the NOT NULL rule and the inline constraint rules, and only one of each group fires.
const OPERATION_RULES: &[fn(&Facts) -> Option<Draft>] = &[
    concurrently_in_transaction::check,
    add_index_not_concurrent::check,
    add_column_serial::check,
    add_column_generated_stored::check,
    add_column_volatile_default::check,
    compat::postgres_add_column_not_null,
    add_foreign_key::check,
    add_unique_constraint::check,
    alter_column_type::check,
    set_not_null::check,
    add_check_constraint::check,
    validate_in_same_transaction::check,
    compat::postgres_drop_or_rename,
    table_rewrite::check,
    truncate::check,
    lock_table::check,
    reindex_not_concurrent::check,
    drop_index_not_concurrent::check,
    refresh_matview_not_concurrent::check,
    unbatched_backfill::check,
];

/// What an operation rule sees: the operation, its statement (text, position, transaction,
/// locks), and the server version the migrations run on.
pub struct Facts<'a> {
    pub op: &'a Operation,
    pub statement: &'a StatementFacts,
    pub postgres_version: u32,
}

/// A rule's verdict on one statement, before it becomes a finding of a file.
pub struct Draft {
    rule: &'static Rule,
    /// The table at risk, for the summary.
    table: String,
    message: String,
    fix: String,
    /// gonogo could not tell (the type before a type change is unknown): `warn`, and the finding
    /// is written as it is, without the nesting note or the summary's table.
    unsure: bool,
}

impl Draft {
    pub fn new(rule: &'static Rule, table: &str, message: String, fix: String) -> Draft {
        Draft {
            rule,
            table: table.to_string(),
            message,
            fix,
            unsure: false,
        }
    }

    pub fn unsure(rule: &'static Rule, table: &str, message: String, fix: String) -> Draft {
        Draft {
            unsure: true,
            ..Draft::new(rule, table, message, fix)
        }
    }
}

pub struct Analysis {
    pub findings: Vec<Finding>,
    /// Tables with a blocking finding, and why, in order of first appearance.
    pub at_risk: Vec<(String, Vec<&'static str>)>,
}

/// `deploy_is_known`: a base ref selected this deploy's files (see
/// [`crate::sql::postgres::schema::Schema`]).
pub fn analyze(files: &[MigrationFile], settings: &Settings, deploy_is_known: bool) -> Analysis {
    let options = FollowOptions {
        transaction: settings.transaction,
        postgres_version: settings.postgres_version,
        deploy_is_known,
    };
    let mut writer = Writer {
        settings,
        findings: Vec::new(),
        at_risk: Vec::new(),
        partitioned: concurrently_on_partitioned_table::PartitionedTables::default(),
    };
    for file in follow(files, options) {
        writer.file(&file);
    }
    Analysis {
        findings: writer.findings,
        at_risk: writer.at_risk,
    }
}

/// Runs the rules over the facts and writes their findings, for the files of this deploy.
struct Writer<'a> {
    settings: &'a Settings,
    findings: Vec<Finding>,
    at_risk: Vec<(String, Vec<&'static str>)>,
    /// Partitioned tables, followed across files (older migrations create them).
    partitioned: concurrently_on_partitioned_table::PartitionedTables,
}

impl Writer<'_> {
    fn file(&mut self, file: &FileFacts) {
        let mut lock_timeout = missing_lock_timeout::MissingLockTimeout::default();
        let mut accumulation = lock_accumulation::LockAccumulation::default();
        let mut enum_values = enum_value_used_in_transaction::EnumValuesAdded::default();
        for step in &file.steps {
            let statement = match step {
                Step::Commit { held } => {
                    enum_values.commit();
                    if let Some((index, evidence)) = accumulation.commit(held)
                        && let Some(finding) = self.findings.get_mut(index)
                    {
                        finding.evidence = Some(evidence);
                    }
                    continue;
                }
                Step::Statement(statement) => statement,
            };
            let operations = match &statement.operations {
                Ok(operations) => operations,
                Err(reason) => {
                    if file.in_deploy {
                        self.findings.push(
                            UNPARSED_STATEMENT
                                .finding(format!("gonogo cannot analyse this statement: {reason}"))
                                .at(Location::new(&file.path, statement.line, statement.column))
                                .with_evidence(first_line(&statement.text))
                                .with_fix("fix the SQL, or check this statement's locks by hand and waive it with a reason"),
                        );
                    }
                    continue;
                }
            };
            for op in operations {
                let facts = Facts {
                    op,
                    statement,
                    postgres_version: self.settings.postgres_version,
                };
                for rule in OPERATION_RULES {
                    if let Some(draft) = rule(&facts) {
                        self.write(file, statement, draft);
                    }
                }
            }
            if let Some(draft) = lock_timeout.check(statement, &file.path) {
                self.write(file, statement, draft);
            }
            if let Some(draft) = accumulation.check(statement)
                && let Some(index) = self.write(file, statement, draft)
            {
                accumulation.reported(index);
            }
            if let Some(draft) = enum_values.check(statement, self.settings.postgres_version) {
                self.write(file, statement, draft);
            }
            if let Some(draft) = self.partitioned.check(statement) {
                self.write(file, statement, draft);
            }
        }
    }

    /// The finding's index, when the file is part of this deploy.
    fn write(
        &mut self,
        file: &FileFacts,
        statement: &StatementFacts,
        draft: Draft,
    ) -> Option<usize> {
        if !file.in_deploy {
            return None;
        }
        let mut finding = draft
            .rule
            .finding(draft.message)
            .at(Location::new(&file.path, statement.line, statement.column))
            .with_fix(draft.fix);
        if draft.unsure {
            finding.severity = Severity::Warn;
            self.findings.push(finding);
            return Some(self.findings.len() - 1);
        }
        match &statement.origin {
            Origin::DoBlock => finding.message.push_str(" (inside a DO block)"),
            Origin::Function(called) => finding
                .message
                .push_str(&format!(" (inside function {called})")),
            Origin::TopLevel => {}
        }
        if self.settings.old_code_judged_by_compat {
            compat::defer_to_compat(&mut finding);
        }
        if finding.severity == Severity::Fail {
            let why = short_reason(draft.rule.id.trim_start_matches("migrations/"));
            match self.at_risk.iter_mut().find(|(t, _)| *t == draft.table) {
                Some((_, reasons)) if !reasons.contains(&why) => reasons.push(why),
                Some(_) => {}
                None => self.at_risk.push((draft.table, vec![why])),
            }
        }
        self.findings.push(finding);
        Some(self.findings.len() - 1)
    }
}

/// What the summary says a table is at risk of.
fn short_reason(rule: &str) -> &'static str {
    match rule {
        "pg-add-column-volatile-default"
        | "pg-add-column-serial"
        | "pg-add-column-generated-stored"
        | "pg-alter-column-type"
        | "pg-table-rewrite" => "rewrite",
        "pg-set-not-null"
        | "pg-add-check-constraint"
        | "pg-add-foreign-key"
        | "pg-validate-in-same-transaction" => "scan",
        "pg-add-index-not-concurrent"
        | "pg-add-unique-constraint"
        | "pg-reindex-not-concurrent" => "index build",
        "pg-unbatched-backfill" => "backfill",
        "pg-concurrently-in-transaction" => "fails in a transaction",
        "pg-enum-value-used-in-transaction" | "pg-concurrently-on-partitioned-table" => {
            "cannot succeed"
        }
        _ => "breaking change",
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() > 160 {
        format!("{}…", line.chars().take(159).collect::<String>())
    } else {
        line.to_string()
    }
}

/// The statement on one line, for a fix that quotes it.
fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
