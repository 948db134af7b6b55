//! The `migrations/pg-lock-accumulation` rule (PostgreSQL): judged per transaction, so it keeps
//! whether it already reported in the current one.

use super::Draft;
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 180;
    /// ## What it catches
    /// In one transaction, a statement that runs while a lock blocking reads or writes on an
    /// existing table is already held: a second strong lock on another table, a backfill, a
    /// rewrite or a scan.
    ///
    /// ## Why it matters during a deploy
    /// Every lock is held until COMMIT. A 1 ms `ADD COLUMN` followed in the same transaction by a
    /// backfill keeps `orders` locked for the whole backfill; two strong locks on two tables
    /// also invite deadlocks with application traffic.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN currency text;            -- ACCESS EXCLUSIVE on orders…
    /// UPDATE orders SET currency = 'EUR' WHERE id < 100000;   -- …held during the whole update
    /// ```
    ///
    /// ## Do this instead
    /// One strong lock per transaction: split the migration (or commit between the steps), and
    /// backfill outside the DDL transaction, in batches.
    pub LOCK_ACCUMULATION = ("migrations/pg-lock-accumulation", Warn, "locks accumulate in one transaction: a strong lock is held while more work runs");
}

/// One finding per transaction; its evidence names every lock the transaction held at COMMIT.
#[derive(Default)]
pub struct LockAccumulation {
    /// Index of this transaction's finding in the check's findings.
    reported: Option<usize>,
}

impl LockAccumulation {
    pub fn check(&self, statement: &StatementFacts) -> Option<Draft> {
        let tx = &statement.transaction;
        if !tx.multi_statement || tx.held_before.is_empty() || self.reported.is_some() {
            return None;
        }
        // A whole-table backfill under ACCESS EXCLUSIVE from earlier in the transaction is
        // `pg-unbatched-backfill`'s `fail`, not a warning here.
        let backfill_under_lock = statement.operations.as_ref().is_ok_and(|ops| {
            ops.iter().any(|op| {
                matches!(
                    op,
                    Operation::Backfill {
                        whole_table: true,
                        under_lock: Some(_),
                        ..
                    }
                )
            })
        });
        if backfill_under_lock {
            return None;
        }
        let new_table = statement
            .strong_locks
            .iter()
            .find(|(t, _)| !tx.held_before.holds(t));
        let extends = match (new_table, statement.long_work) {
            (Some((table, lock)), _) => format!("takes {} on {table} too", lock_name(*lock)),
            (None, Some(work)) => format!("runs {work}"),
            (None, None) => return None,
        };
        let first = tx.held_before.first()?;
        let table = new_table.map_or(&first.table, |(t, _)| t);
        Some(Draft::new(
            &LOCK_ACCUMULATION,
            table,
            format!(
                "this statement {extends} while {} is still held on {} (since line {}) until COMMIT: every statement in the transaction extends the lock window",
                lock_name(first.lock),
                first.table,
                first.line
            ),
            "one strong lock per transaction: commit before this statement (a separate migration), and backfill in batches outside the DDL transaction".to_string(),
        ))
    }

    /// The finding was written at `index`.
    pub fn reported(&mut self, index: usize) {
        self.reported = Some(index);
    }

    /// The transaction ended: the index of its finding, if any, and the evidence to give it.
    pub fn commit(&mut self, held: &[HeldLock]) -> Option<(usize, String)> {
        let index = self.reported.take()?;
        let union: Vec<String> = held
            .iter()
            .map(|h| format!("{} {}", h.table, lock_name(h.lock)))
            .collect();
        Some((
            index,
            format!("locks held until COMMIT: {}", union.join(", ")),
        ))
    }
}
