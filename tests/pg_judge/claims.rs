//! gonogo's side: what its PostgreSQL facts (`gonogo::sql::postgres::follow`, the facts every
//! `migrations` rule reads) claim each top-level statement of a migration does, and which rules
//! it raises there.

use super::measure::{IN_TRANSACTION_BLOCK, INVALID_TRANSACTION_TERMINATION};
use gonogo::checks::migrations::{MigrationFile, Settings, analyze_files};
use gonogo::config::TransactionMode;
use gonogo::sql::postgres::operations::{Operation, Step};
use gonogo::sql::postgres::{FollowOptions, Origin, Unread, follow};
use pg_query::LockMode;
use std::collections::{BTreeMap, BTreeSet};

/// Rules that say PostgreSQL refuses the statement they are raised on.
const REFUSAL_RULES: &[&str] = &[
    "migrations/pg-enum-value-used-in-transaction",
    "migrations/pg-concurrently-on-partitioned-table",
    // Syntax newer than the major (a statement gonogo cannot parse is `unparsable` instead).
    "migrations/pg-syntax-error",
];

/// What gonogo says one top-level statement (with what it runs: a DO block, a called function)
/// does.
#[derive(Debug, Default)]
pub struct Claim {
    pub line: u32,
    /// Strong locks (SHARE and stronger) held on existing tables once the statement ran: the
    /// ones its transaction already held and its own.
    pub locks_after: BTreeMap<String, LockMode>,
    /// Locks on indexes (named, or "the indexes of t"), by their table: ACCESS EXCLUSIVE on an
    /// index blocks every read of its table (the planner opens all of a table's indexes).
    pub index_locks: BTreeMap<String, LockMode>,
    /// The long work it does under those locks ("a table rewrite", "a table scan", …).
    pub work: BTreeSet<&'static str>,
    /// Why PostgreSQL refuses it in a transaction block (CONCURRENTLY, a COMMIT in a DO block),
    /// when gonogo says it runs in one.
    pub fails_in_transaction: Option<&'static str>,
    /// The SQLSTATE of that refusal: 25001 for CONCURRENTLY, 2D000 for a COMMIT in a DO block.
    pub refusal_code: &'static str,
    /// Why it cannot succeed on a table with rows.
    pub cannot_succeed: Option<String>,
    /// gonogo could not parse it (PostgreSQL must refuse it too).
    pub unparsable: bool,
    /// gonogo could not read it and says so without claiming what the server does.
    pub not_sure: bool,
    /// The rules gonogo raises on this statement's line.
    pub rules: BTreeSet<String>,
}

/// The claims for every top-level statement of `text` (the deploy's file, after the earlier
/// migration `earlier`), in order; `lines`: where those statements start.
pub fn claims(
    lines: &[u32],
    earlier: &str,
    path: &str,
    text: &str,
    transaction: TransactionMode,
    major: u32,
) -> Vec<Claim> {
    let files = vec![
        MigrationFile {
            path: "schema.sql".to_string(),
            text: earlier.to_string(),
            in_deploy: false,
            transaction: None,
        },
        MigrationFile {
            path: path.to_string(),
            text: text.to_string(),
            in_deploy: true,
            transaction: None,
        },
    ];
    let options = FollowOptions {
        transaction,
        postgres_version: major,
        deploy_is_known: true,
    };
    let facts = follow(&files, options);
    let mut out: Vec<Claim> = lines
        .iter()
        .map(|&line| Claim {
            line,
            ..Claim::default()
        })
        .collect();
    // A statement of a DO block is inside its top-level statement; a statement of a called
    // function (written earlier in the file) belongs to the call just followed.
    let mut current = 0;
    // (line, table, column) of each identity added to a column with data (its sequence at 1).
    let mut identities: Vec<(u32, String, String)> = Vec::new();
    for step in &facts[1].steps {
        let Step::Statement(statement) = step else {
            continue;
        };
        if !matches!(statement.origin, Origin::Function(_)) {
            current = lines
                .iter()
                .rposition(|&line| line <= statement.line)
                .expect("a statement after the first one");
        }
        let claim = &mut out[current];
        let held = statement
            .transaction
            .held_before
            .iter()
            .map(|h| (h.table.clone(), h.lock));
        for (table, lock) in held.chain(statement.strong_locks.iter().cloned()) {
            let entry = claim.locks_after.entry(table).or_insert(lock);
            *entry = (*entry).max(lock);
        }
        claim.work.extend(statement.long_work);
        match &statement.operations {
            // Only a statement gonogo says PostgreSQL's grammar rejects is a claim about the
            // server; "not sure" (a template, SQL built at run time) claims nothing to judge.
            Err(_) => {
                if statement.unread == Some(Unread::Rejected) {
                    claim.unparsable = true;
                } else {
                    claim.not_sure = true;
                }
            }
            Ok(operations) => {
                for operation in operations {
                    match operation {
                        Operation::IdentityStartsAtOne { table, column } => {
                            identities.push((statement.line, table.clone(), column.clone()));
                        }
                        Operation::Concurrently { .. } => {
                            if let Some(block) = statement.transaction.block {
                                claim.fails_in_transaction = Some(block);
                                claim.refusal_code = IN_TRANSACTION_BLOCK;
                            }
                        }
                        Operation::TransactionEndInBlock { conditional, .. } => {
                            if let Some(block) = statement.transaction.block {
                                if *conditional {
                                    // Under IF or in a loop over a query it is refused only
                                    // when reached, which the data decides: no claim to judge.
                                    claim.not_sure = true;
                                } else {
                                    claim.fails_in_transaction = Some(block);
                                    claim.refusal_code = INVALID_TRANSACTION_TERMINATION;
                                }
                            }
                        }
                        // VALIDATE scans the table (with the locks its transaction holds).
                        Operation::ValidateInSameTransaction { .. } => {
                            claim.work.insert("a table scan");
                        }
                        Operation::AddColumn(add) if add.not_null_without_default => {
                            claim.cannot_succeed = Some(format!(
                                "NOT NULL column {} without a default on a table with rows",
                                add.column
                            ));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    let settings = Settings {
        postgres_version: major,
        transaction,
        ..Settings::default()
    };
    for finding in analyze_files(&files, &settings, true) {
        let Some(location) = &finding.location else {
            continue;
        };
        if location.path != path {
            continue;
        }
        let Some(line) = location.line else { continue };
        // A finding names the line of its statement (or of the statement a lock is held for).
        if let Some(claim) = out.iter_mut().rev().find(|c| c.line <= line) {
            // These rules' claim is that PostgreSQL refuses the statement.
            if REFUSAL_RULES.contains(&finding.rule.as_str()) {
                claim.cannot_succeed = Some(finding.message.clone());
            }
            claim.rules.insert(finding.rule.clone());
        }
    }
    // pg-identity-behind-data claims the migration succeeds and the inserts after it fail: a
    // later INSERT of this file into the table that takes the column's default must collide.
    let raised: Vec<u32> = out
        .iter()
        .filter(|c| c.rules.contains("migrations/pg-identity-behind-data"))
        .map(|c| c.line)
        .collect();
    for (line, table, column) in identities.iter().filter(|(l, _, _)| raised.contains(l)) {
        for statement in gonogo::sql::postgres::parse(gonogo::sql::up_section(text)) {
            let Ok(pg_query::NodeEnum::InsertStmt(insert)) = statement.node.as_deref() else {
                continue;
            };
            let into = insert
                .relation
                .as_ref()
                .map(|r| r.relname.to_lowercase())
                .unwrap_or_default();
            let gives_column = insert.cols.iter().any(|c| {
                matches!(c.node.as_ref(), Some(pg_query::NodeEnum::ResTarget(t)) if t.name.eq_ignore_ascii_case(column))
            });
            if statement.line > *line
                && into == *table
                && !gives_column
                && let Some(claim) = out.iter_mut().find(|c| c.line == statement.line)
            {
                claim.cannot_succeed = Some(format!(
                    "{table}.{column}'s identity starts at 1 below existing keys (pg-identity-behind-data at line {line}): the insert collides"
                ));
            }
        }
    }
    out
}

/// The rank of a `pg_locks.mode` name.
pub fn lock_mode(name: &str) -> LockMode {
    match name {
        "AccessShareLock" => LockMode::AccessShareLock,
        "RowShareLock" => LockMode::RowShareLock,
        "RowExclusiveLock" => LockMode::RowExclusiveLock,
        "ShareUpdateExclusiveLock" => LockMode::ShareUpdateExclusiveLock,
        "ShareLock" => LockMode::ShareLock,
        "ShareRowExclusiveLock" => LockMode::ShareRowExclusiveLock,
        "ExclusiveLock" => LockMode::ExclusiveLock,
        "AccessExclusiveLock" => LockMode::AccessExclusiveLock,
        other => panic!("unknown lock mode {other} in pg_locks"),
    }
}
