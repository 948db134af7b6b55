//! The `migrations/pg-reindex-not-concurrent` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 120;
    /// ## What it catches
    /// `REINDEX` without `CONCURRENTLY`.
    ///
    /// ## Why it matters during a deploy
    /// REINDEX blocks writes to the table (and reads that would use the index) for the whole
    /// rebuild. `REINDEX CONCURRENTLY` exists since PostgreSQL 12.
    ///
    /// ## Example
    /// ```sql
    /// REINDEX INDEX orders_status_idx;
    /// ```
    ///
    /// ## Do this instead
    /// `REINDEX INDEX CONCURRENTLY orders_status_idx;` outside a transaction block (before 12:
    /// `CREATE INDEX CONCURRENTLY` a copy, then drop the old one concurrently).
    pub REINDEX_NOT_CONCURRENT = ("migrations/pg-reindex-not-concurrent", Fail, "REINDEX without CONCURRENTLY blocks writes for the whole rebuild");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::Reindex { target } = facts.op else {
        return None;
    };
    let fix = if facts.postgres_version >= 12 {
        format!(
            "`{}` outside a transaction block",
            add_reindex_concurrently(&facts.statement.text)
        )
    } else {
        format!(
            "PostgreSQL {} has no REINDEX CONCURRENTLY: CREATE INDEX CONCURRENTLY a copy, then DROP INDEX CONCURRENTLY the old one",
            facts.postgres_version
        )
    };
    Some(Draft::new(
        &REINDEX_NOT_CONCURRENT,
        target,
        format!(
            "REINDEX without CONCURRENTLY blocks writes to {target} (and reads that use the index) for the whole rebuild"
        ),
        fix,
    ))
}

fn add_reindex_concurrently(text: &str) -> String {
    let single_line = super::single_line(text);
    let mut words: Vec<&str> = single_line.split(' ').collect();
    if words.len() >= 3 {
        words.insert(2, "CONCURRENTLY");
    }
    format!("{};", words.join(" "))
}
