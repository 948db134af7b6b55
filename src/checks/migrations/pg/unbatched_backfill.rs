//! The `migrations/pg-unbatched-backfill` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 190;
    /// ## What it catches
    /// `UPDATE` or `DELETE` on an existing table without a `WHERE` clause, or with only
    /// `WHERE new_column IS NULL` on a column added earlier in the same transaction (every row
    /// matches).
    ///
    /// ## Why it matters during a deploy
    /// One statement locks every row it touches until it commits: concurrent writes to those rows
    /// wait, the table bloats, and replicas lag behind the huge transaction. Right after an
    /// `ALTER TABLE … ADD COLUMN` in the same transaction it is worse: the ALTER's ACCESS
    /// EXCLUSIVE lock is held until COMMIT (PostgreSQL docs, "Explicit Locking": locks are
    /// released at transaction end), so nobody reads or writes the table while every row is
    /// updated (checked on PostgreSQL 15: `pg_locks` shows AccessExclusiveLock on the table
    /// after the UPDATE, before COMMIT).
    ///
    /// ## Example
    /// ```sql
    /// UPDATE orders SET currency = 'EUR';
    /// ```
    ///
    /// ## Do this instead
    /// Backfill in batches outside the migration's DDL transaction, committing each batch:
    /// ```sql
    /// UPDATE orders SET currency = 'EUR' WHERE id BETWEEN 1 AND 10000 AND currency IS NULL;  -- repeat per range
    /// ```
    pub UNBATCHED_BACKFILL = ("migrations/pg-unbatched-backfill", Fail, "UPDATE/DELETE of a whole existing table in one statement");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::Backfill {
        table,
        verb,
        whole_table: true,
        under_lock,
    } = facts.op
    else {
        return None;
    };
    if let Some(held) = under_lock {
        return Some(Draft::new(
            &UNBATCHED_BACKFILL,
            table,
            format!(
                "{verb} of every row of {table} while the ACCESS EXCLUSIVE lock taken at line {} is still held (same transaction, until COMMIT): no reads or writes of {table} for the whole {verb}",
                held.line
            ),
            format!(
                "commit the ALTER first (a separate migration), then {verb} {table} in batches of a few thousand rows (`WHERE id BETWEEN … AND …`), each committed"
            ),
        ));
    }
    Some(Draft::new(
        &UNBATCHED_BACKFILL,
        table,
        format!(
            "{verb} of every row of {table} in one statement: each row stays locked until COMMIT, concurrent writes to them wait, and replicas lag"
        ),
        format!(
            "{verb} {table} in batches of a few thousand rows (`WHERE id BETWEEN … AND …`), each committed, outside the DDL transaction"
        ),
    ))
}
