//! `migrations`: does this deploy's migration need a lock, on which table, does it rewrite or scan
//! it, and what is the safe way instead.
//!
//! This deploy's migrations are the SQL files under `paths` added or changed since the base ref
//! (all of them without a base). Older migrations are read too, without findings, so gonogo knows
//! which tables exist and the current type of each column. PostgreSQL is parsed with the real
//! grammar (`pg_query`); MySQL with `sqlparser`.

mod compat;
pub mod live;
mod mysql;
mod pg;

use crate::checks::{Check, CheckError, CheckFuture, CheckOutcome, Rule};
use crate::config::{Config, Dialect, MigrationsConfig, TransactionMode};
use crate::context::Context;
use crate::declare_rule;
use crate::report::{Finding, Location, Severity, Status};
use crate::sql::files::{FileProblem, MigrationSet};
use crate::sql::followed::{FollowSettings, SetFacts, follow_files};
use std::collections::BTreeSet;
use std::sync::Arc;

pub use crate::sql::files::MigrationFile;
pub use compat::{ADD_COLUMN_NOT_NULL, DROP_COLUMN, DROP_TABLE, RENAME_COLUMN, RENAME_TABLE};

/// Past this many unparsable statements in one file, one more finding says how many were left out.
const MAX_UNPARSED_PER_FILE: usize = 10;
pub use crate::config::DEFAULT_POSTGRES_VERSION;

declare_rule! {
    order: 340;
    /// ## What it catches
    /// A statement gonogo cannot read or judge, where it cannot tell what the database would do:
    /// an `EXECUTE` of SQL built at run time, a psql meta-command (`\connect`), a template
    /// placeholder the runner expands (`{{ .Namespace }}`, `${schema}`), or (MySQL) a statement
    /// gonogo's MySQL parser does not read. A statement PostgreSQL's grammar rejects is
    /// `migrations/pg-syntax-error` instead.
    ///
    /// ## Why it matters during a deploy
    /// "I'm not sure" is not a pass: a statement nobody analysed may take any lock, or fail.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders MODIFY COLUMN amount bigint;  -- MySQL syntax in a PostgreSQL migration
    /// ```
    ///
    /// ## Do this instead
    /// Fix the syntax, or check the statement by hand and waive it with
    /// `-- gonogo:ignore migrations/unparsed-statement <what you checked>`.
    pub UNPARSED_STATEMENT = ("migrations/unparsed-statement", Fail, "a statement gonogo cannot parse or judge");
}

declare_rule! {
    order: 350;
    /// ## What it catches
    /// A migration file gonogo cannot read as SQL text: not UTF-8, larger than 8 MiB, or empty
    /// (an empty file is `info`).
    ///
    /// ## Why it matters during a deploy
    /// A file gonogo cannot read is a file nobody checked.
    ///
    /// ## Example
    /// A migration saved as UTF-16 by an editor, or a data dump committed under `migrations/`.
    ///
    /// ## Do this instead
    /// Save migrations as UTF-8; keep data loads out of schema migrations.
    pub UNREADABLE_FILE = ("migrations/unreadable-file", Fail, "a migration file that is not UTF-8 SQL text or is too large to analyse");
}

declare_rule! {
    order: 360;
    /// ## What it catches
    /// A pattern in `checks.migrations.paths` that matches no file.
    ///
    /// ## Why it matters during a deploy
    /// A typo in the path silently turns the migration check off.
    ///
    /// ## Example
    /// `paths: ["db/migration/*.sql"]` when the folder is `db/migrations`.
    ///
    /// ## Do this instead
    /// Fix the pattern; `gonogo init` writes the paths it finds.
    pub UNMATCHED_PATH = ("migrations/unmatched-path", Warn, "a configured migrations path matches no file");
}

declare_rule! {
    order: 370;
    /// ## What it catches
    /// A migration file the base ref already had, edited (or renamed) in this deploy.
    ///
    /// ## Why it matters during a deploy
    /// Migration runners record which versions they applied and never run one again
    /// (golang-migrate, goose, Flyway, sqlx, pop/popx all key by the version in the file name): the
    /// edit reaches no existing database, so production and a fresh install drift apart. gonogo
    /// follows the file as the base had it (that is what the database ran) and judges none of its
    /// statements again; a table it creates stays an existing table for later migrations. A file
    /// renamed with its version unchanged is still applied (`info`); renamed to a new version, it
    /// is new to the runner, which runs it again (`warn`, and its statements are judged). Files the
    /// runner applies again when they change are not applied migrations: a Flyway repeatable
    /// migration (`R__x.sql`, re-applied when its checksum changes) or a file in a folder named
    /// `repeatable`/`replaceable` (Lemmy's `replaceable_schema/`); their edits are this deploy's
    /// SQL and are judged as such.
    ///
    /// ## Example
    /// ```sql
    /// -- 0003_users.sql, applied at v1.4.0, now schema-qualified:
    /// CREATE TABLE app.users (id bigint PRIMARY KEY);
    /// ```
    ///
    /// ## Do this instead
    /// Leave applied migrations as they are and put the change in a new migration; if only a fresh
    /// install needs the edit (a comment, a schema name), say so in the commit and waive this with
    /// `waivers:` (path and reason).
    pub APPLIED_MIGRATION_EDITED = ("migrations/applied-migration-edited", Warn, "a migration the deployed version already applied was edited: runners do not re-run it");
}

/// The check's settings, from config or guessed.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dialect: Dialect,
    pub postgres_version: u32,
    pub transaction: TransactionMode,
    /// `checks.compat.database` is set: drops and renames are judged there, against the code.
    pub old_code_judged_by_compat: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dialect: Dialect::Postgres,
            postgres_version: DEFAULT_POSTGRES_VERSION,
            transaction: TransactionMode::PerFile,
            old_code_judged_by_compat: false,
        }
    }
}

pub struct Migrations;

pub static RULES: &[&Rule] = crate::checks::registry::MIGRATIONS;

const DOCS: &str = "\
Does this deploy's migration need a lock, on which table, does it rewrite or scan the table, and
what is the safe way instead?

gonogo reads the SQL files under `checks.migrations.paths` and reports, for those added or changed
since the base ref (all of them without a base), every statement that blocks reads or writes on
an existing table: the lock mode, whether it rewrites or scans, and the safe alternative written
with your table and column names. Older migrations are read silently, so gonogo knows which
tables exist and each column's current type. Tables created earlier in this deploy are new and
empty: statements on them are safe.

Config:
  checks:
    migrations:
      paths: [\"db/migrations/*.sql\"]
      dialect: postgres        # postgres | mysql
      postgres_version: 15
      transaction: per-file    # how your runner wraps files: per-file | per-statement | none
      max_lock_seconds: 2      # a write-blocking lock estimated longer than this fails
      database:                # optional, PostgreSQL; skipped with --offline
        stats_url: env:GONOGO_STATS_URL     # read-only: sizes and activity for lock-time estimates,
                                            # and a pre-flight of sessions holding locks now
        scratch_url: env:GONOGO_SCRATCH_URL # disposable copy of the schema: real locks traced in
                                            # a transaction that is always rolled back
        trace_as_superuser: false           # a superuser scratch role is refused unless true
      costs: {rewrite_mb_per_s: 60, scan_mb_per_s: 400}  # MB/s; defaults in live/estimate.rs

The trace on scratch_url does not trust the migration it runs: one statement per extended-protocol
Parse (no smuggled COMMIT), read as the server reads it (SET standard_conforming_strings = off is
followed; a statement the server could read differently is not traced); catalog reads name
pg_catalog with search_path pinned; nothing that acts outside the transaction runs (COPY, dblink,
replication slots, subscriptions, nextval/setval/ALTER SEQUENCE/INSERT, pg_terminate_backend, large
objects, ALTER SYSTEM, VACUUM, CREATE DATABASE; also inside DO blocks and the functions the migration
defines), each reported as `not traced: <why>`; a superuser role is refused unless
trace_as_superuser; with stats_url set, the two must be proven different databases by
pg_control_system() or the trace is refused; a trace raises a static prediction, and lowers one only
for a plain top-level statement that locked the table; at the deadline the running statement is
cancelled and the connection closed.

What runs, as the runner runs it: a file the base ref had is applied (runners never re-run a
version); an edit to it is reported once (migrations/applied-migration-edited) and the file is
followed as the base had it. Files run folder by folder, names compared with numbers as numbers
(Flyway V1_2__ before V1_10__, 2_x.sql before 10_x.sql), or in the order `order_file:` lists
(one file a line; atlas.sum reads as is). X.postgres.up.sql wins over X.up.sql, an empty variant
skips it. Per-file markers override `transaction`: goose `-- +goose NO TRANSACTION`, Flyway
`executeInTransaction=false` in V1__x.sql.conf (per-statement); sqlx `-- no-transaction`, popx
`.autocommit.` (none). `placeholders: {\"${schema}\": app}` fills templated SQL before parsing.
`paths` take `!glob` exclusions and `{a,b}` alternatives. `checks.migrations` may be a list of
sets, each with a `name` and its own keys and schema (one per database).

Without a config, gonogo looks for **/migrations/**/*.sql and db/migrate/**/*.sql and guesses
the dialect. Waive a statement with `-- gonogo:ignore migrations/<rule> <reason>` on the line
before it.";

impl Check for Migrations {
    fn id(&self) -> &str {
        "migrations"
    }
    fn title(&self) -> &str {
        "Migration lock risk"
    }
    fn docs(&self) -> &str {
        DOCS
    }
    fn rules(&self) -> &'static [&'static Rule] {
        RULES
    }
    fn enabled_by(&self, config: &Config) -> bool {
        config.checks.migrations.is_some()
    }
    // The static analysis needs neither network nor database; the live part (stats_url,
    // scratch_url) is skipped on its own with --offline, and the summary says so.
    fn run(&self, ctx: Arc<Context>) -> CheckFuture {
        Box::pin(async move {
            let started = std::time::Instant::now();
            // Parsing is CPU work with no awaits: keep it off the async workers.
            let static_ctx = Arc::clone(&ctx);
            let (outcome, inputs) = tokio::task::spawn_blocking(move || run(&static_ctx))
                .await
                .map_err(|e| CheckError(format!("the migrations check crashed: {e}")))??;
            run_live(&ctx, outcome, &inputs, started.elapsed()).await
        })
    }
}

/// What the live part needs of one set after the static analysis.
struct LiveInput {
    files: Vec<MigrationFile>,
    config_index: Option<usize>,
    dialect: Dialect,
    /// The set's name, when there are several.
    label: Option<String>,
}

/// After the static analysis: for each set whose `database.stats_url` or `scratch_url` is set
/// (PostgreSQL, not `--offline`), refine its findings with the live database. A database that
/// cannot be reached makes the check `error` and keeps the static findings.
async fn run_live(
    ctx: &Context,
    mut outcome: CheckOutcome,
    inputs: &[LiveInput],
    elapsed: std::time::Duration,
) -> Result<CheckOutcome, CheckError> {
    let Some(sets) = ctx.config.checks.migrations.as_ref() else {
        return Ok(outcome);
    };
    for input in inputs {
        let Some(section) = input.config_index.and_then(|i| sets.sets.get(i)) else {
            continue;
        };
        let Some(mut settings) = live::LiveSettings::from_config(section).map_err(CheckError)?
        else {
            continue;
        };
        if outcome.status.is_some() || input.files.is_empty() || input.dialect != Dialect::Postgres
        {
            continue;
        }
        let label = input
            .label
            .as_ref()
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        if ctx.offline {
            outcome
                .summary
                .push_str(&format!("; live database part{label} skipped: --offline"));
            continue;
        }
        // Leave the runner a second to report what the live part found before the run's
        // deadline.
        let left = ctx
            .deadline
            .saturating_sub(elapsed)
            .saturating_sub(std::time::Duration::from_secs(1));
        settings.budget = settings
            .budget
            .min(left.max(std::time::Duration::from_millis(100)));
        let files = &input.files;
        settings.deploy_is_known =
            ctx.base.is_some() || files.len() == 1 || files.iter().any(|f| !f.in_deploy);
        let live = live::run(files, &mut outcome.findings, &settings).await;
        match live.error {
            Some(reason) => {
                outcome.status = Some(Status::Error);
                outcome.summary = format!(
                    "live database part{label} could not decide: {reason} (static analysis: {})",
                    outcome.summary
                );
            }
            None => {
                outcome.summary = format!("{}; {}{label}", outcome.summary, live.note);
            }
        }
    }
    Ok(outcome)
}

/// A set's file problems as this check's findings.
fn problem_finding(ctx: &Context, problem: &FileProblem) -> Finding {
    match problem {
        FileProblem::Unmatched { pattern } => UNMATCHED_PATH
            .finding(format!(
                "`{pattern}` matches no file under the project root"
            ))
            .at(Location::file(
                ctx.config_path
                    .clone()
                    .unwrap_or_else(|| "gonogo.yaml".into()),
            ))
            .with_fix("fix the pattern in checks.migrations.paths"),
        FileProblem::Unreadable {
            path,
            line,
            message,
            empty,
        } => {
            let mut finding = UNREADABLE_FILE.finding(message.clone()).at(match line {
                Some(line) => Location::new(path, *line, 1),
                None => Location::file(path),
            });
            if *empty {
                finding.severity = Severity::Info;
            }
            finding
        }
        FileProblem::AppliedEdited {
            path,
            line,
            message,
            rerun,
            renamed_only,
        } => {
            let fix = if *rerun {
                "keep the applied version's name (runners key migrations by it), or make the file safe to run again"
            } else {
                "leave the applied migration as the base has it and put the change in a new migration"
            };
            let mut finding = APPLIED_MIGRATION_EDITED
                .finding(message.clone())
                .at(Location::new(path, *line, 1))
                .with_fix(fix);
            if *renamed_only {
                finding.severity = Severity::Info;
            }
            finding
        }
        FileProblem::Order {
            path,
            line,
            message,
        } => UNMATCHED_PATH
            .finding(message.clone())
            .at(match line {
                Some(line) => Location::new(path, *line, 1),
                None => Location::file(path),
            })
            .with_fix("make checks.migrations.order_file list every migration, in the order the runner applies them"),
    }
}

/// One set's findings and summary.
struct SetOutcome {
    findings: Vec<Finding>,
    summary: String,
    /// Discovered without a config and nothing found: the check has nothing to do.
    nothing_found: bool,
}

fn run(ctx: &Context) -> Result<(CheckOutcome, Vec<LiveInput>), CheckError> {
    let sets = ctx.migration_sets().map_err(CheckError)?;
    let several = sets.len() > 1;
    let mut findings = Vec::new();
    let mut summaries = Vec::new();
    let mut inputs = Vec::new();
    for set in sets.iter() {
        let label = several.then(|| {
            set.name
                .clone()
                .unwrap_or_else(|| format!("set {}", set.config_index.unwrap_or(0) + 1))
        });
        let outcome = run_set(ctx, set)?;
        if outcome.nothing_found && !several {
            return Ok((CheckOutcome::skip(outcome.summary), Vec::new()));
        }
        match &label {
            Some(label) => {
                summaries.push(format!("{label}: {}", outcome.summary));
                findings.extend(outcome.findings.into_iter().map(|mut f| {
                    f.message = format!("[{label}] {}", f.message);
                    f
                }));
            }
            None => {
                summaries.push(outcome.summary);
                findings.extend(outcome.findings);
            }
        }
        inputs.push(LiveInput {
            files: set.files.clone(),
            config_index: set.config_index,
            dialect: set.dialect,
            label,
        });
    }
    Ok((
        CheckOutcome::findings(summaries.join("; "), findings),
        inputs,
    ))
}

fn run_set(ctx: &Context, set: &MigrationSet) -> Result<SetOutcome, CheckError> {
    let configured = set
        .config_index
        .and_then(|i| ctx.config.checks.migrations.as_ref()?.sets.get(i));
    let mut findings: Vec<Finding> = set
        .problems
        .iter()
        .map(|problem| problem_finding(ctx, problem))
        .collect();
    let mut settings = settings_from(configured);
    settings.dialect = set.dialect;
    settings.old_code_judged_by_compat = ctx
        .config
        .checks
        .compat
        .as_ref()
        .is_some_and(|c| c.database.is_some());
    let files = &set.files;
    let deploy_is_known = set.deploy_is_known;
    if set.paths.is_empty() {
        if set.discovered {
            return Ok(SetOutcome {
                findings,
                summary: "no migrations found (looked for **/migrations/**/*.sql and db/migrate/**/*.sql; set checks.migrations.paths)".to_string(),
                nothing_found: true,
            });
        }
        return Ok(SetOutcome {
            findings,
            summary: "no migration files matched".to_string(),
            nothing_found: false,
        });
    }
    let mut guessed = String::new();
    if set.discovered && ctx.config.checks.migrations.is_none() {
        guessed = format!(
            " (no config: found {} under {}, guessed {})",
            files.len(),
            common_dir(&set.paths),
            match settings.dialect {
                Dialect::Postgres => "PostgreSQL",
                Dialect::Mysql => "MySQL",
            }
        );
    }

    let deploy_count = files.iter().filter(|f| f.in_deploy).count();
    // Followed once per run, with this set's settings; compat and rollback read the same facts.
    let facts = ctx.migration_facts(set).map_err(CheckError)?;
    let mut analysis = analyze_facts(files, &facts, &settings);
    if settings.dialect == Dialect::Mysql && settings.old_code_judged_by_compat {
        for finding in analysis.findings.iter_mut() {
            compat::defer_to_compat(finding);
        }
    }
    findings.extend(analysis.findings);
    cap_unparsed(&mut findings);
    name_placeholders(&mut findings, files);

    let summary = summarize(
        &findings,
        &analysis.at_risk,
        deploy_count,
        files.len(),
        ctx.base.as_deref().filter(|_| deploy_is_known),
    ) + &pg::unread_note(analysis.unread)
        + &guessed;
    Ok(SetOutcome {
        findings,
        summary,
        nothing_found: false,
    })
}

/// A statement that did not parse because of template text (pop/Go `{{ … }}`, Flyway and
/// Liquibase `${…}`) says which placeholder stopped it, and how to give its value.
fn name_placeholders(findings: &mut [Finding], files: &[MigrationFile]) {
    for finding in findings.iter_mut() {
        if finding.rule != UNPARSED_STATEMENT.id {
            continue;
        }
        let Some(location) = &finding.location else {
            continue;
        };
        let Some(file) = files.iter().find(|f| f.path == location.path) else {
            continue;
        };
        if let Some((placeholder, line)) =
            placeholder_in_statement(&file.text, location.line.unwrap_or(1))
        {
            finding.message.push_str(&format!(
                "; the template placeholder `{placeholder}` (line {line}) stopped the parse: give its value in checks.migrations.placeholders"
            ));
            finding.fix = Some(format!(
                "set checks.migrations.placeholders: {{{placeholder:?}: <its value>}} so gonogo reads the SQL the runner sends"
            ));
        }
    }
}

/// The first `{{ … }}` or `${…}` from `line` to the end of the statement there (the line
/// ending in `;`), with its line.
fn placeholder_in_statement(text: &str, line: u32) -> Option<(String, u32)> {
    for (index, content) in text
        .lines()
        .enumerate()
        .skip(line.saturating_sub(1) as usize)
    {
        for (open, close) in [("{{", "}}"), ("${", "}")] {
            if let Some(start) = content.find(open)
                && let Some(length) = content[start..].find(close)
            {
                let found = &content[start..start + length + close.len()];
                return Some((found.to_string(), index as u32 + 1));
            }
        }
        if content.trim_end().ends_with(';') {
            return None;
        }
    }
    None
}

/// Analyse migration files already in memory: the pure core of the check, for tests and
/// benchmarks. `deploy_is_known` as in a run with a base ref.
pub fn analyze_files(
    files: &[MigrationFile],
    settings: &Settings,
    deploy_is_known: bool,
) -> Vec<Finding> {
    let follow = FollowSettings {
        transaction: settings.transaction,
        postgres_version: settings.postgres_version,
        deploy_is_known,
    };
    let facts = follow_files(files, settings.dialect, follow);
    let mut findings = analyze_facts(files, &facts, settings).findings;
    cap_unparsed(&mut findings);
    findings
}

/// Every rule of the set's dialect over its followed facts.
fn analyze_facts(files: &[MigrationFile], facts: &SetFacts, settings: &Settings) -> pg::Analysis {
    match facts {
        SetFacts::Postgres(facts) => pg::analyze(facts, settings),
        SetFacts::Mysql(events) => {
            let findings = mysql::analyze(files, events);
            pg::Analysis {
                unread: mysql::unread(&findings),
                findings,
                at_risk: Vec::new(),
            }
        }
    }
}

fn settings_from(section: Option<&MigrationsConfig>) -> Settings {
    let mut settings = Settings::default();
    if let Some(section) = section {
        settings.dialect = section.dialect;
        settings.postgres_version = section.postgres_version.unwrap_or(DEFAULT_POSTGRES_VERSION);
        settings.transaction = section.transaction;
    }
    settings
}

fn common_dir(paths: &BTreeSet<String>) -> String {
    let mut dirs: BTreeSet<&str> = paths
        .iter()
        .map(|p| p.rsplit_once('/').map_or(".", |(dir, _)| dir))
        .collect();
    match dirs.len() {
        1 => dirs.pop_first().unwrap_or(".").to_string(),
        n => format!("{n} folders"),
    }
}

/// Keep the first few unparsable statements per file and say how many more there were.
fn cap_unparsed(findings: &mut Vec<Finding>) {
    let mut per_file: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut dropped: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    findings.retain(|f| {
        if f.rule != UNPARSED_STATEMENT.id {
            return true;
        }
        let path = f
            .location
            .as_ref()
            .map(|l| l.path.clone())
            .unwrap_or_default();
        let count = per_file.entry(path.clone()).or_default();
        *count += 1;
        if *count > MAX_UNPARSED_PER_FILE {
            *dropped.entry(path).or_default() += 1;
            false
        } else {
            true
        }
    });
    for (path, count) in dropped {
        findings.push(
            UNPARSED_STATEMENT
                .finding(format!("…and {count} more statements in {path} gonogo could not parse; is this file SQL for this dialect?"))
                .at(Location::file(path)),
        );
    }
}

fn summarize(
    findings: &[Finding],
    at_risk: &[(String, Vec<&'static str>)],
    deploy_files: usize,
    all_files: usize,
    base: Option<&str>,
) -> String {
    let scope = match base {
        Some(base) => format!("{deploy_files} of {all_files} migration files changed since {base}"),
        None => format!("{all_files} migration files (no base: all checked)"),
    };
    if !at_risk.is_empty() {
        let tables: Vec<String> = at_risk
            .iter()
            .map(|(table, why)| format!("{table} ({})", why.join(", ")))
            .collect();
        return format!("{scope}; at risk: {}", tables.join(", "));
    }
    let counted = findings
        .iter()
        .filter(|f| f.severity != Severity::Info && f.waived.is_none())
        .count();
    if counted == 0 {
        format!("{scope}: no lock risk found")
    } else {
        format!("{scope}: {counted} findings")
    }
}
