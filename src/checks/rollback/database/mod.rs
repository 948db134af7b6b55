//! The database side of `rollback`: can the schema and the data go back with the code?
//!
//! Reads the migration sets the context loaded once ([`crate::sql::files`]), their down
//! migrations ([`crate::sql::files::downs`]), the facts the context followed once per set
//! ([`crate::sql::followed`]: PostgreSQL operations, MySQL statements) and the PostgreSQL schema
//! catalog ([`crate::sql::postgres::catalog`]). Three questions, one rule each: does a
//! migration destroy data the previous version needs, does every migration have the down its
//! runner rolls back with, and does each down give back the schema from before its up.
//!
//! It lives in `rollback` rather than in a check of its own because it answers the same
//! question for the same reader ("if this deploy goes wrong, can I go back?"): one row of the
//! report says it for the pods and the database together.

mod down_not_undone;
mod irreversible;
mod missing_down;

pub use down_not_undone::DOWN_DOES_NOT_UNDO;
pub use irreversible::IRREVERSIBLE_MIGRATION;
pub use missing_down::MISSING_DOWN_MIGRATION;

use crate::checks::{CheckError, CheckOutcome};
use crate::config::{Dialect, TransactionMode};
use crate::context::Context;
use crate::report::Finding;
use crate::sql::files::MigrationFile;
use crate::sql::files::downs::{DownOf, DownStyle, down_of, set_style};
use crate::sql::followed::{FollowSettings, SetFacts, follow_files};
use crate::sql::mysql::facts::Event;
use crate::sql::postgres::catalog::Catalog;
use crate::sql::postgres::operations::FileFacts;
use crate::sql::postgres::{parse, unread_count};
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
}

impl Analysis {
    fn add(&mut self, other: Analysis) {
        self.findings.extend(other.findings);
        self.deploy_files += other.deploy_files;
        self.style = self.style.or(other.style);
        self.irreversible += other.irreversible;
        self.without_down += other.without_down;
        self.downs_not_undoing += other.downs_not_undoing;
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
        if self.without_down > 0 {
            problems.push(format!("{} without a down", self.without_down));
        }
        if self.downs_not_undoing > 0 {
            problems.push(format!(
                "{} whose down does not undo it",
                self.downs_not_undoing
            ));
        }
        if problems.is_empty() {
            out.push_str(match self.style {
                Some(_) => ", every schema change with a down that undoes it",
                None => ", none destroying data (the runner keeps no down migrations)",
            });
        } else {
            out.push_str(&format!(": {}", problems.join(", ")));
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
    let mut catalog = Catalog::default();
    for (file, facts) in set.files.iter().zip(facts) {
        let before = file.in_deploy.then(|| catalog.clone());
        let up = parse(crate::sql::up_section(&file.text));
        let lost = catalog.follow(&up);
        let Some(before) = before else {
            continue;
        };
        let mut irreversible = Vec::new();
        for step in &facts.steps {
            let crate::sql::postgres::operations::Step::Statement(statement) = step else {
                continue;
            };
            for op in statement.operations.iter().flatten() {
                irreversible.extend(irreversible::check_operation(&file.path, statement, op));
            }
        }
        for lost in &lost {
            // Where: the ALTER COLUMN … TYPE that moved the column to the narrower type.
            let at = up
                .iter()
                .find(|s| {
                    crate::sql::contains_ignore_case(&s.text, &lost.column)
                        && crate::sql::contains_ignore_case(&s.text, "type")
                        && crate::sql::contains_ignore_case(&s.text, "alter")
                })
                .map_or((1, 1), |s| (s.line, s.column));
            irreversible.push(irreversible::check_enum(&file.path, at.0, at.1, lost));
        }
        out.irreversible += irreversible.len();
        out.findings.extend(irreversible);
        match down_of(root, file, style) {
            DownOf::NotUsed => {}
            DownOf::Missing { style, empty } => {
                // An up that changes no schema (a backfill, a seed, only comments) has nothing
                // for a down to put back; golang-migrate runs a missing down as a no-op.
                if before == catalog {
                    continue;
                }
                out.without_down += 1;
                out.findings
                    .push(missing_down::finding(&file.path, style, empty.as_ref()));
            }
            DownOf::Found(down) => {
                let down_statements = parse(&down.text);
                if unread_count(&up) > 0 || unread_count(&down_statements) > 0 {
                    continue;
                }
                let mut after = catalog.clone();
                after.follow(&down_statements);
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
                    let (what, lost) = match change {
                        Change::DropTable { table } => (
                            format!("DROP TABLE {}", table.name),
                            format!("the table {} and every row in it", table.name),
                        ),
                        Change::DropColumn { table, column } => (
                            format!("DROP COLUMN {}.{column}", table.name),
                            format!("the values of {}.{column}", table.name),
                        ),
                        _ => continue,
                    };
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
    out.findings.extend(findings);
    for file in set.files.iter().filter(|f| f.in_deploy) {
        if let DownOf::Missing { style, empty } = down_of(root, file, style) {
            out.without_down += 1;
            out.findings
                .push(missing_down::finding(&file.path, style, empty.as_ref()));
        }
    }
}

/// The database side over every migration set of the run; `None` when there is nothing of
/// this deploy to judge (no migrations found, none changed since the base, or sets the
/// `migrations` check reports as unusable).
pub fn run(ctx: &Context) -> Option<Analysis> {
    let sets = ctx.migration_sets().ok()?;
    let mut total = Analysis::default();
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
        total.add(analyze_followed(&ctx.root, &input, &facts));
    }
    (total.deploy_files > 0).then_some(total)
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
    let Some(database) = database else {
        return pods;
    };
    let mut outcome = pods?;
    let summary = format!("database: {}", database.summary());
    if outcome.status == Some(crate::report::Status::Skip) {
        outcome.summary = format!("{summary}; pods: {}", outcome.summary);
        outcome.status = None;
    } else {
        outcome.summary = format!("{}; {summary}", outcome.summary);
    }
    outcome.findings.extend(database.findings);
    Ok(outcome)
}
