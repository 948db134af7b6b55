//! The `migrations/pg-add-index-not-concurrent` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 100;
    /// ## What it catches
    /// `CREATE [UNIQUE] INDEX` without `CONCURRENTLY` on an existing table.
    ///
    /// ## Why it matters during a deploy
    /// The build holds a SHARE lock: reads go on, but every INSERT, UPDATE and DELETE waits
    /// until the whole index is built.
    ///
    /// ## Example
    /// ```sql
    /// CREATE INDEX orders_status_idx ON orders (status);
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
    /// ```
    /// outside a transaction block (its own migration without a wrapping transaction). If it
    /// fails it leaves an INVALID index: drop it and retry.
    pub ADD_INDEX_NOT_CONCURRENT = ("migrations/pg-add-index-not-concurrent", Fail, "CREATE INDEX without CONCURRENTLY blocks writes for the whole build");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::CreateIndex { table, unique } = facts.op else {
        return None;
    };
    let kind = if *unique {
        "CREATE UNIQUE INDEX"
    } else {
        "CREATE INDEX"
    };
    Some(Draft::new(
        &ADD_INDEX_NOT_CONCURRENT,
        table,
        format!(
            "{kind} without CONCURRENTLY takes SHARE on {table}: every INSERT, UPDATE and DELETE on {table} waits until the whole index is built"
        ),
        format!(
            "`{}` in a migration of its own, outside a transaction",
            add_concurrently(&facts.statement.text)
        ),
    ))
}

/// `CREATE [UNIQUE] INDEX name …` → `CREATE [UNIQUE] INDEX CONCURRENTLY name …` (the user's own
/// statement, fixed).
fn add_concurrently(text: &str) -> String {
    let single_line = super::single_line(text);
    let upper = single_line.to_ascii_uppercase();
    match upper.find("INDEX ") {
        Some(i) => format!(
            "{}CONCURRENTLY {};",
            &single_line[..i + 6],
            &single_line[i + 6..]
        ),
        None => single_line,
    }
}
