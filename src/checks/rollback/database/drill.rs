//! The live rollback drill: on `checks.migrations.database.scratch_url` (never `stats_url`), in
//! one transaction that is always rolled back, run this deploy's ups, then each down in reverse
//! order, and compare the real catalog after each down with the catalog before its up.
//!
//! PostgreSQL's DDL is transactional (CREATE/ALTER/DROP TABLE, indexes, types, constraints all
//! write catalog rows that a ROLLBACK discards; see "Transactional DDL" in the PostgreSQL wiki
//! and the docs of `BEGIN`/`ROLLBACK`), so the whole drill leaves the scratch database as it
//! was. What cannot run in a transaction (`CREATE INDEX CONCURRENTLY`, `VACUUM`) or acts
//! outside it (sequences, COPY, dblink…) is never run: the shared safety rules
//! ([`crate::sql::postgres::live::safety`]) decide, as they do for the `migrations` trace.
//!
//! Each down is judged on its own: a savepoint after every up lets the drill put the schema
//! back to "after this up" before running this up's down (`ROLLBACK TO SAVEPOINT`), so a down
//! that fails or leaves something behind does not make the downs before it look wrong. A
//! statement that is not drillable stops the ups there (later ups may need what it does); the
//! downs of the ups that ran are still compared, and the report names the ones that were not.

use crate::declare_rule;
use crate::report::{Finding, Location};
use crate::sql::files::MigrationFile;
use crate::sql::files::downs::{Down, DownOf, DownStyle, down_of_in};
use crate::sql::postgres::live::catalog::{self, Snapshot};
use crate::sql::postgres::live::connect::{self, Canceller, Target};
use crate::sql::postgres::live::safety::{self, Candidate, Gate, Limits, Verdict};
use crate::sql::postgres::{Origin, Statement, parse};
use std::path::Path;
use std::time::Duration;
use tokio_postgres::Client;

declare_rule! {
    order: 90;
    /// ## What it catches
    /// A down migration that, run for real on the scratch database right after its up, does
    /// not give back the catalog from before the up: gonogo compares tables, views, columns
    /// (type, NOT NULL, default, identity, generated), constraints, indexes, enums and their
    /// values, domains, sequences, triggers and functions, and names each object that differs
    /// (a column left behind, an index missing, a default or constraint not restored).
    ///
    /// ## Why it matters during a deploy
    /// The down runs during an incident, when the previous version is going back out. A down
    /// that leaves a NOT NULL column the old version does not write makes every INSERT of the
    /// old version fail; an index it forgets turns the old version's queries into sequential
    /// scans; a table left behind makes the next deploy's `CREATE TABLE` fail. The drill reads
    /// PostgreSQL's own catalog, so it also sees what a static reading cannot (defaults written
    /// by functions, objects created by triggers or extensions, the scratch schema's history).
    ///
    /// ## Example
    /// ```sql
    /// -- 0002_currency.up.sql
    /// ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';
    /// DROP INDEX orders_created_at_idx;
    /// -- 0002_currency.down.sql
    /// ALTER TABLE orders DROP COLUMN currency;
    /// ```
    /// The drill reports `index public.orders_created_at_idx is missing`.
    ///
    /// ## Do this instead
    /// Undo every change of the up, in reverse order: here also
    /// `CREATE INDEX orders_created_at_idx ON orders (created_at);`. The drill runs inside one
    /// transaction that gonogo rolls back (PostgreSQL's DDL is transactional: see the
    /// PostgreSQL docs on `ROLLBACK` and `SAVEPOINT`), so it can be run on every pull request.
    pub DOWN_LEAVES_CHANGES = ("rollback/down-leaves-changes", Fail, "run for real on the scratch database, a down migration does not give back the catalog from before its up");
}

declare_rule! {
    order: 100;
    /// ## What it catches
    /// A down migration that PostgreSQL refuses when the drill runs it on the scratch
    /// database right after its up: a syntax error, an object that does not exist
    /// (`DROP INDEX` of a name the up never created), a dependency that blocks a `DROP`, a
    /// constraint the rows left by the up violate. The finding points at the statement and
    /// quotes PostgreSQL's error.
    ///
    /// ## Why it matters during a deploy
    /// A down that fails stops the rollback halfway: the runner marks the migration as still
    /// applied (or, without a transaction around the down, leaves it half undone), and the
    /// previous version goes back out against a schema it was not written for, in the middle of
    /// an incident.
    ///
    /// ## Example
    /// ```sql
    /// -- migrate:up
    /// CREATE INDEX orders_status_idx ON orders (status);
    /// -- migrate:down
    /// DROP INDEX orders_state_idx;
    /// ```
    /// `ERROR: index "orders_state_idx" does not exist`.
    ///
    /// ## Do this instead
    /// Fix the statement PostgreSQL refused, and keep the drill on (`scratch_url`) so every
    /// down runs once before it is needed.
    pub DOWN_DRILL_FAILED = ("rollback/down-drill-failed", Fail, "a down migration failed when the drill ran it on the scratch database");
}

declare_rule! {
    order: 110;
    /// ## What it catches
    /// A statement of an up or a down that the drill did not run, and why: it cannot run
    /// inside a transaction (`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`,
    /// `VACUUM`), it acts outside the transaction (`INSERT` and sequences, COPY, dblink…, the
    /// same rules as the `migrations` trace), gonogo could not parse it, or the up it belongs
    /// to failed on the scratch database. The finding says which comparisons the drill could
    /// not make: a statement in an up stops the ups there, so the downs of that migration and
    /// the later ones are not compared.
    ///
    /// ## Why it matters during a deploy
    /// The drill only runs what a ROLLBACK undoes: PostgreSQL refuses `CREATE INDEX
    /// CONCURRENTLY` in a transaction block, and sequence values are never rolled back. The
    /// downs it could not run are unproven, not proven.
    ///
    /// ## Example
    /// ```sql
    /// -- 0003_status_idx.up.sql
    /// CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
    /// ```
    ///
    /// ## Do this instead
    /// Nothing is required. Keeping `CONCURRENTLY` statements in migrations of their own (one
    /// statement per file, as golang-migrate and dbmate advise for them) lets the drill prove
    /// every other migration's down.
    pub NOT_DRILLABLE = ("rollback/not-drillable", Info, "a statement the rollback drill did not run, and the comparisons it could not make");
}

/// The drill's limits per statement: a scratch database is small and idle (the `migrations`
/// trace uses the same).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
const LOCK_TIMEOUT: Duration = Duration::from_secs(2);
/// The drill's own time limit; the run's deadline caps it further.
pub const DRILL_BUDGET: Duration = Duration::from_secs(60);

/// Where and how to drill.
#[derive(Debug, Clone)]
pub struct Settings {
    pub scratch_url: String,
    /// Never drilled on; named to prove the scratch database is another one.
    pub stats_url: Option<String>,
    /// `checks.migrations.database.trace_as_superuser`.
    pub as_superuser: bool,
    pub budget: Duration,
}

/// One migration of this deploy: its up's statements, and its down when it has one.
pub struct Migration {
    pub path: String,
    pub up: Vec<Statement>,
    pub down: Option<(Down, Vec<Statement>)>,
}

/// This deploy's migrations of one set, read for the drill (top-level statements only: what a
/// `DO` block runs is run by the block).
pub fn migrations(
    root: &Path,
    files: &[MigrationFile],
    style: Option<DownStyle>,
) -> Vec<Migration> {
    let top = |statements: Vec<Statement>| -> Vec<Statement> {
        statements
            .into_iter()
            .filter(|s| s.origin == Origin::TopLevel)
            .collect()
    };
    files
        .iter()
        .filter(|f| f.in_deploy)
        .map(|file| Migration {
            path: file.path.clone(),
            up: top(parse(crate::sql::up_section(&file.text))),
            down: match down_of_in(root, file, style, crate::config::Dialect::Postgres) {
                DownOf::Found(down) => {
                    let statements = top(parse(&down.text));
                    Some((down, statements))
                }
                _ => None,
            },
        })
        .collect()
}

/// What the drill found.
#[derive(Debug, Default)]
pub struct Drilled {
    pub findings: Vec<Finding>,
    /// For the summary: what ran, how long each direction took, what was not compared.
    pub note: String,
    /// Why the drill could not decide (a database it cannot reach, a refusal).
    pub error: Option<String>,
    /// The ups (paths) whose down the drill ran and compared: for those, the real catalog
    /// supersedes the static reading.
    pub compared: Vec<String>,
    pub leaving_changes: usize,
    pub failed: usize,
}

/// Why the drill stopped in a list of statements.
enum Stop {
    Refused(usize, String),
    Failed(usize, String),
}

/// Run the drill within `settings.budget`.
pub async fn run(migrations: &[Migration], settings: &Settings) -> Drilled {
    let mut drilled = Drilled::default();
    let mut canceller: Option<Canceller> = None;
    let result = tokio::time::timeout(
        settings.budget,
        connect_and_drill(migrations, settings, &mut drilled, &mut canceller),
    )
    .await;
    let error = match result {
        Ok(Ok(())) => None,
        Ok(Err(reason)) => Some(crate::secrets::redact(&reason)),
        Err(_) => Some(format!(
            "the rollback drill did not finish within {} s (a server that stopped answering?)",
            settings.budget.as_secs()
        )),
    };
    // After an error or at the deadline the scratch backend may still be running a statement
    // (it does not read its socket meanwhile): cancel it, and PostgreSQL rolls back the open
    // transaction when the connection closes.
    if error.is_some()
        && let Some(canceller) = canceller
    {
        canceller.cancel().await;
    }
    drilled.error = error;
    drilled
}

async fn connect_and_drill(
    migrations: &[Migration],
    settings: &Settings,
    drilled: &mut Drilled,
    canceller: &mut Option<Canceller>,
) -> Result<(), String> {
    let scratch = Target::parse(&settings.scratch_url, "scratch_url")?;
    let stats = settings
        .stats_url
        .as_deref()
        .map(|u| Target::parse(u, "stats_url"))
        .transpose()?;
    // The same two proofs as the `migrations` trace: the URLs, then the servers' identities.
    let mut stats_identity = None;
    if let Some(stats) = &stats {
        if connect::same_database(&stats.config, &scratch.config) {
            return Err(format!(
                "refusing to drill: scratch_url ({}) is the same database as stats_url ({}); the drill runs the migrations and their downs there, so it must be a disposable copy",
                scratch.shown, stats.shown
            ));
        }
        let client = connect::connect(
            stats,
            "stats_url",
            &[("default_transaction_read_only", "on".to_string())],
        )
        .await?;
        stats_identity = Some(connect::server_identity(&client, "stats_url").await?);
    }
    let (client, cancel) = connect::connect_cancellable(&scratch, "scratch_url", &[]).await?;
    *canceller = Some(cancel);
    if let Some(stats_identity) = stats_identity {
        let identity = connect::server_identity(&client, "scratch_url").await?;
        if identity == stats_identity {
            return Err(format!(
                "refusing to drill: scratch_url ({}) connects to the same server and database as stats_url; the drill runs the migrations and their downs there, so it must be a disposable copy",
                scratch.shown
            ));
        }
    }
    // The `migrations` trace may use the same scratch database in this run: one at a time.
    let _turn = safety::exclusive().await;
    let limits = Limits {
        statement_timeout: STATEMENT_TIMEOUT,
        lock_timeout: LOCK_TIMEOUT,
        as_superuser: settings.as_superuser,
    };
    safety::begin(&client, limits, "run the rollback drill").await?;
    let result = drill(&client, migrations, drilled).await;
    // Always roll back, also after an error.
    let rollback = safety::rollback(&client).await;
    let (ups, downs) = result?;
    rollback?;
    *canceller = None;
    let mut note = format!(
        "drill on {}: {} in {}, {} in {}, rolled back",
        scratch.shown,
        crate::checks::kubernetes::counted(ups.0, "up"),
        millis(ups.1),
        crate::checks::kubernetes::counted(downs.0, "down"),
        millis(downs.1),
    );
    let not_compared: Vec<&str> = migrations
        .iter()
        .filter(|m| !drilled.compared.contains(&m.path))
        .map(|m| m.path.as_str())
        .collect();
    if !not_compared.is_empty() {
        note.push_str(&format!(
            "; down not compared for {}",
            not_compared.join(", ")
        ));
    }
    drilled.note = note;
    Ok(())
}

fn millis(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}

async fn sql(client: &Client, text: &str) -> Result<(), String> {
    client
        .batch_execute(text)
        .await
        .map_err(|e| format!("{text} failed: {}", connect::describe(&e)))
}

/// Run `statements` in order through the gate; the time they took, or where and why it
/// stopped.
async fn run_statements(
    client: &Client,
    gate: &mut Gate,
    statements: &[Statement],
) -> Result<Result<Duration, Stop>, String> {
    let mut took = Duration::ZERO;
    for (index, statement) in statements.iter().enumerate() {
        let safety = safety::safety(statement);
        let candidate = Candidate::new(statement, &safety);
        match gate.judge(client, &candidate).await? {
            Verdict::Run => {}
            Verdict::Skip => continue,
            Verdict::Refuse(why) => return Ok(Err(Stop::Refused(index, why))),
        }
        match safety::execute(client, &statement.text).await {
            Ok(duration) => took += duration,
            Err(error) => return Ok(Err(Stop::Failed(index, error))),
        }
    }
    Ok(Ok(took))
}

/// Inside the transaction: the ups with a snapshot and a savepoint after each, then each down
/// from the state its up left. ((ups run, their time), (downs run, their time)).
async fn drill(
    client: &Client,
    migrations: &[Migration],
    drilled: &mut Drilled,
) -> Result<((usize, Duration), (usize, Duration)), String> {
    let mut gate = Gate::default();
    // snapshots[k]: the catalog after the first k ups; savepoint gonogo_drill_k holds it.
    let mut snapshots: Vec<Snapshot> = vec![catalog::snapshot(client).await?];
    sql(client, "SAVEPOINT gonogo_drill_0").await?;
    let mut up_time = Duration::ZERO;
    for (k, migration) in migrations.iter().enumerate() {
        match run_statements(client, &mut gate, &migration.up).await? {
            Ok(took) => up_time += took,
            Err(stop) => {
                let later: Vec<&str> = migrations[k..].iter().map(|m| m.path.as_str()).collect();
                let consequence = format!(
                    "the drill stopped the ups here, so the down{} of {} {} not compared",
                    if later.len() == 1 { "" } else { "s" },
                    later.join(", "),
                    if later.len() == 1 { "was" } else { "were" }
                );
                drilled.findings.push(not_drillable(
                    &migration.path,
                    &migration.up,
                    &stop,
                    &consequence,
                ));
                sql(client, &format!("ROLLBACK TO SAVEPOINT gonogo_drill_{k}")).await?;
                break;
            }
        }
        snapshots.push(catalog::snapshot(client).await?);
        sql(client, &format!("SAVEPOINT gonogo_drill_{}", k + 1)).await?;
    }
    let ran = snapshots.len() - 1;
    let mut down_time = Duration::ZERO;
    let mut downs = 0;
    for k in (0..ran).rev() {
        let migration = &migrations[k];
        let Some((down, statements)) = &migration.down else {
            continue;
        };
        // The schema after this up, whatever the later downs did.
        sql(
            client,
            &format!("ROLLBACK TO SAVEPOINT gonogo_drill_{}", k + 1),
        )
        .await?;
        let took = match run_statements(client, &mut gate, statements).await? {
            Ok(took) => took,
            Err(Stop::Failed(index, error)) => {
                drilled.failed += 1;
                drilled.findings.push(down_failed(
                    &migration.path,
                    down,
                    &statements[index],
                    &error,
                ));
                continue;
            }
            Err(stop @ Stop::Refused(..)) => {
                let consequence = format!(
                    "the down of {} was not compared with the schema before its up",
                    migration.path
                );
                drilled
                    .findings
                    .push(not_drillable(&down.path, statements, &stop, &consequence));
                continue;
            }
        };
        downs += 1;
        down_time += took;
        let after = catalog::snapshot(client).await?;
        let differences = catalog::differences(&snapshots[k], &after);
        drilled.compared.push(migration.path.clone());
        if !differences.is_empty() {
            drilled.leaving_changes += 1;
            let described: Vec<String> = differences.iter().map(|d| d.describe()).collect();
            drilled
                .findings
                .push(leaves_changes(&migration.path, down, &described, took));
        }
    }
    Ok(((ran, up_time), (downs, down_time)))
}

fn at(path: &str, statement: &Statement) -> Location {
    Location::new(path, statement.line, statement.column)
}

fn not_drillable(path: &str, statements: &[Statement], stop: &Stop, consequence: &str) -> Finding {
    let (index, message) = match stop {
        Stop::Refused(index, why) => (*index, format!("not drillable: {why}; {consequence}")),
        Stop::Failed(index, error) => (
            *index,
            format!(
                "not drillable: this up failed on the scratch database ({error}); {consequence}"
            ),
        ),
    };
    let statement = &statements[index];
    NOT_DRILLABLE
        .finding(message)
        .at(at(path, statement))
        .with_evidence(statement.text.clone())
}

fn down_failed(up_path: &str, down: &Down, statement: &Statement, error: &str) -> Finding {
    DOWN_DRILL_FAILED
        .finding(format!(
            "the down of {up_path} failed on the scratch database right after its up: {error}"
        ))
        .at(at(&down.path, statement))
        .with_evidence(statement.text.clone())
        .with_fix("fix the statement PostgreSQL refused; the drill runs it again on the next check")
}

fn leaves_changes(up_path: &str, down: &Down, differences: &[String], took: Duration) -> Finding {
    let shown: Vec<&str> = differences.iter().take(5).map(String::as_str).collect();
    let more = differences.len().saturating_sub(shown.len());
    let mut message = format!(
        "run on the scratch database after its up, the down of {up_path} leaves the schema different from before the up: {}",
        shown.join("; ")
    );
    if more > 0 {
        message.push_str(&format!("; and {more} more"));
    }
    DOWN_LEAVES_CHANGES
        .finding(message)
        .at(Location::new(&down.path, down.line, 1))
        .with_evidence(format!(
            "the down ran in {}; compared with the catalog before the up:\n{}",
            millis(took),
            differences.join("\n")
        ))
        .with_fix("make the down reverse every change of the up, in reverse order")
}
