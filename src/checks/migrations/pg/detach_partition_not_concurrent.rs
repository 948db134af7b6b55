//! The `migrations/pg-detach-partition-not-concurrent` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 174;
    /// ## What it catches
    /// `ALTER TABLE parent DETACH PARTITION partition` without `CONCURRENTLY`.
    ///
    /// ## Why it matters during a deploy
    /// It holds ACCESS EXCLUSIVE on the parent, the partition and the DEFAULT partition ("ALTER
    /// TABLE": DETACH PARTITION): every query on the partitioned table waits. The detach itself
    /// is catalog work (no scan), so the lock is brief once granted, but it queues behind any
    /// long query on the table and everything queues behind it. A `warn`, not a `fail`: with a
    /// short `lock_timeout` the wait is bounded; `CONCURRENTLY` (PostgreSQL 14+) avoids it.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE measurements DETACH PARTITION measurements_2024;
    /// ```
    ///
    /// ## Do this instead
    /// `ALTER TABLE measurements DETACH PARTITION measurements_2024 CONCURRENTLY;` outside a
    /// transaction block (PostgreSQL 14+, and only while the table has no DEFAULT partition);
    /// otherwise under `SET lock_timeout = '2s';`, retried when it times out.
    pub DETACH_PARTITION_NOT_CONCURRENT = ("migrations/pg-detach-partition-not-concurrent", Warn, "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::DetachPartition {
        parent,
        partition,
        default_partition,
    } = facts.op
    else {
        return None;
    };
    let fix = match default_partition {
        Some(default) if facts.postgres_version >= 14 => format!(
            "keep `SET lock_timeout` short and retry on timeout (CONCURRENTLY is refused while {default} is the DEFAULT partition)"
        ),
        _ if facts.postgres_version >= 14 => format!(
            "`ALTER TABLE {parent} DETACH PARTITION {partition} CONCURRENTLY;` outside a transaction block"
        ),
        _ => format!(
            "keep `SET lock_timeout` short and retry on timeout (DETACH … CONCURRENTLY needs PostgreSQL 14, this is {})",
            facts.postgres_version
        ),
    };
    Some(Draft::new(
        &DETACH_PARTITION_NOT_CONCURRENT,
        parent,
        format!(
            "DETACH PARTITION {partition} holds ACCESS EXCLUSIVE on {parent}: brief once granted, but it queues behind long queries on {parent} and every query queues behind it"
        ),
        fix,
    ))
}
