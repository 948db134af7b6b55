//! Traced locks: the deploy's statements run on the scratch database inside one transaction that
//! is always rolled back, with lock_timeout and statement_timeout set. After each statement,
//! gonogo reads its own backend's locks from `pg_catalog.pg_locks` and compares each table's
//! relfilenode with its value before the statement (a new relfilenode is a rewrite).
//!
//! The statements gonogo refuses to run, and the transaction's limits, are the shared safety
//! rules of [`crate::sql::postgres::live::safety`]; each statement refused is reported as "not
//! traced: <why>" (`info`).
//!
//! What the scratch database's own code does (triggers and defaults already there) runs as it
//! would in production; that is what the scratch database is for, and why it must be disposable.

use super::preflight::parse_mode;
use crate::sql::postgres::live::safety::{self, Candidate, Gate, Limits, Verdict, pinned_query};
use pg_query::LockMode;
use std::collections::HashMap;
use std::time::Duration;
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
    NotTraceable(String),
    /// Transaction control: gonogo's own transaction replaces it.
    Skipped,
    /// PostgreSQL refused it: the reason. Later statements are not traced.
    Failed(String),
    /// An earlier statement failed.
    NotReached,
}

/// Run `statements` in one transaction on `client` and roll it back (see
/// [`safety::begin`] for the limits).
pub async fn trace(
    client: &Client,
    statements: &[Candidate<'_>],
    limits: Limits,
) -> Result<Vec<Traced>, String> {
    safety::begin(client, limits, "trace").await?;
    let result = trace_in_transaction(client, statements).await;
    // Always roll back, also after an error.
    let rollback = safety::rollback(client).await;
    let traced = result?;
    rollback?;
    Ok(traced)
}

async fn trace_in_transaction(
    client: &Client,
    statements: &[Candidate<'_>],
) -> Result<Vec<Traced>, String> {
    // User tables before the trace, by oid: (name, relfilenode).
    let mut files = relfilenodes(client, None).await?;
    let mut held: HashMap<u32, LockMode> = HashMap::new();
    let mut out = Vec::with_capacity(statements.len());
    let mut failed = false;
    let mut gate = Gate::default();
    for statement in statements {
        if failed {
            out.push(Traced::NotReached);
            continue;
        }
        match gate.judge(client, statement).await? {
            Verdict::Run => {}
            Verdict::Skip => {
                out.push(Traced::Skipped);
                continue;
            }
            Verdict::Refuse(why) => {
                out.push(Traced::NotTraceable(why));
                continue;
            }
        }
        let duration = match safety::execute(client, statement.text).await {
            Ok(duration) => duration,
            Err(e) => {
                out.push(Traced::Failed(e));
                failed = true;
                continue;
            }
        };
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
    const SQL: &str = "SELECT c.oid, c.relname::pg_catalog.text, c.relfilenode
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
           AND ($1::pg_catalog.oid[] IS NULL OR c.oid = ANY($1::pg_catalog.oid[]))";
    let rows = pinned_query(client, SQL, &[&oids])
        .await
        .map_err(|e| format!("reading pg_class during the trace failed: {e}"))?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<_, u32>(0), (r.get(1), r.get(2))))
        .collect())
}

/// This backend's strongest granted lock per user relation.
async fn own_locks(client: &Client) -> Result<HashMap<u32, LockMode>, String> {
    let rows = pinned_query(
        client,
        "SELECT l.relation, l.mode FROM pg_catalog.pg_locks l
         WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation' AND l.granted
           AND l.relation >= 16384",
        &[],
    )
    .await
    .map_err(|e| format!("reading pg_locks during the trace failed: {e}"))?;
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
