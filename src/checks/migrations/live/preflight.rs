//! Pre-flight of the live database: what is holding or waiting for locks on the tables the
//! migration locks right now, autovacuum running on them, and the timeouts of the connecting
//! role. These turn a 1 ms ALTER into an outage: the ALTER queues behind a long transaction, and
//! every query on the table queues behind the ALTER.

use super::connect::describe;
use pg_query::LockMode;
use tokio_postgres::Client;

/// A session other than gonogo's with a lock on (or waiting for one on) a target table.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    pub pid: i32,
    pub user: String,
    pub application: String,
    /// `active`, `idle in transaction`, …; autovacuum workers have none.
    pub state: String,
    pub backend_type: String,
    pub table_oid: u32,
    pub mode: LockMode,
    pub granted: bool,
    /// Seconds since the session's transaction began (0 when unknown).
    pub transaction_seconds: f64,
    /// Seconds since the state last changed (how long it has been idle in transaction).
    pub state_seconds: f64,
    /// The start of the current or last query, for the message.
    pub query: String,
}

impl Holder {
    pub fn is_autovacuum(&self) -> bool {
        self.backend_type == "autovacuum worker" || self.query.starts_with("autovacuum:")
    }

    /// An anti-wraparound autovacuum is not cancelled by a conflicting lock request: the DDL
    /// waits for the whole vacuum, and everything queues behind the DDL.
    pub fn is_wraparound_vacuum(&self) -> bool {
        self.is_autovacuum() && self.query.contains("to prevent wraparound")
    }
}

/// The effective timeouts of the role in stats_url, before gonogo changes anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleTimeouts {
    pub lock_timeout_ms: u64,
    pub statement_timeout_ms: u64,
}

/// Whether a lock in mode `held` blocks a request for `wanted` (PostgreSQL's conflict table).
pub fn conflicts(held: LockMode, wanted: LockMode) -> bool {
    use LockMode::*;
    let blocked_by: &[LockMode] = match wanted {
        NoLock => &[],
        AccessShareLock => &[AccessExclusiveLock],
        RowShareLock => &[ExclusiveLock, AccessExclusiveLock],
        RowExclusiveLock => &[
            ShareLock,
            ShareRowExclusiveLock,
            ExclusiveLock,
            AccessExclusiveLock,
        ],
        ShareUpdateExclusiveLock => &[
            ShareUpdateExclusiveLock,
            ShareLock,
            ShareRowExclusiveLock,
            ExclusiveLock,
            AccessExclusiveLock,
        ],
        ShareLock => &[
            RowExclusiveLock,
            ShareUpdateExclusiveLock,
            ShareRowExclusiveLock,
            ExclusiveLock,
            AccessExclusiveLock,
        ],
        ShareRowExclusiveLock => &[
            RowExclusiveLock,
            ShareUpdateExclusiveLock,
            ShareLock,
            ShareRowExclusiveLock,
            ExclusiveLock,
            AccessExclusiveLock,
        ],
        ExclusiveLock => &[
            RowShareLock,
            RowExclusiveLock,
            ShareUpdateExclusiveLock,
            ShareLock,
            ShareRowExclusiveLock,
            ExclusiveLock,
            AccessExclusiveLock,
        ],
        AccessExclusiveLock => &[
            AccessShareLock,
            RowShareLock,
            RowExclusiveLock,
            ShareUpdateExclusiveLock,
            ShareLock,
            ShareRowExclusiveLock,
            ExclusiveLock,
            AccessExclusiveLock,
        ],
    };
    blocked_by.contains(&held)
}

/// `AccessExclusiveLock` (pg_locks' spelling) → the mode.
pub fn parse_mode(mode: &str) -> Option<LockMode> {
    use LockMode::*;
    Some(match mode {
        "AccessShareLock" => AccessShareLock,
        "RowShareLock" => RowShareLock,
        "RowExclusiveLock" => RowExclusiveLock,
        "ShareUpdateExclusiveLock" => ShareUpdateExclusiveLock,
        "ShareLock" => ShareLock,
        "ShareRowExclusiveLock" => ShareRowExclusiveLock,
        "ExclusiveLock" => ExclusiveLock,
        "AccessExclusiveLock" => AccessExclusiveLock,
        _ => return None,
    })
}

/// A holder the migration would queue behind for longer than a moment: an open transaction
/// older than `max_lock_seconds`, idle in transaction, or a vacuum. Short transactions of normal
/// traffic hold locks all the time and end on their own.
pub fn is_long_holder(holder: &Holder, max_lock_seconds: f64) -> bool {
    holder.granted
        && (holder.is_autovacuum()
            || holder.state.starts_with("idle in transaction")
            || holder.transaction_seconds > max_lock_seconds)
}

/// Sessions (not gonogo's own) with a granted or awaited lock on any of `oids`.
pub async fn holders(client: &Client, oids: &[u32]) -> Result<Vec<Holder>, String> {
    if oids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            "SELECT a.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''),
                    coalesce(a.state, ''), coalesce(a.backend_type, ''), l.relation, l.mode, l.granted,
                    coalesce(extract(epoch FROM now() - a.xact_start), 0)::float8,
                    coalesce(extract(epoch FROM now() - a.state_change), 0)::float8,
                    left(coalesce(a.query, ''), 160)
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'relation' AND l.relation = ANY($1::oid[])
               AND l.pid <> pg_backend_pid()
             ORDER BY a.pid, l.relation",
            &[&oids],
        )
        .await
        .map_err(|e| format!("reading pg_locks failed: {}", describe(&e)))?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(Holder {
                pid: row.get(0),
                user: row.get(1),
                application: row.get(2),
                state: row.get(3),
                backend_type: row.get(4),
                table_oid: row.get(5),
                mode: parse_mode(row.get::<_, &str>(6))?,
                granted: row.get(7),
                transaction_seconds: row.get(8),
                state_seconds: row.get(9),
                query: row
                    .get::<_, String>(10)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            })
        })
        .collect())
}

/// The role's own lock_timeout and statement_timeout (role, database and server settings):
/// `reset_val`, which a session-level `SET` (gonogo's own timeouts) leaves alone.
pub async fn role_timeouts(client: &Client) -> Result<RoleTimeouts, String> {
    let row = client
        .query_one(
            "SELECT (SELECT reset_val::int8 FROM pg_settings WHERE name = 'lock_timeout'),
                    (SELECT reset_val::int8 FROM pg_settings WHERE name = 'statement_timeout')",
            &[],
        )
        .await
        .map_err(|e| format!("reading the role's timeouts failed: {}", describe(&e)))?;
    Ok(RoleTimeouts {
        lock_timeout_ms: u64::try_from(row.get::<_, i64>(0)).unwrap_or(0),
        statement_timeout_ms: u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conflict_table_is_postgresqls() {
        use LockMode::*;
        // A plain SELECT blocks ALTER TABLE, and nothing weaker.
        assert!(conflicts(AccessShareLock, AccessExclusiveLock));
        assert!(!conflicts(AccessShareLock, ShareLock));
        // CREATE INDEX (SHARE) waits for writers, not readers, and not for another CREATE INDEX.
        assert!(conflicts(RowExclusiveLock, ShareLock));
        assert!(!conflicts(ShareLock, ShareLock));
        // Autovacuum (SHARE UPDATE EXCLUSIVE) blocks CREATE INDEX and ALTER TABLE.
        assert!(conflicts(ShareUpdateExclusiveLock, ShareLock));
        // The table is symmetric.
        let modes = [
            AccessShareLock,
            RowShareLock,
            RowExclusiveLock,
            ShareUpdateExclusiveLock,
            ShareLock,
            ShareRowExclusiveLock,
            ExclusiveLock,
            AccessExclusiveLock,
        ];
        for a in modes {
            for b in modes {
                assert_eq!(conflicts(a, b), conflicts(b, a), "{a:?} vs {b:?}");
            }
        }
    }

    fn holder(state: &str, seconds: f64, query: &str) -> Holder {
        Holder {
            pid: 42,
            user: "app".into(),
            application: "api".into(),
            state: state.into(),
            backend_type: "client backend".into(),
            table_oid: 1,
            mode: LockMode::AccessShareLock,
            granted: true,
            transaction_seconds: seconds,
            state_seconds: seconds,
            query: query.into(),
        }
    }

    #[test]
    fn long_holders_are_old_or_idle_transactions_and_vacuums() {
        assert!(is_long_holder(
            &holder("idle in transaction", 0.5, "SELECT 1"),
            2.0
        ));
        assert!(is_long_holder(&holder("active", 30.0, "SELECT …"), 2.0));
        assert!(!is_long_holder(&holder("active", 0.05, "SELECT …"), 2.0));
        let mut vacuum = holder(
            "",
            3.0,
            "autovacuum: VACUUM public.orders (to prevent wraparound)",
        );
        vacuum.backend_type = "autovacuum worker".into();
        assert!(vacuum.is_wraparound_vacuum());
        assert!(is_long_holder(&vacuum, 2.0));
    }
}
