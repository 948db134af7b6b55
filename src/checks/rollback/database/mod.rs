//! The database side of `rollback`: can the schema and the data go back with the code?
//!
//! Reads the migration sets the context loaded once ([`crate::sql::files`]), their down
//! migrations ([`crate::sql::files::downs`]), the facts the context followed once per set
//! ([`crate::sql::followed`]: PostgreSQL operations, MySQL statements). Three questions, one
//! rule each: does a migration destroy data the previous version needs, does every migration
//! have the down its runner rolls back with, and does each down give back the schema from
//! before its up. For the last, the PostgreSQL ups and downs are followed by the one follower
//! over a schema of rollback's own ([`Replay`]: downs are no part of the set's cached facts),
//! and the [`crate::sql::postgres::shape::Shape`] before the up is compared with the one after
//! the down.
//!
//! It lives in `rollback` rather than in a check of its own because it answers the same
//! question for the same reader ("if this deploy goes wrong, can I go back?"): one row of the
//! report says it for the pods and the database together.
//!
//! With `checks.migrations.database.scratch_url` (and not `--offline`), [`drill`] also runs the
//! ups and downs for real on the scratch database, in a transaction it rolls back; where it
//! compared a down, its finding supersedes the static reading of that down.

mod down_not_undone;
pub mod drill;
mod irreversible;
mod missing_down;

pub use down_not_undone::DOWN_DOES_NOT_UNDO;
pub use drill::{DOWN_DRILL_FAILED, DOWN_LEAVES_CHANGES, NOT_DRILLABLE};
pub use irreversible::IRREVERSIBLE_MIGRATION;
pub use missing_down::MISSING_DOWN_MIGRATION;

use crate::checks::{CheckError, CheckOutcome};
use crate::config::{Dialect, TransactionMode};
use crate::context::Context;
use crate::report::Finding;
use crate::sql::files::MigrationFile;
use crate::sql::files::downs::{DownOf, DownStyle, down_of_in, set_style};
use crate::sql::followed::{FollowSettings, SetFacts, follow_files};
use crate::sql::mysql::facts::Event;
use crate::sql::postgres::operations::{FileFacts, Operation, Step};
use crate::sql::postgres::shape::Replay;
use std::path::Path;
use std::sync::Arc;

/// The operations this side reads (drops, deletes, type changes) do not depend on the server
/// version (it decides locks and rewrites); the follower needs one for its lock facts. A run
/// reads the facts the context followed with the set's own version.
const ANY_POSTGRES_VERSION: u32 = crate::config::DEFAULT_POSTGRES_VERSION;

/// One migration set as this side reads it.
pub struct SetInput<'a> {
    pub files: &'a [MigrationFile],
    pub dialect: Dialect,
    pub transaction: TransactionMode,
    /// A base ref selected this deploy's files.
    pub deploy_is_known: bool,
}

/// What the database side found in one or more sets.
#[derive(Debug, Default)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    /// Migration files of this deploy.
    pub deploy_files: usize,
    /// How the runner keeps downs, when it does (the first set's that does).
    pub style: Option<DownStyle>,
    pub irreversible: usize,
    pub without_down: usize,
    pub downs_not_undoing: usize,
    /// Downs PostgreSQL refused in the drill.
    pub downs_failing: usize,
    /// What each live drill adds to the summary.
    pub drill_notes: Vec<String>,
    /// The DROP TABLE / DROP COLUMN findings, by index in `findings`: what compat's contract
    /// step may have prepared.
    pub drops: Vec<(usize, String, Option<String>)>,
    /// Irreversible changes the deployed code had already let go of (reported as info).
    pub prepared: usize,
}

impl Analysis {
    fn add(&mut self, other: Analysis) {
        let offset = self.findings.len();
        self.drops.extend(
            other
                .drops
                .into_iter()
                .map(|(i, table, column)| (i + offset, table, column)),
        );
        self.prepared += other.prepared;
        self.findings.extend(other.findings);
        self.deploy_files += other.deploy_files;
        self.style = self.style.or(other.style);
        self.irreversible += other.irreversible;
        self.without_down += other.without_down;
        self.downs_not_undoing += other.downs_not_undoing;
        self.downs_failing += other.downs_failing;
        self.drill_notes.extend(other.drill_notes);
    }

    /// One phrase for the check's summary.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} of this deploy",
            crate::checks::kubernetes::counted(self.deploy_files, "migration")
        );
        let mut problems = Vec::new();
        if self.irreversible > 0 {
            problems.push(format!("{} destroying data", self.irreversible));
        }
        if self.prepared > 0 {
            problems.push(format!(
                "{} dropping what the deployed code no longer uses (info)",
                self.prepared
            ));
        }
        if self.without_down > 0 {
            problems.push(format!("{} without a down", self.without_down));
        }
        if self.downs_not_undoing > 0 {
            problems.push(format!(
                "{} whose down does not undo it",
                self.downs_not_undoing
            ));
        }
        if self.downs_failing > 0 {
            problems.push(format!("{} whose down fails", self.downs_failing));
        }
        if problems.is_empty() {
            out.push_str(match self.style {
                Some(_) => ", every schema change with a down that undoes it",
                None => ", none destroying data (the runner keeps no down migrations)",
            });
        } else {
            out.push_str(&format!(": {}", problems.join(", ")));
        }
        for note in &self.drill_notes {
            out.push_str(&format!("; {note}"));
        }
        out
    }
}

/// Every database rule over one set, its files followed here (for tests; a run reads the facts
/// the context followed once). `root`: where down files beside the ups are read.
pub fn analyze(root: &Path, set: &SetInput) -> Analysis {
    let settings = FollowSettings {
        transaction: set.transaction,
        postgres_version: ANY_POSTGRES_VERSION,
        deploy_is_known: set.deploy_is_known,
    };
    analyze_followed(root, set, &|| {
        Some(Arc::new(follow_files(set.files, set.dialect, settings)))
    })
}

/// Every database rule over one set whose facts `facts` gives (followed on first use: only a
/// set with files of this deploy needs them).
fn analyze_followed(
    root: &Path,
    set: &SetInput,
    facts: &dyn Fn() -> Option<Arc<SetFacts>>,
) -> Analysis {
    let mut out = Analysis {
        deploy_files: set.files.iter().filter(|f| f.in_deploy).count(),
        ..Analysis::default()
    };
    if out.deploy_files == 0 {
        return out;
    }
    let style = set_style(root, set.files);
    out.style = style;
    match facts().as_deref() {
        Some(SetFacts::Postgres(facts)) => postgres(root, set, facts, style, &mut out),
        Some(SetFacts::Mysql(events)) => mysql(root, set, events, style, &mut out),
        None => {}
    }
    out
}

fn postgres(
    root: &Path,
    set: &SetInput,
    facts: &[FileFacts],
    style: Option<DownStyle>,
    out: &mut Analysis,
) {
    // The ups again, by the one follower over a schema of rollback's own: downs are no part of
    // the set's cached facts.
    let mut replay = Replay::new(set.transaction, set.deploy_is_known);
    for (file, facts) in set.files.iter().zip(facts) {
        let before = file.in_deploy.then(|| replay.shape());
        replay.up(file);
        let Some(before) = before else {
            continue;
        };
        let mut irreversible = Vec::new();
        for step in &facts.steps {
            let Step::Statement(statement) = step else {
                continue;
            };
            for op in statement.operations.iter().flatten() {
                let Some(finding) = irreversible::check_operation(&file.path, statement, op) else {
                    continue;
                };
                let index = out.findings.len() + irreversible.len();
                match op {
                    Operation::DropTable { table } => {
                        out.drops.push((index, table.clone(), None));
                    }
                    Operation::DropColumn { table, column } => {
                        out.drops.push((index, table.clone(), Some(column.clone())));
                    }
                    _ => {}
                }
                irreversible.push(finding);
            }
        }
        for lost in irreversible::enum_values_lost(facts) {
            // Where: the first statement that names the column and ALTER … TYPE.
            let at = facts
                .steps
                .iter()
                .filter_map(|step| match step {
                    Step::Statement(s) => Some(s),
                    Step::Commit { .. } => None,
                })
                .find(|s| {
                    crate::sql::contains_ignore_case(&s.text, &lost.column)
                        && crate::sql::contains_ignore_case(&s.text, "type")
                        && crate::sql::contains_ignore_case(&s.text, "alter")
                })
                .map_or((1, 1), |s| (s.line, s.column));
            irreversible.push(irreversible::check_enum(&file.path, at.0, at.1, &lost));
        }
        out.irreversible += irreversible.len();
        out.findings.extend(irreversible);
        match down_of_in(root, file, style, set.dialect) {
            DownOf::NotUsed => {}
            DownOf::Missing { style, empty } => {
                // An up that changes no schema (a backfill, a seed, only comments) has nothing
                // for a down to put back; golang-migrate runs a missing down as a no-op.
                if before == replay.shape() {
                    continue;
                }
                out.without_down += 1;
                out.findings
                    .push(missing_down::finding(&file.path, style, empty.as_ref()));
            }
            DownOf::Found(down) => {
                if facts.unread > 0 {
                    continue;
                }
                let Some(after) = replay.after(&down.path, &down.text) else {
                    continue;
                };
                let differences = before.differences(&after);
                if !differences.is_empty() {
                    out.downs_not_undoing += 1;
                    out.findings
                        .push(down_not_undone::finding(&file.path, &down, &differences));
                }
            }
        }
    }
}

/// MySQL: the facts carry DROP TABLE and DROP COLUMN; downs are looked for, not followed (the
/// schema comparison reads PostgreSQL's grammar only).
fn mysql(
    root: &Path,
    set: &SetInput,
    events: &[Vec<Event>],
    style: Option<DownStyle>,
    out: &mut Analysis,
) {
    use crate::sql::mysql::facts::Change;
    let mut drops = Vec::new();
    let findings = {
        let mut findings = Vec::new();
        for (file, events) in set.files.iter().zip(events) {
            for event in events {
                let Event::Statement(statement) = event else {
                    continue;
                };
                if !file.in_deploy {
                    continue;
                }
                for change in &statement.changes {
                    let (what, lost, target) = match change {
                        Change::DropTable { table } => (
                            format!("DROP TABLE {}", table.name),
                            format!("the table {} and every row in it", table.name),
                            (table.name.clone(), None),
                        ),
                        Change::DropColumn { table, column } => (
                            format!("DROP COLUMN {}.{column}", table.name),
                            format!("the values of {}.{column}", table.name),
                            (table.name.clone(), Some(column.clone())),
                        ),
                        _ => continue,
                    };
                    drops.push((findings.len(), target.0, target.1));
                    findings.push(irreversible::check_mysql(
                        &file.path,
                        statement.pos.line,
                        statement.pos.column,
                        &what,
                        &lost,
                    ));
                }
            }
        }
        findings
    };
    out.irreversible += findings.len();
    let offset = out.findings.len();
    out.drops.extend(
        drops
            .into_iter()
            .map(|(i, table, column)| (i + offset, table, column)),
    );
    out.findings.extend(findings);
    for file in set.files.iter().filter(|f| f.in_deploy) {
        if let DownOf::Missing { style, empty } = down_of_in(root, file, style, set.dialect) {
            out.without_down += 1;
            out.findings
                .push(missing_down::finding(&file.path, style, empty.as_ref()));
        }
    }
}

/// One set's live drill, prepared: `Err` is why it does not run (said in the summary).
pub struct DrillInput {
    pub label: String,
    pub run: Result<(drill::Settings, Vec<drill::Migration>), String>,
}

/// The database side over every migration set of the run, and the live drills to run; `None`
/// when there is nothing of this deploy to judge (no migrations found, none changed since the
/// base, or sets the `migrations` check reports as unusable).
pub fn run(ctx: &Context) -> Option<(Analysis, Vec<DrillInput>)> {
    let sets = ctx.migration_sets().ok()?;
    let mut total = Analysis::default();
    let mut drills = Vec::new();
    for set in sets.iter() {
        let section = set
            .config_index
            .and_then(|i| ctx.config.checks.migrations.as_ref()?.sets.get(i));
        let input = SetInput {
            files: &set.files,
            dialect: set.dialect,
            transaction: section.map(|s| s.transaction).unwrap_or_default(),
            deploy_is_known: set.deploy_is_known,
        };
        // The facts the context follows once per run, with the set's settings.
        let facts = || ctx.migration_facts(set).ok();
        let analysis = analyze_followed(&ctx.root, &input, &facts);
        let database = section.and_then(|s| s.database.as_ref());
        let url = |u: Option<&crate::config::ConfigString>| {
            u.map(|s| s.value.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let scratch_url = url(database.and_then(|d| d.scratch_url.as_ref()));
        if let Some(scratch_url) = scratch_url
            && analysis.deploy_files > 0
            && set.dialect == Dialect::Postgres
        {
            let label = set
                .name
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            let run = if ctx.offline {
                Err("--offline".to_string())
            } else if !set.deploy_is_known {
                Err("without a base ref (--base) every migration file counts as this deploy's, and gonogo does not replay the whole history on scratch_url".to_string())
            } else if analysis.style.is_none() {
                Err("the migration runner keeps no down migrations".to_string())
            } else {
                let settings = drill::Settings {
                    scratch_url,
                    stats_url: url(database.and_then(|d| d.stats_url.as_ref())),
                    as_superuser: database.and_then(|d| d.trace_as_superuser).unwrap_or(false),
                    // Leave the runner a second to report what the drill found.
                    budget: drill::DRILL_BUDGET.min(
                        ctx.deadline
                            .saturating_sub(std::time::Duration::from_secs(1))
                            .max(std::time::Duration::from_millis(100)),
                    ),
                };
                Ok((
                    settings,
                    drill::migrations(&ctx.root, &set.files, analysis.style),
                ))
            };
            drills.push(DrillInput { label, run });
        }
        total.add(analysis);
    }
    if total.deploy_files == 0 {
        return None;
    }
    prepared_contract(ctx, &sets[..], &mut total);
    Some((total, drills))
}

/// A DROP TABLE or DROP COLUMN whose contract step compat can see in the deployed code (the
/// version a rollback returns to) destroys nothing that version needs: Rails `ignored_columns`
/// or a configured marker (`gonogo:dropping`) names it, or no file under
/// `checks.compat.database.code_paths` at the base uses it. Such a finding becomes `info`, with
/// the evidence. Without `checks.compat.database` (or a base ref) nothing changes.
fn prepared_contract(
    ctx: &Context,
    sets: &[Arc<crate::sql::files::MigrationSet>],
    total: &mut Analysis,
) {
    let Some(config) = ctx
        .config
        .checks
        .compat
        .as_ref()
        .and_then(|c| c.database.as_ref())
        .filter(|d| !d.code_paths.is_empty())
    else {
        return;
    };
    let (Some(repo), Some(base)) = (ctx.repo.as_ref(), ctx.base.as_deref()) else {
        return;
    };
    if total.drops.is_empty() {
        return;
    }
    let targets: Vec<(String, Option<String>)> = total
        .drops
        .iter()
        .map(|(_, table, column)| (table.clone(), column.clone()))
        .collect();
    let migrations: std::collections::BTreeSet<String> =
        sets.iter().flat_map(|s| s.paths.iter().cloned()).collect();
    let markers: Vec<String> = config.markers.iter().map(|m| m.value.clone()).collect();
    // A code search that fails leaves the findings as they are: not knowing is no evidence.
    let Ok(about) = crate::code::deployed_code_about(
        repo,
        base,
        &ctx.root,
        &config.code_paths,
        &markers,
        &migrations,
        &targets,
    ) else {
        return;
    };
    for (index, table, column) in &total.drops {
        let Some(letting) = about.get(&(table.clone(), column.clone())) else {
            continue;
        };
        let name = match column {
            Some(column) => format!("{table}.{column}"),
            None => table.clone(),
        };
        let why = if let Some(marker) = letting.markers.first() {
            format!(
                "the deployed code ({base}) marks {name} as going away at {}:{} (`{}`)",
                marker.path, marker.line, marker.text
            )
        } else if !letting.used {
            format!(
                "no file under checks.compat.database.code_paths at {base} (the version a rollback returns to) uses {name}"
            )
        } else {
            continue;
        };
        let Some(finding) = total.findings.get_mut(*index) else {
            continue;
        };
        if finding.severity == crate::report::Severity::Info {
            continue;
        }
        finding.severity = crate::report::Severity::Info;
        let consequence = irreversible::CONSEQUENCE;
        finding.message = match finding.message.strip_suffix(consequence) {
            Some(what) => format!("{what}; prepared: {why}, so a rollback does not need them"),
            None => format!("{}; prepared: {why}", finding.message),
        };
        total.irreversible -= 1;
        total.prepared += 1;
    }
}

/// The pods' outcome with the database side added: its findings, and its summary after the
/// pods' (or instead of a skip, which then no longer applies to the whole check).
pub async fn with_database(
    ctx: Arc<Context>,
    pods: Result<CheckOutcome, CheckError>,
) -> Result<CheckOutcome, CheckError> {
    let database = tokio::task::spawn_blocking(move || run(&ctx))
        .await
        .map_err(|e| CheckError(format!("the rollback check crashed: {e}")))?;
    let Some((mut database, drills)) = database else {
        return pods;
    };
    let mut drill_error = None;
    for input in drills {
        let (settings, migrations) = match input.run {
            Ok(prepared) => prepared,
            Err(why) => {
                database
                    .drill_notes
                    .push(format!("drill{} skipped: {why}", input.label));
                continue;
            }
        };
        let drilled = drill::run(&migrations, &settings).await;
        if let Some(reason) = drilled.error {
            drill_error.get_or_insert(format!(
                "the rollback drill{} could not decide: {reason}",
                input.label
            ));
            continue;
        }
        supersede_static(&mut database, &migrations, &drilled.compared);
        database.downs_not_undoing += drilled.leaving_changes;
        database.downs_failing += drilled.failed;
        database.findings.extend(drilled.findings);
        database
            .drill_notes
            .push(format!("{}{}", drilled.note, input.label));
    }
    let mut outcome = pods?;
    let summary = format!("database: {}", database.summary());
    if outcome.status == Some(crate::report::Status::Skip) {
        outcome.summary = format!("{summary}; pods: {}", outcome.summary);
        outcome.status = None;
    } else {
        outcome.summary = format!("{}; {summary}", outcome.summary);
    }
    if let Some(reason) = drill_error {
        // Not knowing is not a go; the static findings stay in the report.
        outcome.status = Some(crate::report::Status::Error);
        outcome.summary = format!("{reason} ({})", outcome.summary);
    }
    outcome.findings.extend(database.findings);
    Ok(outcome)
}

/// Where the drill ran and compared a down, the real catalog answers what the static reading
/// of that down guessed: its `down-does-not-undo` finding goes.
fn supersede_static(database: &mut Analysis, migrations: &[drill::Migration], compared: &[String]) {
    let at: Vec<(&str, u32)> = migrations
        .iter()
        .filter(|m| compared.contains(&m.path))
        .filter_map(|m| {
            m.down
                .as_ref()
                .map(|(down, _)| (down.path.as_str(), down.line))
        })
        .collect();
    let before = database.findings.len();
    database.findings.retain(|f| {
        f.rule != DOWN_DOES_NOT_UNDO.id
            || !f
                .location
                .as_ref()
                .is_some_and(|l| at.contains(&(l.path.as_str(), l.line.unwrap_or(0))))
    });
    database.downs_not_undoing -= before - database.findings.len();
}
