//! The live part of `migrations`: how long each lock will be held, from the real table
//! statistics of `database.stats_url`; what is holding or waiting for locks on those tables now;
//! and, on `database.scratch_url`, the real locks of each statement traced in a transaction that
//! is always rolled back. It runs after the static analysis and refines its findings:
//!
//! - a static finding with long work (rewrite, scan, index build, backfill) gets an estimated lock
//!   window, and its severity follows the estimate against `max_lock_seconds`;
//! - where the trace shows more than the static prediction (a rewrite, a stronger lock), the
//!   traced result wins and the finding says so; it shows less only with evidence the migration
//!   cannot feed (see [`apply::lowering_distrusted`]), else the static prediction stands;
//! - a database gonogo cannot reach, or that fails mid-check, makes the check `error` with the
//!   reason (the static findings stay in the report); passwords never appear in any message.

mod apply;
pub mod calibrate;
pub mod estimate;
mod preflight;
mod stats;
mod trace;

use crate::sql::postgres::live::{connect, safety};

use super::MigrationFile;
use crate::config::{MigrationsConfig, TransactionMode};
use crate::declare_rule;
use crate::report::{Finding, Location, Severity};
use crate::sql::postgres::{self as parser, Origin, Statement};
use apply::{apply_estimates, apply_preflight, apply_trace};
use estimate::{CostModel, Work};
use pg_query::{LockMode, NodeEnum};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

declare_rule! {
    order: 380;
    /// ## What it catches
    /// A risky statement whose lock window gonogo could not estimate from live statistics: the
    /// stats database has no such table (is `stats_url` the production database?).
    ///
    /// ## Why it matters during a deploy
    /// Without a size, the static finding stands as it is, and nobody knows how long the lock
    /// will be held.
    ///
    /// ## Example
    /// `stats_url` points at a staging database where `orders` was never created.
    ///
    /// ## Do this instead
    /// Point `checks.migrations.database.stats_url` at production or one of its replicas, with a
    /// read-only role.
    pub ESTIMATE_UNAVAILABLE = ("migrations/pg-estimate-unavailable", Warn, "the lock window of a risky statement could not be estimated from live statistics");
}

declare_rule! {
    order: 390;
    /// ## What it catches
    /// A session on the live database that holds a lock on a table this migration locks, in a
    /// transaction that has been open longer than `max_lock_seconds` or is idle in transaction,
    /// or a session already waiting for a lock on it.
    ///
    /// ## Why it matters during a deploy
    /// The migration's lock request queues behind that session, and every query on the table
    /// queues behind the migration: a 1 ms `ALTER TABLE` becomes an outage that lasts as long as
    /// the forgotten transaction.
    ///
    /// ## Example
    /// A `psql` left `idle in transaction` after a `SELECT * FROM orders` an hour ago, while the
    /// migration runs `ALTER TABLE orders ADD COLUMN note text`.
    ///
    /// ## Do this instead
    /// End the session (`SELECT pg_terminate_backend(pid)`) or wait for it, set `lock_timeout`
    /// in the migration, and find why the application leaves transactions open.
    pub BLOCKING_SESSION = ("migrations/pg-blocking-session", Fail, "a long or idle transaction holds a lock the migration will wait for");
}

declare_rule! {
    order: 400;
    /// ## What it catches
    /// Autovacuum running on a table the migration locks. An anti-wraparound autovacuum is a
    /// `fail`: PostgreSQL does not cancel it for a conflicting lock request.
    ///
    /// ## Why it matters during a deploy
    /// A regular autovacuum is cancelled after `deadlock_timeout` when the DDL waits for it; an
    /// anti-wraparound one is not, so the DDL waits for the whole vacuum and every query on the
    /// table waits behind the DDL.
    ///
    /// ## Example
    /// `autovacuum: VACUUM public.orders (to prevent wraparound)` in `pg_stat_activity` while the
    /// migration runs `CREATE INDEX` on `orders`.
    ///
    /// ## Do this instead
    /// Deploy after the vacuum has finished (watch `pg_stat_progress_vacuum`).
    pub AUTOVACUUM_RUNNING = ("migrations/pg-autovacuum-running", Warn, "autovacuum is running on a table the migration locks");
}

declare_rule! {
    order: 410;
    /// ## What it catches
    /// The role in `stats_url` has a `statement_timeout` shorter than a statement's estimated
    /// lock window.
    ///
    /// ## Why it matters during a deploy
    /// When the migration runs with that role, PostgreSQL cancels the statement after holding
    /// its lock (and queueing every query on the table) for the whole timeout: the deploy fails
    /// after the outage, not before it.
    ///
    /// ## Example
    /// `ALTER ROLE app SET statement_timeout = '5s'` and a rewrite estimated at 40 s.
    ///
    /// ## Do this instead
    /// Use the safe pattern the finding's fix gives; if the long statement is deliberate, raise
    /// the timeout for the migration only (`SET statement_timeout = …` in the file).
    pub ROLE_STATEMENT_TIMEOUT = ("migrations/pg-role-statement-timeout", Fail, "the role's statement_timeout is shorter than the estimated lock window");
}

declare_rule! {
    order: 420;
    /// ## What it catches
    /// The locks a statement really took on the scratch database (traced in a transaction gonogo
    /// rolls back), with whether it rewrote the table. `info` when it agrees with the static
    /// analysis; when they disagree the traced result wins, and the finding says so.
    ///
    /// ## Why it matters during a deploy
    /// The static rules know PostgreSQL's rules; the trace knows your schema: a column type
    /// change that is binary-coercible in your database, a trigger, a partitioned table.
    ///
    /// ## Example
    /// `ALTER TABLE orders ALTER COLUMN note TYPE text` traced: ACCESS EXCLUSIVE on orders, not
    /// rewritten.
    ///
    /// ## Do this instead
    /// Nothing for agreeing traces; read the traced result where it disagrees.
    pub TRACED_LOCKS = ("migrations/pg-traced-locks", Info, "the locks a statement took when traced on the scratch database");
}

declare_rule! {
    order: 430;
    /// ## What it catches
    /// A statement gonogo did not run on the scratch database: it cannot run inside a
    /// transaction (`CREATE INDEX CONCURRENTLY`, `VACUUM`), it reads data the migration
    /// runner sends (`COPY FROM STDIN`), it acts outside the transaction (COPY to files or
    /// programs, dblink, replication slots, `nextval`/`setval`, `INSERT`, `pg_terminate_backend`,
    /// large objects; also inside a `DO` block or a function the migrations define), it runs SQL
    /// built at run time, or the server could read its backslashes differently from gonogo
    /// (`standard_conforming_strings`).
    ///
    /// ## Why it matters during a deploy
    /// gonogo traces only inside a transaction it rolls back; what a rollback cannot undo would
    /// change the scratch database (or another one, or the server). Their locks come from the
    /// static analysis alone. `info`: the static findings on the statement still stand.
    ///
    /// ## Example
    /// `CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);`
    ///
    /// ## Do this instead
    /// Nothing: this is information.
    pub NOT_TRACEABLE = ("migrations/pg-not-traceable", Info, "a statement that cannot be traced inside a rolled-back transaction");
}

declare_rule! {
    order: 440;
    /// ## What it catches
    /// A statement PostgreSQL refused on the scratch database: a syntax the server version does
    /// not accept, a missing table or column, a lock it could not get within the trace's
    /// `lock_timeout`.
    ///
    /// ## Why it matters during a deploy
    /// If the scratch database has production's schema, this statement fails the deploy.
    ///
    /// ## Example
    /// `ALTER TABLE orders DROP COLUMN legacy_id` when the column was already dropped.
    ///
    /// ## Do this instead
    /// Fix the statement, or restore production's schema into the scratch database
    /// (`pg_dump --schema-only`) if it is out of date.
    pub TRACE_FAILED = ("migrations/pg-trace-failed", Warn, "a statement failed when traced on the scratch database");
}

/// The trace's timeouts per statement: a scratch database is small and idle.
const TRACE_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
const TRACE_LOCK_TIMEOUT: Duration = Duration::from_secs(2);
/// The live part's own time limit; the run's deadline caps it further.
pub const LIVE_BUDGET: Duration = Duration::from_secs(60);

/// What the live part needs from the config.
#[derive(Debug, Clone)]
pub struct LiveSettings {
    pub stats_url: Option<String>,
    pub scratch_url: Option<String>,
    pub max_lock_seconds: f64,
    pub costs: CostModel,
    pub budget: Duration,
    /// Whether this deploy's files are known (a base ref, or a single migration file). Without
    /// that every file counts as this deploy's, and tracing would replay the whole history.
    pub deploy_is_known: bool,
    /// How the migration runner wraps statements in transactions: locks are held until COMMIT.
    pub transaction: TransactionMode,
    /// `database.trace_as_superuser`: trace even when the scratch role is (or may become) a
    /// superuser.
    pub trace_as_superuser: bool,
}

pub const DEFAULT_MAX_LOCK_SECONDS: f64 = 2.0;

impl LiveSettings {
    /// `None` when neither URL is set: there is no live part.
    pub fn from_config(section: &MigrationsConfig) -> Result<Option<LiveSettings>, String> {
        let database = section.database.as_ref();
        let url = |u: Option<&crate::config::ConfigString>| {
            u.map(|s| s.value.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let stats_url = url(database.and_then(|d| d.stats_url.as_ref()));
        let scratch_url = url(database.and_then(|d| d.scratch_url.as_ref()));
        if stats_url.is_none() && scratch_url.is_none() {
            return Ok(None);
        }
        let max_lock_seconds = section.max_lock_seconds.unwrap_or(DEFAULT_MAX_LOCK_SECONDS);
        if !(max_lock_seconds.is_finite() && max_lock_seconds > 0.0) {
            return Err(format!(
                "checks.migrations.max_lock_seconds must be a positive number of seconds, found {max_lock_seconds}"
            ));
        }
        Ok(Some(LiveSettings {
            stats_url,
            scratch_url,
            max_lock_seconds,
            costs: cost_model(section)?,
            budget: LIVE_BUDGET,
            deploy_is_known: true,
            transaction: section.transaction,
            trace_as_superuser: database.and_then(|d| d.trace_as_superuser).unwrap_or(false),
        }))
    }
}

/// The configured cost model, defaults for missing keys.
pub fn cost_model(section: &MigrationsConfig) -> Result<CostModel, String> {
    let mut model = CostModel::default();
    let Some(costs) = &section.costs else {
        return Ok(model);
    };
    let fields: [(&str, Option<f64>, &mut f64); 5] = [
        (
            "rewrite_mb_per_s",
            costs.rewrite_mb_per_s,
            &mut model.rewrite_mb_per_s,
        ),
        (
            "scan_mb_per_s",
            costs.scan_mb_per_s,
            &mut model.scan_mb_per_s,
        ),
        (
            "index_build_mb_per_s",
            costs.index_build_mb_per_s,
            &mut model.index_build_mb_per_s,
        ),
        (
            "update_mb_per_s",
            costs.update_mb_per_s,
            &mut model.update_mb_per_s,
        ),
        ("overhead_ms", costs.overhead_ms, &mut model.overhead_ms),
    ];
    for (name, value, slot) in fields {
        if let Some(value) = value {
            let valid =
                value.is_finite() && (value > 0.0 || (name == "overhead_ms" && value >= 0.0));
            if !valid {
                return Err(format!(
                    "checks.migrations.costs.{name} must be a positive number, found {value}"
                ));
            }
            *slot = value;
        }
    }
    Ok(model)
}

/// What a static rule's finding means for the lock window: the work done under the lock and
/// the lock taken on the statement's table. Rules without long work or a table lock: `None`.
pub fn prediction(rule: &str) -> Option<(Work, LockMode)> {
    use LockMode::*;
    let name = rule.strip_prefix("migrations/")?;
    Some(match name {
        "pg-add-column-volatile-default"
        | "pg-add-column-serial"
        | "pg-add-column-generated-stored"
        | "pg-alter-column-type"
        | "pg-table-rewrite"
        | "pg-refresh-matview-not-concurrent" => (Work::Rewrite, AccessExclusiveLock),
        "pg-set-not-null" | "pg-add-check-constraint" => (Work::Scan, AccessExclusiveLock),
        "pg-add-foreign-key" => (Work::Scan, ShareRowExclusiveLock),
        "pg-add-index-not-concurrent" | "pg-reindex-not-concurrent" => {
            (Work::IndexBuild, ShareLock)
        }
        "pg-add-unique-constraint" => (Work::IndexBuild, AccessExclusiveLock),
        "pg-unbatched-backfill" => (Work::Update, RowExclusiveLock),
        "pg-truncate" | "drop-table" | "drop-column" | "rename-column" | "rename-table"
        | "pg-lock-table" => (Work::LockOnly, AccessExclusiveLock),
        _ => return None,
    })
}

/// The table a statement works on (its first relation), lower-cased like the static analysis.
pub fn statement_table(node: &NodeEnum) -> Option<String> {
    let range =
        |r: &Option<pg_query::protobuf::RangeVar>| r.as_ref().map(|r| r.relname.to_lowercase());
    let first_range = |nodes: &[pg_query::protobuf::Node]| {
        nodes.iter().find_map(|n| match n.node.as_ref() {
            Some(NodeEnum::RangeVar(r)) => Some(r.relname.to_lowercase()),
            Some(NodeEnum::VacuumRelation(v)) => range(&v.relation),
            _ => None,
        })
    };
    match node {
        NodeEnum::AlterTableStmt(s) => range(&s.relation),
        NodeEnum::IndexStmt(s) => range(&s.relation),
        NodeEnum::ClusterStmt(s) => range(&s.relation),
        NodeEnum::ReindexStmt(s) => range(&s.relation),
        NodeEnum::RefreshMatViewStmt(s) => range(&s.relation),
        NodeEnum::UpdateStmt(s) => range(&s.relation),
        NodeEnum::DeleteStmt(s) => range(&s.relation),
        NodeEnum::RenameStmt(s) => range(&s.relation),
        NodeEnum::TruncateStmt(s) => first_range(&s.relations),
        NodeEnum::LockStmt(s) => first_range(&s.relations),
        NodeEnum::VacuumStmt(s) => first_range(&s.rels),
        NodeEnum::DropStmt(s) => s.objects.first().and_then(|o| match o.node.as_ref() {
            Some(NodeEnum::List(list)) => list.items.last().and_then(|i| match i.node.as_ref() {
                Some(NodeEnum::String(s)) => Some(s.sval.to_lowercase()),
                _ => None,
            }),
            _ => None,
        }),
        _ => None,
    }
}

/// A top-level statement of this deploy, in order, with the statements a `DO` block runs.
struct DeployStatement {
    path: String,
    statement: Statement,
    /// What a `DO` block runs: their findings are estimated on their own, and traced as part of
    /// the block (the block is what runs).
    nested: Vec<Statement>,
}

fn deploy_statements(files: &[MigrationFile]) -> Vec<DeployStatement> {
    let mut out: Vec<DeployStatement> = Vec::new();
    for file in files.iter().filter(|f| f.in_deploy) {
        let mut in_file = 0;
        // The down section (dbmate, goose) is not part of the deploy, as in the static analysis:
        // tracing it would run the rollback's DROPs and report their locks as the deploy's.
        for statement in parser::parse(crate::sql::up_section(&file.text)) {
            match (&statement.origin, out.last_mut()) {
                // parse() puts a block's statements right after the block.
                (Origin::DoBlock | Origin::Function(_), Some(block)) if in_file > 0 => {
                    block.nested.push(statement)
                }
                _ => {
                    in_file += 1;
                    out.push(DeployStatement {
                        path: file.path.clone(),
                        statement,
                        nested: Vec::new(),
                    });
                }
            }
        }
    }
    out
}

/// Which transaction each statement runs in: statements with the same number hold their locks
/// until the same COMMIT. `per-file` runners wrap each file in one transaction; an explicit
/// BEGIN … COMMIT groups its statements in any mode; after an explicit COMMIT the rest of the
/// file runs in autocommit (PostgreSQL only warns that there is no transaction in progress).
fn transaction_groups(statements: &[DeployStatement], mode: TransactionMode) -> Vec<usize> {
    use pg_query::protobuf::TransactionStmtKind as Kind;
    let mut groups = Vec::with_capacity(statements.len());
    let mut next = 0;
    let mut current: Option<usize> = None;
    let mut path: Option<&str> = None;
    for statement in statements {
        if path != Some(statement.path.as_str()) {
            path = Some(statement.path.as_str());
            current = (mode == TransactionMode::PerFile).then(|| {
                next += 1;
                next
            });
        }
        let kind = match statement.statement.node.as_deref() {
            Ok(NodeEnum::TransactionStmt(t)) => Kind::try_from(t.kind).ok(),
            _ => None,
        };
        match kind {
            Some(Kind::TransStmtBegin | Kind::TransStmtStart) => {
                if current.is_none() {
                    next += 1;
                    current = Some(next);
                }
                groups.push(current.unwrap_or(next));
            }
            Some(Kind::TransStmtCommit | Kind::TransStmtRollback) => {
                groups.push(current.unwrap_or(next));
                current = None;
            }
            _ => match current {
                Some(group) => groups.push(group),
                None => {
                    next += 1;
                    groups.push(next);
                }
            },
        }
    }
    groups
}

/// A static finding the live part can refine.
#[derive(Debug, Clone)]
struct Target {
    finding: usize,
    statement: usize,
    table: String,
    work: Work,
    lock: LockMode,
}

fn targets(findings: &[Finding], statements: &[DeployStatement]) -> Vec<Target> {
    // Every statement's position, nested ones included, to its top-level statement.
    let by_location: HashMap<(&str, u32, u32), (usize, &Statement)> = statements
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            std::iter::once(&s.statement)
                .chain(&s.nested)
                .map(move |n| ((s.path.as_str(), n.line, n.column), (i, n)))
        })
        .collect();
    findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.waived.is_none())
        .filter_map(|(index, finding)| {
            let (work, lock) = prediction(&finding.rule)?;
            let location = finding.location.as_ref()?;
            let (statement, node) =
                *by_location.get(&(location.path.as_str(), location.line?, location.column?))?;
            let table = statement_table(node.node.as_ref().ok()?)?;
            Some(Target {
                finding: index,
                statement,
                table,
                work,
                lock,
            })
        })
        .collect()
}

/// What the live part adds to the check's summary, and the reason it could not decide.
#[derive(Debug, Default)]
pub struct LiveOutcome {
    pub note: String,
    pub error: Option<String>,
}

/// What cancels the scratch session's running statement while the trace may be running: set
/// after connecting, taken when the trace has rolled back.
type CancelSlot = Arc<Mutex<Option<connect::Canceller>>>;

/// On unwinding (a panic in the live part), sends the cancel request still pending in the slot
/// on the runtime: the runner turns the panic into the check's `error` and the run goes on, so
/// the request gets out.
struct CancelOnDrop(CancelSlot);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let pending = self.0.lock().ok().and_then(|mut slot| slot.take());
        if let (Some(canceller), Ok(runtime)) = (pending, tokio::runtime::Handle::try_current()) {
            runtime.spawn(canceller.cancel());
        }
    }
}

/// Run the live part within `settings.budget` and refine `findings` in place.
pub async fn run(
    files: &[MigrationFile],
    findings: &mut Vec<Finding>,
    settings: &LiveSettings,
) -> LiveOutcome {
    let started = Instant::now();
    let mut notes = Vec::new();
    let cancel: CancelSlot = Arc::new(Mutex::new(None));
    let guard = CancelOnDrop(Arc::clone(&cancel));
    let result = tokio::time::timeout(
        settings.budget,
        run_inner(files, findings, settings, &mut notes, &cancel),
    )
    .await;
    // At the deadline or after an error the scratch backend may still be running a statement or
    // waiting for a lock (it does not read its socket meanwhile, so dropping the connection
    // alone leaves it there): cancel it. The client is gone with run_inner, so the connection
    // closes once the cancelled statement answers, and PostgreSQL rolls the transaction back.
    let pending = cancel.lock().ok().and_then(|mut slot| slot.take());
    if let Some(canceller) = pending {
        canceller.cancel().await;
    }
    drop(guard);
    let error = match result {
        Ok(Ok(())) => None,
        Ok(Err(reason)) => Some(crate::secrets::redact(&reason)),
        Err(_) => Some(format!(
            "the live database part did not finish within {} s (a server that stopped answering?)",
            settings.budget.as_secs()
        )),
    };
    notes.push(format!("{} ms", started.elapsed().as_millis()));
    LiveOutcome {
        note: format!("live: {}", notes.join(", ")),
        error,
    }
}

async fn run_inner(
    files: &[MigrationFile],
    findings: &mut Vec<Finding>,
    settings: &LiveSettings,
    notes: &mut Vec<String>,
    cancel: &CancelSlot,
) -> Result<(), String> {
    let statements = deploy_statements(files);
    let mut targets = targets(findings, &statements);

    let stats_target = settings
        .stats_url
        .as_deref()
        .map(|u| connect::Target::parse(u, "stats_url"))
        .transpose()?;
    let scratch_target = settings
        .scratch_url
        .as_deref()
        .map(|u| connect::Target::parse(u, "scratch_url"))
        .transpose()?;
    if let (Some(stats), Some(scratch)) = (&stats_target, &scratch_target)
        && connect::same_database(&stats.config, &scratch.config)
    {
        return Err(format!(
            "refusing to trace: scratch_url ({}) is the same database as stats_url ({}); the trace runs the migration there, so it must be a disposable copy",
            scratch.shown, stats.shown
        ));
    }

    // Statistics first: its identity is what the scratch database must not be.
    let mut stats_session = None;
    if let Some(target) = &stats_target {
        let client = connect::connect(target, "stats_url", &[]).await?;
        // gonogo's timeouts before any query that reads a catalog: even name resolution can
        // wait for a lock (a catalog locked by maintenance), and without them nothing would end
        // that wait before the check's deadline. SET changes the session's value only, so the
        // role's own timeouts are still there to read (pg_settings.reset_val).
        client
            .batch_execute(&format!(
                "SET default_transaction_read_only = on; SET statement_timeout = {}; SET lock_timeout = 1000",
                connect::STATS_STATEMENT_TIMEOUT_MS
            ))
            .await
            .map_err(|e| format!("configuring the stats session failed: {}", connect::describe(&e)))?;
        let timeouts = preflight::role_timeouts(&client).await?;
        // Only a trace needs it (and the grant it may take).
        let identity = match &scratch_target {
            Some(_) if settings.deploy_is_known => {
                Some(connect::server_identity(&client, "stats_url").await?)
            }
            _ => None,
        };
        stats_session = Some((client, timeouts, identity, target.shown.clone()));
    }

    if scratch_target.is_some() && !settings.deploy_is_known {
        notes.push(
            "no trace: without a base ref (--base) every migration file counts as this deploy's, and gonogo does not replay the whole history on scratch_url".to_string(),
        );
    }
    if let Some(target) = scratch_target.as_ref().filter(|_| settings.deploy_is_known) {
        let (client, canceller) = connect::connect_cancellable(target, "scratch_url", &[]).await?;
        if let Ok(mut slot) = cancel.lock() {
            *slot = Some(canceller);
        }
        if let Some((_, _, Some(stats_identity), _)) = &stats_session {
            let identity = connect::server_identity(&client, "scratch_url").await?;
            if &identity == stats_identity {
                return Err(format!(
                    "refusing to trace: scratch_url ({}) connects to the same server and database as stats_url; the trace runs the migration there, so it must be a disposable copy",
                    target.shown
                ));
            }
        }
        // Per statement: what a DO block runs, and why a routine it defines is unsafe.
        let safety: Vec<safety::Safety> = statements
            .iter()
            .map(|s| safety::safety(&s.statement))
            .collect();
        let inputs: Vec<safety::Candidate> = statements
            .iter()
            .zip(&safety)
            .map(|(s, safety)| safety::Candidate::new(&s.statement, safety))
            .collect();
        let limits = safety::Limits {
            statement_timeout: TRACE_STATEMENT_TIMEOUT,
            lock_timeout: TRACE_LOCK_TIMEOUT,
            as_superuser: settings.trace_as_superuser,
        };
        // The rollback drill may use the same scratch database in this run: one at a time.
        let _turn = safety::exclusive().await;
        let traced = trace::trace(&client, &inputs, limits)
            .await
            .map_err(|e| format!("tracing on scratch_url ({}) failed: {e}", target.shown))?;
        // Rolled back: nothing left to cancel.
        if let Ok(mut slot) = cancel.lock() {
            slot.take();
        }
        let ran = traced
            .iter()
            .filter(|t| matches!(t, trace::Traced::Ran { .. }))
            .count();
        apply_trace(findings, &mut targets, &statements, &traced);
        notes.push(format!(
            "{ran} statements traced on {} and rolled back",
            target.shown
        ));
    }

    if let Some((client, timeouts, _, shown)) = &stats_session {
        let mut tables: Vec<String> = targets.iter().map(|t| t.table.clone()).collect();
        tables.sort();
        tables.dedup();
        let stats = stats::read(client, &tables).await?;
        let groups = transaction_groups(&statements, settings.transaction);
        apply_estimates(findings, &targets, &groups, &stats, timeouts, settings);
        let oids: Vec<u32> = stats.values().map(|s| s.oid).collect();
        let holders = preflight::holders(client, &oids).await?;
        apply_preflight(findings, &targets, &stats, &holders, settings);
        notes.push(format!(
            "statistics of {} of {} tables from {shown}",
            stats.len(),
            tables.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::apply::held_windows;
    use super::*;

    fn deploy(files: &[(&str, &str)]) -> Vec<DeployStatement> {
        let files: Vec<MigrationFile> = files
            .iter()
            .map(|(path, text)| MigrationFile {
                path: path.to_string(),
                text: text.to_string(),
                in_deploy: true,
                transaction: None,
            })
            .collect();
        deploy_statements(&files)
    }

    #[test]
    fn statements_share_a_transaction_as_the_runner_and_the_file_say() {
        let statements = deploy(&[
            (
                "a.sql",
                "ALTER TABLE t ADD c int;\nALTER TABLE u ADD c int;\n",
            ),
            (
                "b.sql",
                "BEGIN;\nALTER TABLE t ADD d int;\nCOMMIT;\nALTER TABLE u ADD d int;\n",
            ),
        ]);
        assert_eq!(
            transaction_groups(&statements, TransactionMode::PerFile),
            vec![1, 1, 2, 2, 2, 3]
        );
        assert_eq!(
            transaction_groups(&statements, TransactionMode::PerStatement),
            vec![1, 2, 3, 3, 3, 4]
        );
    }

    #[test]
    fn do_block_statements_belong_to_their_block() {
        let statements = deploy(&[(
            "a.sql",
            "DO $$\nBEGIN\n  ALTER TABLE t ADD c int;\nEND\n$$;\nALTER TABLE u ADD c int;\n",
        )]);
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0].nested.len(), 1);
        assert_eq!(statements[0].nested[0].line, 3);
    }

    #[test]
    fn a_lock_is_held_through_the_later_statements_of_its_transaction() {
        let target = |statement| Target {
            finding: 0,
            statement,
            table: "t".to_string(),
            work: Work::Rewrite,
            lock: LockMode::AccessExclusiveLock,
        };
        let targets = [target(0), target(2), target(3)];
        let own = [
            Some(Duration::from_secs(1)),
            Some(Duration::from_secs(10)),
            None,
        ];
        let overhead = Duration::from_millis(5);
        // Statements 0..=2 in one transaction, 3 in another.
        let held = held_windows(&targets, &own, &[1, 1, 1, 2], overhead);
        assert_eq!(
            held,
            vec![
                (Duration::from_millis(11_005), 2),
                (Duration::from_secs(10), 0),
                (overhead, 0)
            ]
        );
    }

    #[test]
    fn down_sections_are_not_traced() {
        let file = |text: &str| MigrationFile {
            path: "m.sql".to_string(),
            text: text.to_string(),
            in_deploy: true,
            transaction: None,
        };
        for text in [
            "-- +goose Up\nALTER TABLE t ADD COLUMN c int;\n-- +goose Down\nALTER TABLE t DROP COLUMN c;\n",
            "-- migrate:up\nALTER TABLE t ADD COLUMN c int;\n-- migrate:down\nALTER TABLE t DROP COLUMN c;\n",
        ] {
            let statements = deploy_statements(&[file(text)]);
            let texts: Vec<&str> = statements
                .iter()
                .map(|s| s.statement.text.as_str())
                .collect();
            assert_eq!(texts, ["ALTER TABLE t ADD COLUMN c int"], "{text}");
        }
    }
}
