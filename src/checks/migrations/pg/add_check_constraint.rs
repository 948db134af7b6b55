//! The `migrations/pg-add-check-constraint` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    /// ## What it catches
    /// `ADD CONSTRAINT … CHECK (…)` on an existing table without `NOT VALID`.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL checks every existing row while holding ACCESS EXCLUSIVE.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount_cents > 0);
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount_cents > 0) NOT VALID;
    /// -- in a later transaction:
    /// ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;
    /// ```
    pub ADD_CHECK_CONSTRAINT = ("migrations/pg-add-check-constraint", Fail, "ADD CHECK without NOT VALID scans the table under ACCESS EXCLUSIVE");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::AddCheck { table, name } = facts.op else {
        return None;
    };
    let text = super::single_line(&facts.statement.text);
    Some(Draft::new(
        &ADD_CHECK_CONSTRAINT,
        table,
        format!(
            "ADD CONSTRAINT {name} CHECK … checks every row of {table} while holding ACCESS EXCLUSIVE"
        ),
        format!(
            "`{} NOT VALID;` then, in a later transaction, `ALTER TABLE {table} VALIDATE CONSTRAINT {name};`",
            text.trim_end_matches(';')
        ),
    ))
}
