//! The `migrations/pg-drop-index-not-concurrent` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 130;
    /// ## What it catches
    /// `DROP INDEX` without `CONCURRENTLY`.
    ///
    /// ## Why it matters during a deploy
    /// The drop itself is quick, but it needs ACCESS EXCLUSIVE on the table: it waits behind any
    /// long query, and every query on the table queues behind it meanwhile.
    ///
    /// ## Example
    /// ```sql
    /// DROP INDEX orders_legacy_idx;
    /// ```
    ///
    /// ## Do this instead
    /// `DROP INDEX CONCURRENTLY IF EXISTS orders_legacy_idx;` outside a transaction block.
    pub DROP_INDEX_NOT_CONCURRENT = ("migrations/pg-drop-index-not-concurrent", Warn, "DROP INDEX without CONCURRENTLY needs ACCESS EXCLUSIVE on the table");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::DropIndex { index } = facts.op else {
        return None;
    };
    Some(Draft::new(
        &DROP_INDEX_NOT_CONCURRENT,
        index,
        format!(
            "DROP INDEX {index} needs ACCESS EXCLUSIVE on its table: it waits behind long queries and every query on the table queues behind it"
        ),
        format!("`DROP INDEX CONCURRENTLY IF EXISTS {index};` outside a transaction block"),
    ))
}
