//! The `migrations/pg-lock-table` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 230;
    /// ## What it catches
    /// An explicit `LOCK TABLE` on an existing table.
    ///
    /// ## Why it matters during a deploy
    /// `LOCK TABLE t` without a mode takes ACCESS EXCLUSIVE, held until COMMIT: every read and
    /// write of the table waits for the rest of the migration.
    ///
    /// ## Example
    /// ```sql
    /// LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;
    /// ```
    ///
    /// ## Do this instead
    /// Take the weakest lock that protects what you do, with `lock_timeout` set, and keep the
    /// transaction short.
    pub LOCK_TABLE = ("migrations/pg-lock-table", Warn, "explicit LOCK TABLE holds a strong lock until COMMIT");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::LockTable { table, lock } = facts.op else {
        return None;
    };
    Some(Draft::new(
        &LOCK_TABLE,
        table,
        format!(
            "LOCK TABLE {table} takes {} until COMMIT ({})",
            lock_name(*lock),
            blocks(*lock)
        ),
        "take the weakest lock that protects the change, with lock_timeout set, and commit quickly"
            .to_string(),
    ))
}
