//! The `migrations/pg-partition-default-scan` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 172;
    /// ## What it catches
    /// `CREATE TABLE … PARTITION OF parent FOR VALUES …` or `ALTER TABLE parent ATTACH PARTITION
    /// …` while `parent` has a DEFAULT partition (created by an earlier statement or migration).
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL must prove that no row of the DEFAULT partition belongs to the new bound: it
    /// scans the DEFAULT partition under ACCESS EXCLUSIVE ("CREATE TABLE": PARTITION OF, "ALTER
    /// TABLE": ATTACH PARTITION; check_default_partition_contents in partbounds.c). CREATE
    /// TABLE … PARTITION OF also holds ACCESS EXCLUSIVE on the parent. Every query that reaches
    /// the DEFAULT partition (any query on the parent that partition pruning does not narrow)
    /// waits for the whole scan. ATTACH also scans the attached table unless a valid CHECK
    /// constraint implies the partition bound.
    ///
    /// ## Example
    /// ```sql
    /// CREATE TABLE measurements_2027 PARTITION OF measurements
    ///     FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
    /// ```
    ///
    /// ## Do this instead
    /// Add a CHECK constraint to the DEFAULT partition that excludes the new bound (`NOT VALID`,
    /// then `VALIDATE` in a later transaction: PostgreSQL then skips its scan), create the new
    /// partition as a plain table with a CHECK matching its bound, and `ATTACH PARTITION` it
    /// under a short `lock_timeout`.
    pub PARTITION_DEFAULT_SCAN = ("migrations/pg-partition-default-scan", Fail, "a new partition of a table with a DEFAULT partition scans the DEFAULT partition under ACCESS EXCLUSIVE");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let (verb, parent, partition, default) = match facts.op {
        Operation::CreatePartition {
            parent,
            partition,
            default_partition,
        } => (
            "CREATE TABLE … PARTITION OF",
            parent,
            partition,
            default_partition,
        ),
        Operation::AttachPartition {
            parent,
            partition,
            default_partition: Some(default),
        } => ("ATTACH PARTITION", parent, partition, default),
        _ => return None,
    };
    let parent_lock = if verb == "ATTACH PARTITION" {
        String::new()
    } else {
        format!(" and {parent}")
    };
    Some(Draft::new(
        &PARTITION_DEFAULT_SCAN,
        default,
        format!(
            "{verb} {partition}: {parent} has the DEFAULT partition {default}, which PostgreSQL scans for rows of the new bound while holding ACCESS EXCLUSIVE on it{parent_lock}: queries reaching {default} wait for the whole scan"
        ),
        format!(
            "first `ALTER TABLE {default} ADD CONSTRAINT … CHECK (<rows outside the new bound>) NOT VALID;` and VALIDATE it in a later transaction (PostgreSQL then skips the scan); create {partition} as a plain table with a CHECK matching its bound and ATTACH it under a short lock_timeout"
        ),
    ))
}
