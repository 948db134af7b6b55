//! The `migrations/pg-missing-lock-timeout` rule (PostgreSQL): once per file, at the first
//! strong lock taken with no lock_timeout set.

use super::Draft;
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 200;
    /// ## What it catches
    /// A statement that takes a lock conflicting with reads or writes on an existing table, with
    /// no `SET lock_timeout` (or `SET LOCAL lock_timeout`) earlier in the migration.
    ///
    /// ## Why it matters during a deploy
    /// Locks are granted in order. A 1 ms `ALTER TABLE` that waits behind a long-running query
    /// holds its place in the queue, and every query on the table, reads included, queues behind
    /// it: the site is down for as long as the slowest query runs. A lock timeout makes the
    /// migration give up (and retry) instead.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN note text;
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// SET lock_timeout = '2s';
    /// ALTER TABLE orders ADD COLUMN note text;
    /// ```
    /// and retry the migration when it times out.
    pub MISSING_LOCK_TIMEOUT = ("migrations/pg-missing-lock-timeout", Warn, "a strong lock without lock_timeout can queue every query on the table");
}

#[derive(Default)]
pub struct MissingLockTimeout {
    /// Already judged in this file (reported, or would have been in a file not in this deploy).
    judged: bool,
}

impl MissingLockTimeout {
    pub fn check(&mut self, statement: &StatementFacts, path: &str) -> Option<Draft> {
        let (table, lock) = statement.strong_locks.first()?;
        if statement.transaction.lock_timeout_set || self.judged {
            return None;
        }
        self.judged = true;
        Some(Draft::new(
            &MISSING_LOCK_TIMEOUT,
            table,
            format!(
                "{} on {table} with no lock_timeout set: if it waits behind a long query, every query on {table} queues behind it ({})",
                lock_name(*lock),
                blocks(*lock)
            ),
            format!(
                "add `SET lock_timeout = '2s';` at the top of {path} and retry the migration when it times out"
            ),
        ))
    }
}
