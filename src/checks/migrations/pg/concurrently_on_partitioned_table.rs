//! The `migrations/pg-concurrently-on-partitioned-table` rule (PostgreSQL): the facts know
//! which tables were created `PARTITION BY` and which have a DEFAULT partition.

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::Operation;

declare_rule! {
    order: 170;
    /// ## What it catches
    /// `CREATE INDEX CONCURRENTLY` on a partitioned table (one created `PARTITION BY` by an
    /// earlier statement or migration), and `ALTER TABLE … DETACH PARTITION … CONCURRENTLY` on a
    /// partitioned table with a DEFAULT partition.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL refuses both: "cannot create index on partitioned table … concurrently"
    /// (SQLSTATE 0A000, PostgreSQL 11 to 17) and "cannot detach partitions concurrently when a
    /// default partition exists" (SQLSTATE 55000, "ALTER TABLE": DETACH PARTITION). The migration
    /// stops there. Dropping CONCURRENTLY from the CREATE INDEX to make it pass builds every
    /// partition's index under SHARE, blocking writes to the whole partitioned table for the
    /// whole build.
    ///
    /// ## Example
    /// ```sql
    /// CREATE INDEX CONCURRENTLY measurements_reading_idx ON measurements (reading);
    /// ```
    ///
    /// ## Do this instead
    /// An index on the parent only, a concurrent build per partition, then attach each one (no
    /// scan, brief locks):
    /// `CREATE INDEX measurements_reading_idx ON ONLY measurements (reading);`
    /// `CREATE INDEX CONCURRENTLY measurements_2026_reading_idx ON measurements_2026 (reading);`
    /// `ALTER INDEX measurements_reading_idx ATTACH PARTITION measurements_2026_reading_idx;`
    pub CONCURRENTLY_ON_PARTITIONED_TABLE = ("migrations/pg-concurrently-on-partitioned-table", Fail, "CONCURRENTLY on a partitioned table where PostgreSQL refuses it: the migration cannot succeed");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::PartitionRefusal { table, what, why } = facts.op else {
        return None;
    };
    let fix = if *what == "CREATE INDEX CONCURRENTLY" {
        format!(
            "`CREATE INDEX … ON ONLY {table} (…)`, then `CREATE INDEX CONCURRENTLY` on each partition and `ALTER INDEX … ATTACH PARTITION` for each"
        )
    } else {
        format!(
            "detach without CONCURRENTLY under a short lock_timeout (ACCESS EXCLUSIVE on {table}, its partition and its DEFAULT partition, no scan), or move the DEFAULT partition's rows out and detach it first"
        )
    };
    let kind = if *what == "CREATE INDEX CONCURRENTLY" {
        "a partitioned table"
    } else {
        "a partitioned table with a DEFAULT partition"
    };
    Some(Draft::new(
        &CONCURRENTLY_ON_PARTITIONED_TABLE,
        table,
        format!(
            "{table} is {kind}: PostgreSQL refuses {what} on it ({why}), so the migration cannot succeed"
        ),
        fix,
    ))
}
