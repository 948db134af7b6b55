//! The `migrations/pg-truncate` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 220;
    /// ## What it catches
    /// `TRUNCATE` of an existing table.
    ///
    /// ## Why it matters during a deploy
    /// It takes ACCESS EXCLUSIVE and deletes every row; the old version, still running, loses
    /// its data with no way back by rolling back the code.
    ///
    /// ## Example
    /// ```sql
    /// TRUNCATE sessions;
    /// ```
    ///
    /// ## Do this instead
    /// Delete in batches (`DELETE … WHERE id < …`) or drop the table in a later deploy once no
    /// code uses it.
    pub TRUNCATE = ("migrations/pg-truncate", Fail, "TRUNCATE of an existing table: ACCESS EXCLUSIVE and every row gone");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::Truncate { table } = facts.op else {
        return None;
    };
    Some(Draft::new(
        &TRUNCATE,
        table,
        format!(
            "TRUNCATE {table} takes ACCESS EXCLUSIVE and deletes every row while the old version is still running"
        ),
        format!(
            "delete from {table} in batches, or drop it in a later deploy once no code uses it"
        ),
    ))
}
