//! The `migrations/pg-refresh-matview-not-concurrent` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 140;
    /// ## What it catches
    /// `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY`.
    ///
    /// ## Why it matters during a deploy
    /// The refresh holds ACCESS EXCLUSIVE on the view: every read of it waits for the whole
    /// refresh.
    ///
    /// ## Example
    /// ```sql
    /// REFRESH MATERIALIZED VIEW daily_revenue;
    /// ```
    ///
    /// ## Do this instead
    /// `REFRESH MATERIALIZED VIEW CONCURRENTLY daily_revenue;` (needs a unique index on the view)
    /// outside a transaction block.
    pub REFRESH_MATVIEW_NOT_CONCURRENT = ("migrations/pg-refresh-matview-not-concurrent", Fail, "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads of the view");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::RefreshMaterializedView { view } = facts.op else {
        return None;
    };
    Some(Draft::new(
        &REFRESH_MATVIEW_NOT_CONCURRENT,
        view,
        format!(
            "REFRESH MATERIALIZED VIEW {view} holds ACCESS EXCLUSIVE on it: every read of {view} waits for the whole refresh"
        ),
        format!(
            "`REFRESH MATERIALIZED VIEW CONCURRENTLY {view};` (needs a unique index on {view}) outside a transaction block"
        ),
    ))
}
