//! Traced locks: the deploy's statements run on the scratch database inside one transaction that
//! is always rolled back, with lock_timeout and statement_timeout set. After each statement,
//! gonogo reads its own backend's locks from `pg_locks` and compares each table's relfilenode
//! with its value before the statement (a new relfilenode is a rewrite).
//!
//! Safety: transaction control in the migration (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, PREPARE
//! TRANSACTION) is never sent; statements PostgreSQL refuses inside a transaction block
//! (CONCURRENTLY, VACUUM, CREATE DATABASE, ALTER SYSTEM, …) are reported as not traceable and
//! never run; COPY FROM STDIN would wait for data and is not run either. If anything fails, the
//! connection is dropped, and PostgreSQL rolls back an open transaction of a closed session.
//! What a transaction cannot undo, gonogo cannot either: sequence values taken with nextval()
//! and effects through dblink or foreign tables. The scratch database must be disposable.

use super::connect::describe;
use super::preflight::parse_mode;
use pg_query::{LockMode, NodeEnum};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// What tracing one statement found.
#[derive(Debug, Clone, PartialEq)]
pub enum Traced {
    Ran {
        /// Tables that existed before the trace, with the strongest lock held after this
        /// statement, and whether this statement took or strengthened it (a lock taken by an
        /// earlier statement of the transaction is still held, and hides this one's).
        locks: Vec<(String, LockMode, bool)>,
        /// Pre-existing tables whose relfilenode changed: rewritten.
        rewritten: Vec<String>,
        duration: Duration,
    },
    /// Not run, and why.
    NotTraceable(&'static str),
    /// Transaction control: gonogo's own transaction replaces it.
    Skipped,
    /// PostgreSQL refused it: the reason. Later statements are not traced.
    Failed(String),
    /// An earlier statement failed.
    NotReached,
}

/// Why a statement must not run inside gonogo's transaction, if it must not.
pub fn not_traceable(node: &NodeEnum) -> Option<&'static str> {
    let concurrently = |params: &[pg_query::protobuf::Node]| {
        params.iter().any(|p| {
            matches!(p.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "concurrently")
        })
    };
    match node {
        NodeEnum::IndexStmt(stmt) if stmt.concurrent => Some(
            "CREATE INDEX CONCURRENTLY cannot run inside a transaction, and gonogo only traces inside one that it rolls back",
        ),
        NodeEnum::ReindexStmt(stmt) if concurrently(&stmt.params) => Some(
            "REINDEX CONCURRENTLY cannot run inside a transaction, and gonogo only traces inside one that it rolls back",
        ),
        NodeEnum::DropStmt(stmt) if stmt.concurrent => Some(
            "DROP INDEX CONCURRENTLY cannot run inside a transaction, and gonogo only traces inside one that it rolls back",
        ),
        NodeEnum::VacuumStmt(_) => {
            Some("VACUUM and ANALYZE are not traced (VACUUM cannot run inside a transaction)")
        }
        NodeEnum::CreatedbStmt(_)
        | NodeEnum::DropdbStmt(_)
        | NodeEnum::AlterSystemStmt(_)
        | NodeEnum::CreateTableSpaceStmt(_)
        | NodeEnum::DropTableSpaceStmt(_)
        | NodeEnum::CheckPointStmt(_)
        | NodeEnum::DiscardStmt(_) => {
            Some("this statement cannot run inside a transaction or acts outside the database")
        }
        NodeEnum::CopyStmt(stmt) if stmt.is_from && stmt.filename.is_empty() => {
            Some("COPY FROM STDIN needs data the migration runner sends")
        }
        NodeEnum::CopyStmt(_) => Some("COPY reads or writes files on the server"),
        _ => None,
    }
}

pub struct TraceInput<'a> {
    pub text: &'a str,
    pub node: Option<&'a NodeEnum>,
}

/// Run `statements` in one transaction on `client` and roll it back. `statement_timeout` and
/// `lock_timeout` apply to every statement (a migration's own SET overrides them, as it would
/// in production).
pub async fn trace(
    client: &Client,
    statements: &[TraceInput<'_>],
    statement_timeout: Duration,
    lock_timeout: Duration,
) -> Result<Vec<Traced>, String> {
    let fail = |what: &str, e: tokio_postgres::Error| format!("{what}: {}", describe(&e));
    client
        .batch_execute(&format!(
            "SET statement_timeout = {}; SET lock_timeout = {}; BEGIN",
            statement_timeout.as_millis().max(1),
            lock_timeout.as_millis().max(1)
        ))
        .await
        .map_err(|e| fail("starting the trace transaction failed", e))?;
    let result = trace_in_transaction(client, statements).await;
    // Always roll back, also after an error (an aborted transaction accepts ROLLBACK). If even
    // that fails, the caller drops the connection and the server rolls back.
    let rollback = client.batch_execute("ROLLBACK").await;
    let traced = result?;
    rollback.map_err(|e| fail("rolling back the trace failed", e))?;
    Ok(traced)
}

async fn trace_in_transaction(
    client: &Client,
    statements: &[TraceInput<'_>],
) -> Result<Vec<Traced>, String> {
    // User tables before the trace, by oid: (name, relfilenode).
    let mut files = relfilenodes(client, None).await?;
    let mut held: HashMap<u32, LockMode> = HashMap::new();
    let mut out = Vec::with_capacity(statements.len());
    let mut failed = false;
    for statement in statements {
        if failed {
            out.push(Traced::NotReached);
            continue;
        }
        if let Some(node) = statement.node {
            if matches!(node, NodeEnum::TransactionStmt(_)) {
                out.push(Traced::Skipped);
                continue;
            }
            if let Some(why) = not_traceable(node) {
                out.push(Traced::NotTraceable(why));
                continue;
            }
        } else {
            // Unparsed: gonogo cannot tell what it would do to the transaction.
            out.push(Traced::NotTraceable(
                "gonogo could not parse it, so it cannot tell whether it is safe to run",
            ));
            continue;
        }
        let started = Instant::now();
        if let Err(e) = client.batch_execute(statement.text).await {
            out.push(Traced::Failed(describe(&e)));
            failed = true;
            continue;
        }
        let duration = started.elapsed();
        let now = own_locks(client).await?;
        let mut locks = Vec::new();
        for (oid, mode) in &now {
            let before = held.get(oid).copied().unwrap_or(LockMode::NoLock);
            if let Some((name, _)) = files.get(oid) {
                locks.push((name.clone(), *mode, *mode > before));
            }
        }
        locks.sort();
        let oids: Vec<u32> = now
            .keys()
            .copied()
            .filter(|o| files.contains_key(o))
            .collect();
        let after = relfilenodes(client, Some(&oids)).await?;
        let mut rewritten = Vec::new();
        for (oid, (name, node)) in after {
            if let Some(entry) = files.get_mut(&oid)
                && entry.1 != node
            {
                rewritten.push(name);
                entry.1 = node;
            }
        }
        rewritten.sort();
        held = now;
        out.push(Traced::Ran {
            locks,
            rewritten,
            duration,
        });
    }
    Ok(out)
}

/// oid → (name, relfilenode) of user tables and materialized views (all, or these oids).
async fn relfilenodes(
    client: &Client,
    oids: Option<&[u32]>,
) -> Result<HashMap<u32, (String, u32)>, String> {
    const SQL: &str = "SELECT c.oid, c.relname::text, c.relfilenode FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg_toast%' AND ($1::oid[] IS NULL OR c.oid = ANY($1::oid[]))";
    let rows = client
        .query(SQL, &[&oids])
        .await
        .map_err(|e| format!("reading pg_class during the trace failed: {}", describe(&e)))?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<_, u32>(0), (r.get(1), r.get(2))))
        .collect())
}

/// This backend's strongest granted lock per user relation.
async fn own_locks(client: &Client) -> Result<HashMap<u32, LockMode>, String> {
    let rows = client
        .query(
            "SELECT l.relation, l.mode FROM pg_locks l
             WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
               AND l.relation >= 16384",
            &[],
        )
        .await
        .map_err(|e| format!("reading pg_locks during the trace failed: {}", describe(&e)))?;
    let mut out: HashMap<u32, LockMode> = HashMap::new();
    for row in rows {
        let Some(mode) = parse_mode(row.get::<_, &str>(1)) else {
            continue;
        };
        let entry = out.entry(row.get::<_, u32>(0)).or_insert(LockMode::NoLock);
        *entry = (*entry).max(mode);
    }
    Ok(out)
}

/// The traced result against the static prediction for one table: `None` when they agree,
/// else what differs, in words.
pub fn disagreement(
    predicted_rewrite: bool,
    predicted_lock: Option<LockMode>,
    traced_rewrite: bool,
    traced_lock: Option<LockMode>,
) -> Option<String> {
    let mut parts = Vec::new();
    if predicted_rewrite && !traced_rewrite {
        parts.push(
            "the static analysis predicted a rewrite, but the table was not rewritten".to_string(),
        );
    } else if !predicted_rewrite && traced_rewrite {
        parts
            .push("the table was rewritten, which the static analysis did not predict".to_string());
    }
    if let (Some(predicted), Some(traced)) = (predicted_lock, traced_lock)
        && predicted != traced
    {
        parts.push(format!(
            "the lock taken was {} (static prediction: {})",
            crate::checks::migrations::pg::lock_name(traced),
            crate::checks::migrations::pg::lock_name(predicted)
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(sql: &str) -> NodeEnum {
        crate::sql::postgres::parse(sql)
            .remove(0)
            .node
            .expect("parses")
    }

    #[test]
    fn statements_that_cannot_run_in_a_transaction_are_not_traced() {
        assert!(not_traceable(&node("CREATE INDEX CONCURRENTLY i ON t (a)")).is_some());
        assert!(not_traceable(&node("REINDEX TABLE CONCURRENTLY t")).is_some());
        assert!(not_traceable(&node("DROP INDEX CONCURRENTLY i")).is_some());
        assert!(not_traceable(&node("VACUUM t")).is_some());
        assert!(not_traceable(&node("COPY t FROM STDIN")).is_some());
        assert!(not_traceable(&node("CREATE INDEX i ON t (a)")).is_none());
        assert!(not_traceable(&node("ALTER TABLE t ADD COLUMN b int")).is_none());
    }

    #[test]
    fn the_traced_result_is_compared_with_the_prediction() {
        use LockMode::*;
        assert_eq!(
            disagreement(
                true,
                Some(AccessExclusiveLock),
                true,
                Some(AccessExclusiveLock)
            ),
            None
        );
        let text = disagreement(
            true,
            Some(AccessExclusiveLock),
            false,
            Some(AccessExclusiveLock),
        )
        .unwrap();
        assert!(text.contains("not rewritten"), "{text}");
        let text = disagreement(false, Some(ShareLock), true, Some(AccessExclusiveLock)).unwrap();
        assert!(text.contains("did not predict"), "{text}");
        assert!(
            text.contains("ACCESS EXCLUSIVE (static prediction: SHARE)"),
            "{text}"
        );
    }
}
