//! The database side of `compat`: this deploy's migrations against the code that keeps running.
//!
//! During a rolling deploy the migration runs first and the old pods serve until the rollout
//! ends, against the migrated schema. A migration that drops or renames what the old code reads,
//! or rejects rows the old code writes, breaks production however safe its locks are. So gonogo
//! takes every change of this deploy's migrations (`changes`), searches the deployed version's
//! code for what it touches (`git grep` on the base ref, never the working tree; `search` ranks
//! each use), and judges the pair here. The judging is pure ([`judge`]); the I/O is [`check`].

pub mod changes;
mod rules;
pub mod search;

pub use rules::*;

use crate::checks::CheckError;
use crate::checks::migrations;
use crate::config::CompatDatabaseConfig;
use crate::context::Context;
use crate::git::Repo;
use crate::report::{Finding, Severity};
use changes::{Change, ChangeKind};
use search::{Marker, Reference, Strength, Write, WriteKind};
use std::collections::{BTreeMap, BTreeSet};

/// Files larger than this are generated or vendored, not code whose queries matter; reading them
/// would make the run's memory depend on them.
const MAX_CODE_FILE_BYTES: usize = 2 * 1024 * 1024;
/// At most this many uses are listed in a finding's evidence.
const EVIDENCE_LINES: usize = 5;

/// A table, or one of its columns, that the deployed code may use.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub table: String,
    pub column: Option<String>,
}

impl Target {
    fn table(table: &str) -> Target {
        Target {
            table: table.to_string(),
            column: None,
        }
    }

    fn column(table: &str, column: &str) -> Target {
        Target {
            table: table.to_string(),
            column: Some(column.to_string()),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "{}.{column}", self.table),
            None => f.write_str(&self.table),
        }
    }
}

/// The uses of one target in one version of the code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Uses {
    pub references: Vec<Reference>,
    pub markers: Vec<Marker>,
}

/// What the code says about the targets: filled by [`check`] (or a test), read by [`judge`].
#[derive(Debug, Default)]
pub struct Evidence {
    /// Uses in the deployed version (the base ref).
    pub base: BTreeMap<Target, Uses>,
    /// Uses in the working tree: a use at the base and not here was removed by this release.
    pub now: BTreeMap<Target, Uses>,
    /// Writes of each table in the deployed version.
    pub writes: BTreeMap<String, Vec<Write>>,
    /// Enum values the deployed code names as strings.
    pub values: BTreeMap<String, Vec<Reference>>,
    /// Where gonogo looked, for messages: "42 files under src/ at v1.4.2".
    pub searched: String,
}

/// What the code search needs to look for, from the changes that old code can notice.
#[derive(Debug, Default, PartialEq)]
pub struct Targets {
    pub uses: BTreeSet<Target>,
    pub write_tables: BTreeSet<String>,
    pub values: BTreeSet<String>,
}

/// Changes of this deploy on tables that existed before it: what old pods can notice.
fn matters(change: &Change) -> bool {
    change.in_deploy
        && !change.table_is_new
        && !matches!(
            change.kind,
            ChangeKind::CreateTable
                | ChangeKind::Backfill { .. }
                | ChangeKind::CopyFrom { .. }
                | ChangeKind::AddColumn {
                    not_null_without_default: false,
                    ..
                }
        )
}

/// What to search the old code for. Pure.
pub fn targets(changes: &[Change]) -> Targets {
    let mut out = Targets::default();
    for change in changes.iter().filter(|c| matters(c)) {
        let table = change.table.as_str();
        match &change.kind {
            ChangeKind::DropTable | ChangeKind::RenameTable { .. } => {
                out.uses.insert(Target::table(table));
                if let Some(replacement) = table_replacement(changes, table) {
                    out.uses.insert(Target::table(&replacement.table));
                }
            }
            ChangeKind::DropColumn { column } | ChangeKind::RenameColumn { column, .. } => {
                out.uses.insert(Target::column(table, column));
                if let Some((_, replacement)) = column_replacement(changes, table, column) {
                    out.uses.insert(Target::column(table, &replacement));
                }
            }
            ChangeKind::AddColumn { .. }
            | ChangeKind::SetNotNull { .. }
            | ChangeKind::AddCheck { .. }
            | ChangeKind::AddUnique { .. }
            | ChangeKind::TypeChanged { .. } => {
                out.write_tables.insert(table.to_string());
            }
            ChangeKind::EnumValuesRemoved { removed, .. } => {
                out.values.extend(removed.iter().cloned());
            }
            ChangeKind::CreateTable | ChangeKind::Backfill { .. } | ChangeKind::CopyFrom { .. } => {
            }
        }
    }
    out
}

/// The column that replaces `column`: one backfilled from it (`UPDATE t SET new = f(old)`), in
/// any migration. Returns the backfill and the new column's name.
fn column_replacement<'a>(
    changes: &'a [Change],
    table: &str,
    column: &str,
) -> Option<(&'a Change, String)> {
    changes.iter().rev().find_map(|change| match &change.kind {
        ChangeKind::Backfill {
            column: new,
            from_columns,
        } if change.table == table && new != column && from_columns.iter().any(|c| c == column) => {
            Some((change, new.clone()))
        }
        _ => None,
    })
}

/// The copy that fills another table from `table` (`INSERT INTO new SELECT … FROM old`).
fn table_replacement<'a>(changes: &'a [Change], table: &str) -> Option<&'a Change> {
    changes.iter().rev().find(|change| {
        change.table != table
            && matches!(&change.kind, ChangeKind::CopyFrom { from } if from == table)
    })
}

/// Where the replacement column was added, if a migration added it.
fn column_added<'a>(changes: &'a [Change], table: &str, column: &str) -> Option<&'a Change> {
    changes.iter().find(|change| {
        change.table == table
            && matches!(&change.kind, ChangeKind::AddColumn { column: c, .. } if c == column)
    })
}

fn table_created<'a>(changes: &'a [Change], table: &str) -> Option<&'a Change> {
    changes
        .iter()
        .find(|change| change.table == table && change.kind == ChangeKind::CreateTable)
}

/// A use that counts as evidence: SQL, a model field or a query-builder name tied to the table.
fn is_strong(reference: &Reference) -> bool {
    reference.strength >= Strength::QueryBuilder && reference.names_table
}

/// Whether a marker says this use is going away: a marker on its line or the line above, or
/// Rails `ignored_columns` (ActiveRecord then neither reads nor writes the column, though raw SQL
/// still does).
fn prepared_by(reference: &Reference, markers: &[Marker]) -> Option<usize> {
    markers.iter().position(|marker| {
        let near = marker.path == reference.path
            && (marker.line == reference.line || marker.line + 1 == reference.line);
        let active_record = marker.text.contains("ignored_columns")
            && matches!(
                reference.strength,
                Strength::OrmField | Strength::QueryBuilder | Strength::Identifier
            );
        near || active_record
    })
}

fn describe_strength(reference: &Reference) -> &'static str {
    match (reference.strength, reference.names_table) {
        (Strength::SqlLiteral, true) => "SQL naming the table",
        (Strength::SqlLiteral, false) => "SQL not naming the table",
        (Strength::OrmField, true) => "model field mapped to the table",
        (Strength::OrmField, false) => "model field",
        (Strength::QueryBuilder, _) => "query-builder name",
        (Strength::Identifier, _) => "identifier only",
    }
}

fn evidence_lines<'a>(references: impl IntoIterator<Item = &'a Reference>) -> String {
    let mut references: Vec<&Reference> = references.into_iter().collect();
    references.sort_by(|a, b| {
        (b.strength, b.names_table, &a.path, a.line).cmp(&(
            a.strength,
            a.names_table,
            &b.path,
            b.line,
        ))
    });
    let mut lines: Vec<String> = references
        .iter()
        .take(EVIDENCE_LINES)
        .map(|r| {
            format!(
                "{}:{}: {}  ({})",
                r.path,
                r.line,
                r.snippet,
                describe_strength(r)
            )
        })
        .collect();
    if references.len() > EVIDENCE_LINES {
        lines.push(format!("… and {} more", references.len() - EVIDENCE_LINES));
    }
    lines.join("\n")
}

fn first_places<'a>(references: impl IntoIterator<Item = &'a Reference>) -> String {
    let mut places: Vec<String> = references
        .into_iter()
        .map(|r| format!("{}:{}", r.path, r.line))
        .collect();
    places.dedup();
    let more = places.len().saturating_sub(3);
    places.truncate(3);
    let mut text = places.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

fn at(change: &Change) -> String {
    match (change.location.line, change.location.column) {
        (Some(line), _) => format!("{}:{line}", change.location.path),
        _ => change.location.path.clone(),
    }
}

/// The findings for this deploy's changes, given what the code says. Pure.
pub fn judge(changes: &[Change], evidence: &Evidence, base: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for change in changes.iter().filter(|c| matters(c)) {
        let table = change.table.as_str();
        match &change.kind {
            ChangeKind::DropTable => {
                let replaced = table_expansion(changes, change, evidence, base, &mut findings);
                findings.push(removal(
                    change,
                    &Target::table(table),
                    &format!("DROP TABLE {table}"),
                    None,
                    replaced,
                    evidence,
                    base,
                ));
            }
            ChangeKind::RenameTable { to } => findings.push(removal(
                change,
                &Target::table(table),
                &format!("renaming table {table} to {to}"),
                Some(to),
                false,
                evidence,
                base,
            )),
            ChangeKind::DropColumn { column } => {
                let replaced =
                    column_expansion(changes, change, column, evidence, base, &mut findings);
                findings.push(removal(
                    change,
                    &Target::column(table, column),
                    &format!("DROP COLUMN {table}.{column}"),
                    None,
                    replaced,
                    evidence,
                    base,
                ));
            }
            ChangeKind::RenameColumn { column, to } => findings.push(removal(
                change,
                &Target::column(table, column),
                &format!("renaming column {table}.{column} to {to}"),
                Some(to),
                false,
                evidence,
                base,
            )),
            ChangeKind::AddColumn { column, .. } => {
                findings.extend(not_null(change, column, true, evidence, base))
            }
            ChangeKind::SetNotNull { column } => {
                findings.extend(not_null(change, column, false, evidence, base))
            }
            ChangeKind::AddCheck {
                columns,
                expression,
                ..
            } => findings.extend(check_constraint(
                change, columns, expression, evidence, base,
            )),
            ChangeKind::AddUnique { columns } => {
                findings.extend(unique(change, columns, evidence, base))
            }
            ChangeKind::TypeChanged {
                column,
                from,
                to,
                narrowed: true,
            } => findings.push(type_narrowed(
                change,
                column,
                from.as_deref(),
                to,
                evidence,
                base,
            )),
            ChangeKind::EnumValuesRemoved {
                column, removed, ..
            } => findings.push(enum_values(
                change,
                column.as_deref(),
                removed,
                evidence,
                base,
            )),
            _ => {}
        }
    }
    findings
}

/// A dropped or renamed table or column, against its uses in the deployed code.
fn removal(
    change: &Change,
    target: &Target,
    what: &str,
    renamed_to: Option<&String>,
    replacement_in_use: bool,
    evidence: &Evidence,
    base: &str,
) -> Finding {
    let rule = if target.column.is_some() {
        &COLUMN_STILL_USED
    } else {
        &TABLE_STILL_USED
    };
    let empty = Uses::default();
    let uses = evidence.base.get(target).unwrap_or(&empty);
    let (prepared, live): (Vec<&Reference>, Vec<&Reference>) = uses
        .references
        .iter()
        .partition(|r| prepared_by(r, &uses.markers).is_some());
    let strong: Vec<&Reference> = live.iter().copied().filter(|r| is_strong(r)).collect();
    let location = change.location.clone();
    let fix = contract_later(target, renamed_to);
    if !strong.is_empty() {
        let still_now = evidence
            .now
            .get(target)
            .is_some_and(|now| now.references.iter().any(is_strong));
        let mut message = format!(
            "{what}: the deployed code ({base}) still uses {target} at {}; the old pods run those queries until the rollout ends, and each fails once the migration commits",
            first_places(strong.iter().copied())
        );
        if !still_now {
            message.push_str(&format!(
                ". This release removed those uses from the code, which is exactly the case that breaks: the old pods still run the code of {base}"
            ));
        }
        return rule
            .finding(message)
            .at(location)
            .with_evidence(evidence_lines(strong))
            .with_fix(fix);
    }
    if !uses.markers.is_empty() {
        let marker = &uses.markers[0];
        let mut finding = CONTRACT_PREPARED
            .finding(format!(
                "{what}: the deployed code ({base}) marks {target} as going away at {}:{} ({})",
                marker.path, marker.line, marker.text
            ))
            .at(location);
        if !prepared.is_empty() {
            finding = finding.with_evidence(evidence_lines(prepared));
        }
        return finding;
    }
    if replacement_in_use {
        return CONTRACT_PREPARED
            .finding(format!(
                "{what}: the deployed code ({base}) no longer uses {target} and already uses its replacement; this is the contract step"
            ))
            .at(location);
    }
    let mut finding = rule.finding(if live.is_empty() {
        format!(
            "{what}: no use of {target} found in the deployed code ({}); check code outside checks.compat.database.code_paths (other services, jobs, reports) before the old pods lose it",
            evidence.searched
        )
    } else {
        format!(
            "{what}: {target} appears in the deployed code ({base}) only where gonogo cannot tie it to the table ({}); check those before the old pods lose it (searched {})",
            first_places(live.iter().copied()),
            evidence.searched
        )
    });
    finding.severity = Severity::Warn;
    if !live.is_empty() {
        finding = finding.with_evidence(evidence_lines(live));
    }
    finding.at(location).with_fix(fix)
}

/// The expand-and-contract sequence with the user's names.
fn contract_later(target: &Target, renamed_to: Option<&String>) -> String {
    let new = renamed_to
        .cloned()
        .unwrap_or_else(|| "its replacement".to_string());
    match &target.column {
        Some(column) => format!(
            "three deploys: (1) add {new} and make the code write both {column} and {new}; (2) backfill {new} from {column} in batches and switch reads to {new}; (3) once no running version uses {column}, drop it"
        ),
        None => format!(
            "three deploys: (1) create {new} and make the code write both {table} and {new}; (2) copy the rows in batches and switch reads to {new}; (3) once no running version uses {table}, drop it (for a rename, a view named {table} keeps old pods working meanwhile)",
            table = target.table
        ),
    }
}

/// DROP COLUMN whose replacement was backfilled from it: the replacement must have shipped in an
/// earlier deploy. Pushes a finding when it did not; returns whether the replacement is in use.
fn column_expansion(
    changes: &[Change],
    drop: &Change,
    column: &str,
    evidence: &Evidence,
    base: &str,
    findings: &mut Vec<Finding>,
) -> bool {
    let table = drop.table.as_str();
    let Some((backfill, new)) = column_replacement(changes, table, column) else {
        return false;
    };
    let added = column_added(changes, table, &new);
    let sequence = format!(
        "three deploys: (1) add {new} and make the code write both {column} and {new}; (2) backfill {new} from {column} in batches and switch reads to {new}; (3) once no running version uses {column}, drop it"
    );
    if added.is_some_and(|a| a.in_deploy) || backfill.in_deploy {
        let added_at = added.map_or_else(String::new, |a| format!("adds {new} ({}), ", at(a)));
        findings.push(
            EXPAND_AND_CONTRACT_TOGETHER
                .finding(format!(
                    "this deploy {added_at}backfills {new} from {column} ({}) and drops {table}.{column}: old pods keep writing {column} and never write {new} until the rollout ends",
                    at(backfill)
                ))
                .at(drop.location.clone())
                .with_fix(sequence),
        );
        return false;
    }
    let in_use = evidence
        .base
        .get(&Target::column(table, &new))
        .is_some_and(|uses| uses.references.iter().any(is_strong));
    if !in_use {
        findings.push(
            EXPAND_AND_CONTRACT_TOGETHER
                .finding(format!(
                    "{table}.{new} replaces {column} (backfilled at {}), but the deployed code ({base}) does not use {new} yet: the expand step has not shipped, so old pods write only {column}",
                    at(backfill)
                ))
                .at(drop.location.clone())
                .with_fix(sequence),
        );
    }
    in_use
}

/// DROP TABLE whose rows were copied into another table: the same, for tables.
fn table_expansion(
    changes: &[Change],
    drop: &Change,
    evidence: &Evidence,
    base: &str,
    findings: &mut Vec<Finding>,
) -> bool {
    let old = drop.table.as_str();
    let Some(copy) = table_replacement(changes, old) else {
        return false;
    };
    let new = copy.table.as_str();
    let sequence = format!(
        "three deploys: (1) create {new} and make the code write both {old} and {new}; (2) copy the rows of {old} in batches and switch reads to {new}; (3) once no running version uses {old}, drop it"
    );
    let created = table_created(changes, new);
    if created.is_some_and(|c| c.in_deploy) || copy.in_deploy {
        let created_at =
            created.map_or_else(String::new, |c| format!("creates {new} ({}), ", at(c)));
        findings.push(
            EXPAND_AND_CONTRACT_TOGETHER
                .finding(format!(
                    "this deploy {created_at}copies {old} into it ({}) and drops {old}: old pods keep writing {old} and never write {new} until the rollout ends",
                    at(copy)
                ))
                .at(drop.location.clone())
                .with_fix(sequence),
        );
        return false;
    }
    let in_use = evidence
        .base
        .get(&Target::table(new))
        .is_some_and(|uses| uses.references.iter().any(is_strong));
    if !in_use {
        findings.push(
            EXPAND_AND_CONTRACT_TOGETHER
                .finding(format!(
                    "{new} replaces {old} (copied at {}), but the deployed code ({base}) does not use {new} yet: the expand step has not shipped",
                    at(copy)
                ))
                .at(drop.location.clone())
                .with_fix(sequence),
        );
    }
    in_use
}

fn provides(write: &Write, column: &str) -> Option<bool> {
    write
        .columns
        .as_ref()
        .map(|columns| columns.iter().any(|c| c.eq_ignore_ascii_case(column)))
}

/// Old INSERTs that leave `column` out: positional ones, column lists without it, models
/// without the field, and (for a column that did not exist before) ActiveRecord-style models
/// whose column list was read at boot.
fn inserts_without<'a>(writes: &'a [Write], column: &str, column_is_new: bool) -> Vec<&'a Write> {
    writes
        .iter()
        .filter(|w| match w.kind {
            WriteKind::Insert => provides(w, column) != Some(true),
            WriteKind::Model => match provides(w, column) {
                Some(provided) => !provided,
                None => column_is_new,
            },
            WriteKind::Update => false,
        })
        .collect()
}

fn writes_of<'a>(writes: &'a [Write], column: &str) -> Vec<&'a Write> {
    writes
        .iter()
        .filter(|w| provides(w, column) != Some(false))
        .collect()
}

fn write_places(writes: &[&Write]) -> String {
    let more = writes.len().saturating_sub(3);
    let mut text = writes
        .iter()
        .take(3)
        .map(|w| format!("{}:{}", w.path, w.line))
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

fn write_evidence(writes: &[&Write]) -> String {
    let mut lines: Vec<String> = writes
        .iter()
        .take(EVIDENCE_LINES)
        .map(|w| {
            let kind = match w.kind {
                WriteKind::Insert => "INSERT",
                WriteKind::Update => "UPDATE",
                WriteKind::Model => "model",
            };
            let columns = match &w.columns {
                Some(columns) => format!("writes ({})", columns.join(", ")),
                None => "column list not named".to_string(),
            };
            format!("{}:{}: {}  ({kind}, {columns})", w.path, w.line, w.snippet)
        })
        .collect();
    if writes.len() > EVIDENCE_LINES {
        lines.push(format!("… and {} more", writes.len() - EVIDENCE_LINES));
    }
    lines.join("\n")
}

fn warn(mut finding: Finding) -> Finding {
    finding.severity = Severity::Warn;
    finding
}

/// ADD COLUMN … NOT NULL without a default (`column_is_new`), or SET NOT NULL.
fn not_null(
    change: &Change,
    column: &str,
    column_is_new: bool,
    evidence: &Evidence,
    base: &str,
) -> Option<Finding> {
    let table = change.table.as_str();
    let what = if column_is_new {
        format!("ADD COLUMN {table}.{column} NOT NULL without a default")
    } else {
        format!("SET NOT NULL on {table}.{column}")
    };
    let writes = evidence.writes.get(table).map_or(&[][..], Vec::as_slice);
    let rejected = inserts_without(writes, column, column_is_new);
    let location = change.location.clone();
    let fix = format!(
        "add {column} nullable (or with a default), ship code that always writes it, backfill, then enforce NOT NULL in a later deploy"
    );
    if !rejected.is_empty() {
        return Some(
            OLD_WRITES_REJECTED
                .finding(format!(
                    "{what}: the deployed code ({base}) inserts into {table} without {column} at {}; those inserts fail with a not-null violation from the moment the migration commits until the rollout ends",
                    write_places(&rejected)
                ))
                .at(location)
                .with_evidence(write_evidence(&rejected))
                .with_fix(fix),
        );
    }
    let providing = writes_of(writes, column);
    let message = if providing.is_empty() {
        format!(
            "{what}: no write of {table} found in the deployed code ({}); any INSERT of the old pods that leaves {column} out will fail",
            evidence.searched
        )
    } else {
        format!(
            "{what}: the deployed code ({base}) writes {column} at {}; make sure it never writes NULL",
            write_places(&providing)
        )
    };
    let mut finding = warn(OLD_WRITES_REJECTED.finding(message))
        .at(location)
        .with_fix(fix);
    if !providing.is_empty() {
        finding = finding.with_evidence(write_evidence(&providing));
    }
    Some(finding)
}

/// A new CHECK: a failure when it requires a value the old INSERTs leave out.
fn check_constraint(
    change: &Change,
    columns: &[String],
    expression: &str,
    evidence: &Evidence,
    base: &str,
) -> Option<Finding> {
    let table = change.table.as_str();
    let writes = evidence.writes.get(table).map_or(&[][..], Vec::as_slice);
    let location = change.location.clone();
    let fix = "add the constraint NOT VALID after shipping code that satisfies it, then VALIDATE it in a later deploy".to_string();
    let requires_value = expression.to_ascii_lowercase().contains("not null");
    if requires_value {
        let rejected: Vec<&Write> = columns
            .iter()
            .flat_map(|c| inserts_without(writes, c, false))
            .collect::<Vec<_>>();
        let mut rejected = rejected;
        rejected.dedup_by(|a, b| a.path == b.path && a.line == b.line);
        if !rejected.is_empty() {
            return Some(
                OLD_WRITES_REJECTED
                    .finding(format!(
                        "CHECK ({expression}) on {table}: the deployed code ({base}) inserts into {table} without {} at {}; those rows fail the check until the rollout ends",
                        columns.join(", "),
                        write_places(&rejected)
                    ))
                    .at(location)
                    .with_evidence(write_evidence(&rejected))
                    .with_fix(fix),
            );
        }
    }
    if writes.is_empty() {
        return Some(
            warn(OLD_WRITES_REJECTED.finding(format!(
                "CHECK ({expression}) on {table}: no write of {table} found in the deployed code ({}); gonogo cannot tell whether the old pods write rows it rejects",
                evidence.searched
            )))
            .at(location)
            .with_fix(fix),
        );
    }
    let touching: Vec<&Write> = writes
        .iter()
        .filter(|w| columns.iter().any(|c| provides(w, c) != Some(false)))
        .collect();
    (!touching.is_empty()).then(|| {
        warn(OLD_WRITES_REJECTED.finding(format!(
            "CHECK ({expression}) on {table}: the deployed code ({base}) writes {} at {}; the values it writes must satisfy the new check",
            columns.join(", "),
            write_places(&touching)
        )))
        .at(location)
        .with_evidence(write_evidence(&touching))
        .with_fix(fix)
    })
}

/// A new UNIQUE constraint or index: old writes of those columns may now collide.
fn unique(change: &Change, columns: &[String], evidence: &Evidence, base: &str) -> Option<Finding> {
    let table = change.table.as_str();
    let writes = evidence.writes.get(table).map_or(&[][..], Vec::as_slice);
    let fix = "ship code that never writes duplicates (and dedupe existing rows) before adding the constraint".to_string();
    let what = format!("UNIQUE ({}) on {table}", columns.join(", "));
    if writes.is_empty() {
        return Some(
            warn(OLD_WRITES_REJECTED.finding(format!(
                "{what}: no write of {table} found in the deployed code ({}); gonogo cannot tell whether the old pods write duplicates",
                evidence.searched
            )))
            .at(change.location.clone())
            .with_fix(fix),
        );
    }
    let touching: Vec<&Write> = writes
        .iter()
        .filter(|w| columns.iter().any(|c| provides(w, c) != Some(false)))
        .collect();
    (!touching.is_empty()).then(|| {
        warn(OLD_WRITES_REJECTED.finding(format!(
            "{what}: the deployed code ({base}) writes {} at {}; a duplicate it writes is rejected once the constraint exists",
            columns.join(", "),
            write_places(&touching)
        )))
        .at(change.location.clone())
        .with_evidence(write_evidence(&touching))
        .with_fix(fix)
    })
}

fn type_narrowed(
    change: &Change,
    column: &str,
    from: Option<&str>,
    to: &str,
    evidence: &Evidence,
    base: &str,
) -> Finding {
    let table = change.table.as_str();
    let from = from.map_or_else(|| "its current type".to_string(), str::to_string);
    let writes = evidence.writes.get(table).map_or(&[][..], Vec::as_slice);
    let writers = writes_of(writes, column);
    let fix = format!(
        "ship code that only writes values {to} can hold first, or add a new {to} column, write both, backfill and switch in later deploys"
    );
    let finding = if writers.is_empty() {
        warn(TYPE_NARROWED.finding(format!(
            "{table}.{column} changes from {from} to {to}, which cannot hold every value of {from}; no write of {column} found in the deployed code ({})",
            evidence.searched
        )))
    } else {
        TYPE_NARROWED
            .finding(format!(
                "{table}.{column} changes from {from} to {to}, which cannot hold every value of {from}, and the deployed code ({base}) writes {column} at {}: a value past {to} fails until the rollout ends",
                write_places(&writers)
            ))
            .with_evidence(write_evidence(&writers))
    };
    finding.at(change.location.clone()).with_fix(fix)
}

fn enum_values(
    change: &Change,
    column: Option<&str>,
    removed: &[String],
    evidence: &Evidence,
    base: &str,
) -> Finding {
    let target = match column {
        Some(column) => format!("{}.{column}", change.table),
        None => change.table.clone(),
    };
    let quoted: Vec<String> = removed.iter().map(|v| format!("'{v}'")).collect();
    let uses: Vec<&Reference> = removed
        .iter()
        .filter_map(|v| evidence.values.get(v))
        .flatten()
        .filter(|r| r.strength >= Strength::QueryBuilder)
        .collect();
    let fix = "keep the old values until no running version writes them; migrate the rows holding them, then remove the values in a later deploy".to_string();
    let finding = if uses.is_empty() {
        warn(ENUM_VALUE_REMOVED.finding(format!(
            "{target} no longer accepts {}; the deployed code does not name them as strings ({}), but rows or other writers may still hold them",
            quoted.join(", "),
            evidence.searched
        )))
    } else {
        ENUM_VALUE_REMOVED
            .finding(format!(
                "{target} no longer accepts {}, and the deployed code ({base}) names them at {}: old pods writing them fail until the rollout ends",
                quoted.join(", "),
                first_places(uses.iter().copied())
            ))
            .with_evidence(evidence_lines(uses))
    };
    finding.at(change.location.clone()).with_fix(fix)
}

/// How `checks.compat.database.code_paths` select files: a glob (`app/**/*.py`), or a directory
/// or file (`src/`, `app`) meaning everything under it.
fn code_path_matches(patterns: &[(String, Option<glob::Pattern>)], path: &str) -> bool {
    patterns.iter().any(|(text, glob)| match glob {
        Some(glob) => glob.matches_with(path, super::glob_options()),
        None => {
            let dir = text.trim_end_matches('/');
            dir.is_empty() || path == dir || path.starts_with(&format!("{dir}/"))
        }
    })
}

fn code_patterns(
    config: &CompatDatabaseConfig,
) -> Result<Vec<(String, Option<glob::Pattern>)>, CheckError> {
    config
        .code_paths
        .iter()
        .map(|p| {
            let text = p.as_str().trim_start_matches("./").to_string();
            if text.contains(['*', '?', '[']) {
                glob::Pattern::new(&text)
                    .map(|g| (text.clone(), Some(g)))
                    .map_err(|e| {
                        CheckError(format!(
                            "checks.compat.database.code_paths: invalid pattern `{text}`: {e}"
                        ))
                    })
            } else {
                Ok((text, None))
            }
        })
        .collect()
}

/// Words for `git grep` to find the files worth reading: table names (and the singular a model
/// class would carry), column names and enum values.
fn search_words(targets: &Targets) -> Vec<String> {
    let mut words = BTreeSet::new();
    let mut add_table = |table: &str| {
        words.insert(table.to_string());
        let singular = singular(table);
        words.insert(singular.clone());
        // Django's default table is `<app>_<model>`: the model class is the last part.
        if let Some((_, model)) = singular.rsplit_once('_') {
            words.insert(model.to_string());
        }
        // A CamelCase class name (OrderItem) for a snake_case table (order_items).
        words.insert(singular.replace('_', ""));
    };
    for target in &targets.uses {
        add_table(&target.table);
    }
    for table in &targets.write_tables {
        add_table(table);
    }
    let mut words: BTreeSet<String> = words.into_iter().filter(|w| w.len() > 1).collect();
    for target in &targets.uses {
        if let Some(column) = &target.column {
            words.insert(column.clone());
        }
    }
    words.extend(targets.values.iter().cloned());
    words.into_iter().collect()
}

/// The singular a model class carries for a plural table name (`orders` → `order`,
/// `categories` → `category`, `addresses` → `address`), for finding candidate files only.
fn singular(table: &str) -> String {
    if let Some(stem) = table.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes", "uses"] {
        if table.ends_with(suffix) {
            return table[..table.len() - 2].to_string();
        }
    }
    match table.strip_suffix('s') {
        Some(stem) if !stem.ends_with('s') => stem.to_string(),
        _ => table.to_string(),
    }
}

/// Everything [`check`] hands back to the compat check.
pub struct DatabaseOutcome {
    pub findings: Vec<Finding>,
    pub summary: String,
}

/// Read this deploy's migrations and the deployed code, and judge. `old_files`: the files at the
/// base ref, relative to the project root; `prefix`: where the root sits in the repository.
pub fn check(
    ctx: &Context,
    config: &CompatDatabaseConfig,
    repo: &Repo,
    base: &str,
    prefix: &str,
    old_files: &BTreeSet<String>,
) -> Result<DatabaseOutcome, CheckError> {
    if config.code_paths.is_empty() {
        return Err(CheckError(
            "checks.compat.database.code_paths is empty: list where the deployed code lives (e.g. [\"src/\"]), so gonogo can search it for what the migrations drop or change".to_string(),
        ));
    }
    let patterns = code_patterns(config)?;
    let loaded = migrations::load(ctx)?;
    if loaded.paths.is_empty() {
        return Err(CheckError(
            "checks.compat.database compares this deploy's migrations with the deployed code, and no migration file was found: set checks.migrations.paths".to_string(),
        ));
    }
    let code_files: Vec<String> = old_files
        .iter()
        .filter(|p| code_path_matches(&patterns, p) && !loaded.paths.contains(*p))
        .cloned()
        .collect();
    let shown_paths: Vec<&str> = patterns.iter().map(|(t, _)| t.as_str()).collect();
    if code_files.is_empty() {
        return Err(CheckError(format!(
            "checks.compat.database.code_paths ({}) match no file at {base}: gonogo cannot search the deployed code; fix the paths (relative to the project root), or check that {base} is the deployed version",
            shown_paths.join(", ")
        )));
    }
    let all_changes = changes::changes(&loaded.files, loaded.settings.dialect);
    let deploy_files = loaded.files.iter().filter(|f| f.in_deploy).count();
    let noticed = all_changes.iter().filter(|c| matters(c)).count();
    let searched = format!(
        "searched {} under {} at {base}",
        match code_files.len() {
            1 => "1 file".to_string(),
            n => format!("{n} files"),
        },
        shown_paths.join(", ")
    );
    if noticed == 0 {
        return Ok(DatabaseOutcome {
            findings: Vec::new(),
            summary: format!(
                "database: no migration of this deploy ({deploy_files} of {} files) drops, renames or constrains what the deployed code can use",
                loaded.files.len()
            ),
        });
    }
    let targets = targets(&all_changes);
    let words = search_words(&targets);
    let markers: Vec<String> = config.markers.iter().map(|m| m.value.clone()).collect();
    let in_repo: Vec<String> = code_files.iter().map(|p| format!("{prefix}{p}")).collect();
    let candidates = repo
        .files_containing(Some(base), &words, &in_repo)
        .map_err(|e| CheckError(format!("cannot search the code of {base}: {e}")))?;
    let blobs = repo
        .files_at(base, &candidates)
        .map_err(|e| CheckError(format!("cannot read the code of {base}: {e}")))?;
    let mut evidence = Evidence {
        searched,
        ..Evidence::default()
    };
    for (path, bytes) in &blobs {
        if bytes.len() > MAX_CODE_FILE_BYTES {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let path = path.strip_prefix(prefix).unwrap_or(path);
        collect(&mut evidence, &targets, path, &text, &markers, true);
    }
    // Uses at the base that this release removed from the code: read the working tree only for
    // the targets the old code really uses.
    let used: Targets = Targets {
        uses: targets
            .uses
            .iter()
            .filter(|t| {
                evidence
                    .base
                    .get(t)
                    .is_some_and(|u| u.references.iter().any(is_strong))
            })
            .cloned()
            .collect(),
        ..Targets::default()
    };
    if !used.uses.is_empty() {
        let now_files: Vec<String> = repo
            .working_files()
            .map_err(|e| CheckError(format!("cannot list the working tree: {e}")))?
            .into_iter()
            .filter(|p| {
                p.strip_prefix(prefix)
                    .is_some_and(|p| code_path_matches(&patterns, p) && !loaded.paths.contains(p))
            })
            .collect();
        let now_candidates = repo
            .files_containing(None, &search_words(&used), &now_files)
            .map_err(|e| CheckError(format!("cannot search the working tree: {e}")))?;
        for path in now_candidates {
            let Ok(bytes) = std::fs::read(repo.top.join(&path)) else {
                continue;
            };
            if bytes.len() > MAX_CODE_FILE_BYTES {
                continue;
            }
            let text = String::from_utf8_lossy(&bytes);
            let path = path.strip_prefix(prefix).unwrap_or(&path);
            collect(&mut evidence, &used, path, &text, &markers, false);
        }
    }
    let findings = judge(&all_changes, &evidence, base);
    Ok(DatabaseOutcome {
        findings,
        summary: format!(
            "database: {noticed} {} of this deploy's migrations checked against the code of {base} ({})",
            if noticed == 1 { "change" } else { "changes" },
            evidence.searched
        ),
    })
}

/// Add what one file says about the targets to the evidence.
fn collect(
    evidence: &mut Evidence,
    targets: &Targets,
    path: &str,
    text: &str,
    markers: &[String],
    at_base: bool,
) {
    let lower = text.to_ascii_lowercase();
    for target in &targets.uses {
        let name = target.column.as_deref().unwrap_or(&target.table);
        if !lower.contains(&name.to_ascii_lowercase()) {
            continue;
        }
        let found = search::find(path, text, &target.table, target.column.as_deref(), markers);
        if found.references.is_empty() && found.markers.is_empty() {
            continue;
        }
        let map = if at_base {
            &mut evidence.base
        } else {
            &mut evidence.now
        };
        let uses = map.entry(target.clone()).or_default();
        uses.references.extend(found.references);
        uses.markers.extend(found.markers);
    }
    if !at_base {
        return;
    }
    for table in &targets.write_tables {
        let writes = search::writes(path, text, table);
        if !writes.is_empty() {
            evidence
                .writes
                .entry(table.clone())
                .or_default()
                .extend(writes);
        }
    }
    for value in &targets.values {
        if !text.contains(value.as_str()) {
            continue;
        }
        let found = search::find(path, text, "", Some(value), &[]);
        let strong: Vec<Reference> = found
            .references
            .into_iter()
            .filter(|r| r.strength >= Strength::QueryBuilder)
            .collect();
        if !strong.is_empty() {
            evidence
                .values
                .entry(value.clone())
                .or_default()
                .extend(strong);
        }
    }
}
