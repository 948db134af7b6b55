//! Judging: each schema change of this deploy against what the deployed code does with the
//! table or column. Pure: the evidence comes in already gathered (see `check` in mod.rs).
//!
//! Only a use gonogo can tie to the table fails a drop (SQL naming the table, a model field
//! mapped to it, a query-builder name near it); a bare identifier never does, because a parameter
//! named `total` is not a use of the column `total`. Writes are judged by the columns they
//! provide: a new NOT NULL column rejects every old INSERT that leaves it out.

use super::changes::{Change, ChangeKind};
use super::rules::*;
use super::search::{Marker, Reference, Strength, Write, WriteKind};
use super::{Evidence, Target, Targets, Uses};
use crate::report::{Finding, Severity};

/// At most this many uses are listed in a finding's evidence.
const EVIDENCE_LINES: usize = 5;

/// Changes of this deploy on tables that existed before it: what old pods can notice.
pub(super) fn matters(change: &Change) -> bool {
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
                // The table's models: one that no longer declares the column is evidence too.
                out.write_tables.insert(table.to_string());
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
            ChangeKind::DropNotNull { column } => {
                out.nullable.insert(Target::column(table, column));
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
pub(super) fn is_strong(reference: &Reference) -> bool {
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
                let replaced = expansion(changes, change, evidence, base, &mut findings);
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
                let replaced = expansion(changes, change, evidence, base, &mut findings);
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
            } => {
                // A CHECK passes when it evaluates to NULL: on a column this deploy adds without
                // a default, the old code's rows hold NULL there, and an expression that does
                // not handle NULL itself (IS NULL, COALESCE, CASE, …) passes them.
                let on_new_columns = !columns.is_empty()
                    && columns.iter().all(|c| added_unfilled(changes, table, c));
                if !on_new_columns || handles_null(expression) {
                    findings.extend(check_constraint(
                        change, columns, expression, evidence, base,
                    ))
                }
            }
            ChangeKind::AddUnique {
                columns,
                unless_null,
            } => {
                // Rows the old code writes hold NULL in a column this deploy adds without a
                // default: NULLs never collide in a UNIQUE index (PostgreSQL's default NULLS
                // DISTINCT, MySQL), and a partial index whose predicate NULL makes not true
                // does not even hold those rows.
                let old_writes_null = |c: &String| added_unfilled(changes, table, c);
                if !columns.iter().any(old_writes_null) && !unless_null.iter().any(old_writes_null)
                {
                    findings.extend(unique(change, columns, evidence, base))
                }
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
            ChangeKind::DropNotNull { column } => {
                findings.extend(null_into_non_null(change, column, evidence, base))
            }
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
    let fix = match (renamed_to, &target.column) {
        (Some(to), Some(_)) => three_deploys(target, to),
        (Some(to), None) => format!(
            "{} (meanwhile a view named {} keeps old pods working)",
            three_deploys(target, to),
            target.table
        ),
        (None, _) => format!(
            "contract in a later deploy: first ship code that no longer reads or writes {target} (Rails ignored_columns, the field removed from the model), then drop it once no running version uses it"
        ),
    };
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
    // A model of the table that no longer declares the column: the ORM stopped reading and
    // writing it (a Django field removed from the model while the migration lags one release).
    if let Some(column) = &target.column {
        let models: Vec<&Write> = evidence
            .writes
            .get(&target.table)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter(|w| w.kind == WriteKind::Model && provides(w, column) == Some(false))
            .collect();
        if !models.is_empty() {
            return CONTRACT_PREPARED
                .finding(format!(
                    "{what}: the deployed code ({base}) maps {} in a model without {column} at {}: its ORM no longer reads or writes the column",
                    target.table,
                    write_places(&models)
                ))
                .at(location)
                .with_evidence(write_evidence(&models));
        }
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
            "{what}: {target} appears in the deployed code ({base}) only where gonogo cannot tie it to the table ({}); check those before the old pods lose it ({})",
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

/// The three deploys of expand and contract, with the user's names.
fn three_deploys(old: &Target, new: &str) -> String {
    match &old.column {
        Some(column) => format!(
            "three deploys: (1) add {new} and make the code write both {column} and {new}; (2) backfill {new} from {column} in batches and switch reads to {new}; (3) once no running version uses {column}, drop it"
        ),
        None => format!(
            "three deploys: (1) create {new} and make the code write both {table} and {new}; (2) copy the rows of {table} in batches and switch reads to {new}; (3) once no running version uses {table}, drop it",
            table = old.table
        ),
    }
}

/// What replaces a dropped column or table, as the migrations show it: a column backfilled from
/// it (`UPDATE t SET new = f(old)`), or a table filled from it (`INSERT INTO new SELECT … FROM
/// old`).
struct Replacement<'a> {
    old: Target,
    new: Target,
    /// The backfill or the copy.
    filled_by: &'a Change,
    /// Where a migration created the replacement, if one did.
    created: Option<&'a Change>,
}

impl Replacement<'_> {
    fn find<'a>(changes: &'a [Change], drop: &Change) -> Option<Replacement<'a>> {
        let table = drop.table.as_str();
        match &drop.kind {
            ChangeKind::DropColumn { column } => {
                let (backfill, new) = column_replacement(changes, table, column)?;
                Some(Replacement {
                    old: Target::column(table, column),
                    created: column_added(changes, table, &new),
                    new: Target::column(table, &new),
                    filled_by: backfill,
                })
            }
            ChangeKind::DropTable => {
                let copy = table_replacement(changes, table)?;
                Some(Replacement {
                    old: Target::table(table),
                    new: Target::table(&copy.table),
                    filled_by: copy,
                    created: table_created(changes, &copy.table),
                })
            }
            _ => None,
        }
    }

    /// The short names: the column for columns, the table for tables.
    fn names(&self) -> (&str, &str) {
        match (&self.old.column, &self.new.column) {
            (Some(old), Some(new)) => (old, new),
            _ => (&self.old.table, &self.new.table),
        }
    }
}

/// A drop whose replacement the migrations show must come after the replacement shipped in an
/// earlier deploy. Pushes a finding when it did not; returns whether the deployed code already
/// uses the replacement (then the drop is the contract step).
fn expansion(
    changes: &[Change],
    drop: &Change,
    evidence: &Evidence,
    base: &str,
    findings: &mut Vec<Finding>,
) -> bool {
    let Some(replacement) = Replacement::find(changes, drop) else {
        return false;
    };
    let (old, new) = replacement.names();
    let filled_at = at(replacement.filled_by);
    let is_column = replacement.old.column.is_some();
    let finding = if replacement.created.is_some_and(|c| c.in_deploy)
        || replacement.filled_by.in_deploy
    {
        let created = replacement.created.map_or_else(String::new, |c| {
            format!(
                "{} {new} ({}), ",
                if is_column { "adds" } else { "creates" },
                at(c)
            )
        });
        let filled = if is_column {
            format!("backfills {new} from {old} ({filled_at})")
        } else {
            format!("copies {old} into it ({filled_at})")
        };
        format!(
            "this deploy {created}{filled} and drops {}: old pods keep writing {old} and never write {new} until the rollout ends",
            replacement.old
        )
    } else if evidence
        .base
        .get(&replacement.new)
        .is_some_and(|uses| uses.references.iter().any(is_strong))
    {
        return true;
    } else {
        format!(
            "{} replaces {old} ({} at {filled_at}), but the deployed code ({base}) does not use {new} yet: the expand step has not shipped, so old pods write only {old}",
            replacement.new,
            if is_column { "backfilled" } else { "copied" }
        )
    };
    findings.push(
        EXPAND_AND_CONTRACT_TOGETHER
            .finding(finding)
            .at(drop.location.clone())
            .with_fix(three_deploys(&replacement.old, new)),
    );
    false
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
        let mut rejected: Vec<&Write> = columns
            .iter()
            .flat_map(|c| inserts_without(writes, c, false))
            .collect();
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
    constraint_warning(
        change,
        &format!("CHECK ({expression}) on {table}"),
        columns,
        evidence,
        base,
        "the values it writes must satisfy the new check",
        fix,
    )
}

/// A new UNIQUE constraint or index: old writes of those columns may now collide.
fn unique(change: &Change, columns: &[String], evidence: &Evidence, base: &str) -> Option<Finding> {
    constraint_warning(
        change,
        &format!("UNIQUE ({}) on {}", columns.join(", "), change.table),
        columns,
        evidence,
        base,
        "a duplicate it writes is rejected once the constraint exists",
        "ship code that never writes duplicates (and dedupe existing rows) before adding the constraint".to_string(),
    )
}

/// A new constraint the old writes may break, as a warning: gonogo sees which columns the old
/// code writes, not the values it writes. No write found at all is a warning too: the writers
/// are somewhere gonogo did not look.
fn constraint_warning(
    change: &Change,
    what: &str,
    columns: &[String],
    evidence: &Evidence,
    base: &str,
    consequence: &str,
    fix: String,
) -> Option<Finding> {
    let table = change.table.as_str();
    let writes = evidence.writes.get(table).map_or(&[][..], Vec::as_slice);
    if writes.is_empty() {
        return Some(
            warn(OLD_WRITES_REJECTED.finding(format!(
                "{what}: no write of {table} found in the deployed code ({}); gonogo cannot tell whether the old pods write rows it rejects",
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
            "{what}: the deployed code ({base}) writes {} at {}; {consequence}",
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

/// DROP NOT NULL: harmless to old writes, but once the new code writes a NULL, old pods that
/// read the column into a field that cannot hold one fail (database/sql: "converting NULL to
/// string is unsupported"; Diesel: "Unexpected null for non-null column"; Hibernate: a NULL
/// in a primitive or a Kotlin non-null property) or take a zero value for data. Only reported
/// with such a field as evidence: without one, nothing old reads breaks.
fn null_into_non_null(
    change: &Change,
    column: &str,
    evidence: &Evidence,
    base: &str,
) -> Option<Finding> {
    let table = change.table.as_str();
    let fields = evidence
        .non_null_fields
        .get(&Target::column(table, column))?;
    let first = fields.first()?;
    let places = first_places(fields.iter().map(|(r, _)| r));
    let lines: Vec<String> = fields
        .iter()
        .take(EVIDENCE_LINES)
        .map(|(r, ty)| {
            format!(
                "{}:{}: {}  (reads {column} into {ty})",
                r.path, r.line, r.snippet
            )
        })
        .collect();
    Some(
        NULL_READ_INTO_NON_NULL
            .finding(format!(
                "DROP NOT NULL on {table}.{column}: the deployed code ({base}) reads {column} into a field that cannot hold NULL ({} at {places}); once the new version writes a NULL, old pods fail to load that row or read it as {} until the rollout ends",
                first.1,
                zero_value(&first.1)
            ))
            .at(change.location.clone())
            .with_evidence(lines.join("\n"))
            .with_fix(format!(
                "ship the new version writing no NULL into {column} until every running version reads it as nullable (a pointer, sql.Null*, Option, a `?` type); or make the old field nullable first"
            )),
    )
}

/// How a reader that does not fail sees a NULL.
fn zero_value(ty: &str) -> &'static str {
    match ty {
        "string" | "String" => "an empty string",
        "bool" | "boolean" | "Boolean" => "false",
        "time.Time" => "the zero time",
        _ => "a zero value",
    }
}

/// Whether this deploy added `column` to `table` with nothing that fills it: rows the old code
/// writes (which never names it) hold NULL there.
fn added_unfilled(changes: &[Change], table: &str, column: &str) -> bool {
    changes.iter().any(|change| {
        change.in_deploy
            && change.table == table
            && matches!(&change.kind, ChangeKind::AddColumn { column: c, filled: false, not_null_without_default: false } if c.eq_ignore_ascii_case(column))
    })
}

/// Whether a CHECK expression can turn NULL into true or false itself, so a NULL column does
/// not simply pass it.
fn handles_null(expression: &str) -> bool {
    let lower = expression.to_ascii_lowercase();
    ["null", "coalesce", "case", "ifnull", "nvl", "distinct"]
        .iter()
        .any(|w| lower.contains(w))
}
