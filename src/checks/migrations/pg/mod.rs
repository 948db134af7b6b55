//! PostgreSQL rules of the `migrations` check. The facts come first, computed once per run from
//! the files by [`crate::sql::postgres::follow`] (operations, locks, long work, transaction;
//! cached per set by `Context::migration_facts`, which compat and rollback read too); each
//! rule is then a file here holding its `declare_rule!` (the docs `gonogo explain` prints) and a
//! `check` over those facts. This module runs them in order and writes their findings.
//!
//! Adding a rule: its file here (declaration with its `order:`, docs, `check`), its `mod` line,
//! one line in [`OPERATION_RULES`], and its fixtures; build.rs lists it in the registry.

mod add_check_constraint;
mod add_column_generated_stored;
mod add_column_serial;
mod add_column_volatile_default;
mod add_foreign_key;
mod add_index_not_concurrent;
mod add_unique_constraint;
mod alter_column_type;
mod alter_domain_check;
mod commit_in_transaction;
mod concurrently_in_transaction;
mod concurrently_on_partitioned_table;
mod detach_partition_not_concurrent;
mod drop_index_not_concurrent;
mod enum_value_used_in_transaction;
mod identity_behind_data;
mod lock_accumulation;
mod lock_table;
mod missing_lock_timeout;
mod partition_default_scan;
mod refresh_matview_not_concurrent;
mod reindex_not_concurrent;
mod set_not_null;
mod syntax_error;
mod table_rewrite;
mod truncate;
mod unbatched_backfill;
mod validate_in_same_transaction;

pub use syntax_error::SYNTAX_ERROR;

/// The live part names lock modes the same way.
pub use crate::sql::postgres::lock_name;

use super::{Settings, UNPARSED_STATEMENT, compat};
use crate::checks::Rule;
use crate::report::{Finding, Location, Severity};
use crate::sql::postgres::operations::{
    FileFacts, Operation, Origin, StatementFacts, Step, Unread,
};

/// The rules judged on each operation, in this order: for one `ADD COLUMN` the rewrite rules come
/// before the NOT NULL rule and the inline constraint rules, and only one of each group fires.
const OPERATION_RULES: &[fn(&Facts) -> Option<Draft>] = &[
    syntax_error::check,
    concurrently_in_transaction::check,
    commit_in_transaction::check,
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
    enum_value_used_in_transaction::check,
    concurrently_on_partitioned_table::check,
    partition_default_scan::check,
    detach_partition_not_concurrent::check,
    alter_domain_check::check,
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
    /// What this verdict is about within the statement (a column, a constraint), when the rule
    /// writes one finding for all of them: one ALTER adding 14 stored generated columns is one
    /// rewrite under one lock, reported once, naming the 14.
    subjects: Vec<String>,
    /// The message and fix for these subjects (listed in words).
    text: Box<DraftText>,
    /// Drafts of the same rule on the same table in this statement that name no subject.
    more: usize,
    /// Per subject, something its text may quote (the SQL of its fix).
    details: Vec<String>,
    /// gonogo could not tell (the type before a type change is unknown): `warn`, and the finding
    /// is written as it is, without the nesting note or the summary's table.
    unsure: bool,
}

/// Writes a draft's message and fix for its subjects.
type DraftText = dyn Fn(&Subjects) -> (String, String);

/// The subjects of a grouped draft: `list` in words (`a, b and c`), how many, and the detail
/// each draft gave ([`Draft::with_detail`]), in order.
pub struct Subjects {
    pub list: String,
    pub count: usize,
    pub details: Vec<String>,
}

impl Subjects {
    /// `one` or `many`, by the count.
    pub fn plural<'a>(&self, one: &'a str, many: &'a str) -> &'a str {
        if self.count == 1 { one } else { many }
    }
}

/// Names in words, at most [`MAX_LISTED`] of them: `a`, `a and b`, `a, b and c`,
/// `a, b, …, j and 4 more`.
fn in_words(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        _ if names.len() > MAX_LISTED => format!(
            "{} and {} more",
            names[..MAX_LISTED].join(", "),
            names.len() - MAX_LISTED
        ),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A finding names at most this many columns or constraints of one statement.
const MAX_LISTED: usize = 10;

impl Draft {
    pub fn new(rule: &'static Rule, table: &str, message: String, fix: String) -> Draft {
        Draft {
            rule,
            table: table.to_string(),
            subjects: Vec::new(),
            text: Box::new(move |_| (message.clone(), fix.clone())),
            more: 0,
            details: Vec::new(),
            unsure: false,
        }
    }

    /// A verdict about `subject` that the same rule's verdicts on the same table in the same
    /// statement join: `text` writes the message and fix for all of them.
    pub fn about(
        rule: &'static Rule,
        table: &str,
        subject: impl Into<String>,
        text: impl Fn(&Subjects) -> (String, String) + 'static,
    ) -> Draft {
        Draft {
            rule,
            table: table.to_string(),
            subjects: vec![subject.into()],
            text: Box::new(text),
            more: 0,
            details: Vec::new(),
            unsure: false,
        }
    }

    /// Something the text may quote for this subject (see [`Subjects::details`]).
    pub fn with_detail(mut self, detail: Option<String>) -> Draft {
        self.details.extend(detail);
        self
    }

    pub fn unsure(rule: &'static Rule, table: &str, message: String, fix: String) -> Draft {
        Draft {
            unsure: true,
            ..Draft::new(rule, table, message, fix)
        }
    }

    /// Fold `other` into this draft when both are the same rule's verdict on the same table
    /// (one statement, one lock: one finding); `Err(other)` otherwise.
    fn join(&mut self, other: Draft) -> Result<(), Draft> {
        if self.rule.id != other.rule.id || self.table != other.table || self.unsure != other.unsure
        {
            return Err(other);
        }
        if !self.subjects.is_empty() && !other.subjects.is_empty() {
            self.subjects.extend(other.subjects);
            self.details.extend(other.details);
        } else {
            self.more += 1 + other.more;
        }
        Ok(())
    }

    /// The message and fix, bounded.
    fn text(&self) -> (String, String) {
        let subjects = Subjects {
            list: in_words(&self.subjects),
            count: self.subjects.len().max(1),
            details: self.details.clone(),
        };
        let (mut message, fix) = (self.text)(&subjects);
        if self.more > 0 {
            message.push_str(&format!(" ({} more like it in this statement)", self.more));
        }
        (bounded(&message), bounded(&fix))
    }
}

/// A finding's message or fix holds at most this many characters: a statement of thousands of
/// characters is quoted as an excerpt, never whole, in a CI log or a PR comment.
const MAX_TEXT: usize = 600;

fn bounded(text: &str) -> String {
    if text.chars().count() > MAX_TEXT {
        format!("{}…", text.chars().take(MAX_TEXT - 1).collect::<String>())
    } else {
        text.to_string()
    }
}

pub struct Analysis {
    pub findings: Vec<Finding>,
    /// Tables with a blocking finding, and why, in order of first appearance.
    pub at_risk: Vec<(String, Vec<&'static str>)>,
    /// Statements of this deploy gonogo could not read (rejected by PostgreSQL or not sure).
    pub unread: usize,
}

/// What a summary adds when some statements could not be read: never "no lock risk found" on
/// statements nobody judged.
pub fn unread_note(unread: usize) -> String {
    match unread {
        0 => String::new(),
        1 => "; 1 statement gonogo could not read (not judged)".to_string(),
        n => format!("; {n} statements gonogo could not read (not judged)"),
    }
}

/// Judge the followed facts of a set's files (`crate::sql::followed`, followed with `settings`'
/// transaction mode and server version).
pub fn analyze(facts: &[FileFacts], settings: &Settings) -> Analysis {
    let mut writer = Writer {
        settings,
        findings: Vec::new(),
        at_risk: Vec::new(),
    };
    let mut unread = 0;
    for file in facts {
        if file.in_deploy {
            unread += file.unread;
        }
        writer.file(file);
    }
    Analysis {
        findings: writer.findings,
        at_risk: writer.at_risk,
        unread,
    }
}

/// Runs the rules over the facts and writes their findings, for the files of this deploy.
struct Writer<'a> {
    settings: &'a Settings,
    findings: Vec<Finding>,
    at_risk: Vec<(String, Vec<&'static str>)>,
}

impl Writer<'_> {
    fn file(&mut self, file: &FileFacts) {
        let mut lock_timeout = missing_lock_timeout::MissingLockTimeout::default();
        let mut accumulation = lock_accumulation::LockAccumulation::default();
        let mut identities = identity_behind_data::IdentitiesAdded::default();
        let mut do_block_loops = unbatched_backfill::DoBlockLoops::default();
        for (index, step) in file.steps.iter().enumerate() {
            let statement = match step {
                Step::Commit { held } => {
                    if let Some((index, evidence)) = accumulation.commit(held)
                        && let Some(finding) = self.findings.get_mut(index)
                    {
                        finding.evidence = Some(evidence);
                    }
                    continue;
                }
                Step::Statement(statement) => statement,
            };
            identities.follow(index, statement);
            do_block_loops.follow(statement);
            let operations = match &statement.operations {
                Ok(operations) => operations,
                Err(reason) => {
                    if file.in_deploy {
                        self.findings.push(unread_finding(file, statement, reason));
                    }
                    continue;
                }
            };
            // One finding per rule and table in a statement: its lock is taken once, its
            // rewrite or scan done once, whatever the number of sub-commands.
            let mut drafts: Vec<Draft> = Vec::new();
            for op in operations {
                let facts = Facts {
                    op,
                    statement,
                    postgres_version: self.settings.postgres_version,
                };
                for rule in OPERATION_RULES {
                    let Some(draft) = rule(&facts) else {
                        continue;
                    };
                    let mut pending = Some(draft);
                    for earlier in drafts.iter_mut() {
                        let Some(draft) = pending.take() else { break };
                        if let Err(back) = earlier.join(draft) {
                            pending = Some(back);
                        }
                    }
                    drafts.extend(pending);
                }
            }
            drafts.extend(do_block_loops.check(statement));
            for draft in drafts {
                self.write(file, statement, draft);
            }
            if let Some(draft) = lock_timeout.check(statement, &file.path) {
                self.write(file, statement, draft);
            }
            if let Some(draft) = accumulation.check(statement)
                && let Some(index) = self.write(file, statement, draft)
            {
                accumulation.reported(index);
            }
        }
        for (index, draft) in identities.drafts() {
            if let Some(Step::Statement(statement)) = file.steps.get(index) {
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
        let (message, fix) = draft.text();
        let mut finding = draft
            .rule
            .finding(message)
            .at(Location::new(&file.path, statement.line, statement.column))
            .with_fix(fix);
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
        | "pg-validate-in-same-transaction"
        | "pg-partition-default-scan"
        | "pg-alter-domain-check" => "scan",
        "pg-add-index-not-concurrent"
        | "pg-add-unique-constraint"
        | "pg-reindex-not-concurrent" => "index build",
        "pg-unbatched-backfill" => "backfill",
        "pg-concurrently-in-transaction" | "pg-commit-in-transaction" => "fails in a transaction",
        "pg-enum-value-used-in-transaction" | "pg-concurrently-on-partitioned-table" => {
            "cannot succeed"
        }
        "pg-identity-behind-data" => "inserts fail",
        _ => "breaking change",
    }
}

/// The finding for a statement gonogo could not read: `pg-syntax-error` when PostgreSQL's
/// grammar rejects it (the migration fails when it runs), `unparsed-statement` when gonogo cannot
/// tell. Both block: "not sure" is not a pass.
fn unread_finding(file: &FileFacts, statement: &StatementFacts, reason: &str) -> Finding {
    let location = Location::new(&file.path, statement.line, statement.column);
    match statement.unread {
        Some(Unread::Rejected) => SYNTAX_ERROR
            .finding(bounded(&format!(
                "PostgreSQL rejects this statement ({reason}): the migration fails when it runs"
            )))
            .at(location)
            .with_evidence(first_line(&statement.text))
            .with_fix("fix the SQL (is it written for another database?) and run the migration against a PostgreSQL of the production version before the deploy"),
        _ => UNPARSED_STATEMENT
            .finding(bounded(&format!(
                "gonogo cannot analyse this statement: {reason}"
            )))
            .at(location)
            .with_evidence(first_line(&statement.text))
            .with_fix("check this statement's locks by hand and waive it with a reason (`-- gonogo:ignore migrations/unparsed-statement <what you checked>`)"),
    }
}

/// The statement on one line to quote in a fix, or `None` when it is too long to quote whole
/// (the fix then says what to change instead).
fn quotable(text: &str) -> Option<String> {
    let line = single_line(text);
    (line.chars().count() <= MAX_QUOTED).then_some(line)
}

/// The NOT VALID statements of constraints, each alone, quoted while they fit in a finding;
/// otherwise the first one as an example.
fn each_alone(statements: &[String], count: usize, names: &str) -> String {
    if statements.len() != count || statements.is_empty() {
        return format!("add {names} NOT VALID, each in its own ALTER");
    }
    let all = statements
        .iter()
        .map(|sql| format!("`{sql};`"))
        .collect::<Vec<_>>()
        .join(" and ");
    if all.chars().count() <= MAX_TEXT / 2 {
        all
    } else {
        format!(
            "add each NOT VALID in its own ALTER (the first: `{};`)",
            statements[0]
        )
    }
}

/// Statements longer than this are not quoted whole in a fix.
const MAX_QUOTED: usize = 240;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::migrations::MigrationFile;

    fn findings(sql: &str) -> Vec<Finding> {
        let files = [
            MigrationFile {
                path: "1.sql".into(),
                text: "CREATE TABLE t (v int, w text);".into(),
                in_deploy: false,
                transaction: None,
            },
            MigrationFile {
                path: "2.sql".into(),
                text: sql.into(),
                in_deploy: true,
                transaction: None,
            },
        ];
        crate::checks::migrations::analyze_files(&files, &Settings::default(), true)
    }

    /// One ALTER of many sub-commands of one kind is one finding naming the first ten and
    /// counting the rest; no finding text grows with the statement.
    #[test]
    fn one_finding_per_rule_and_statement_bounded_in_length() {
        let columns: Vec<String> = (0..300)
            .map(|i| format!("ADD COLUMN generated_column_with_a_long_name_{i} bigint GENERATED ALWAYS AS (v * {i}) STORED"))
            .collect();
        let found = findings(&format!(
            "SET lock_timeout = '1s';\nALTER TABLE t {};\n",
            columns.join(", ")
        ));
        let rewrites: Vec<&Finding> = found
            .iter()
            .filter(|f| f.rule == add_column_generated_stored::ADD_COLUMN_GENERATED_STORED.id)
            .collect();
        assert_eq!(rewrites.len(), 1, "{found:#?}");
        assert!(
            rewrites[0]
                .message
                .contains("generated_column_with_a_long_name_9 and 290 more"),
            "{}",
            rewrites[0].message
        );
        for finding in &found {
            assert!(finding.message.chars().count() <= MAX_TEXT);
            assert!(finding.fix.as_deref().unwrap_or("").chars().count() <= MAX_TEXT);
        }
        // A statement PostgreSQL rejects, thousands of characters long: quoted as an excerpt.
        let found = findings(&format!("ALTR TABLE t {};\n", columns.join(", ")));
        assert_eq!(found[0].rule, SYNTAX_ERROR.id);
        assert!(found[0].evidence.as_deref().unwrap().chars().count() <= 160);
    }
}
