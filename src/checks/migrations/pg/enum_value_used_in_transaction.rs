//! The `migrations/pg-enum-value-used-in-transaction` rule (PostgreSQL): the facts follow the
//! enum values added in each transaction and the statements that use them before it commits.

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::Operation;

declare_rule! {
    order: 160;
    /// ## What it catches
    /// A value added with `ALTER TYPE … ADD VALUE` used (as a string literal) by a later
    /// statement of the same transaction; before PostgreSQL 12, `ADD VALUE` inside a transaction
    /// block at all.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL refuses to use a new enum value before the transaction that added it commits
    /// ("unsafe use of new value", SQLSTATE 55P04; "ALTER TYPE … ADD", PostgreSQL 12+), and before
    /// PostgreSQL 12 refuses `ADD VALUE` in a transaction block. The migration cannot succeed: the
    /// deploy stops there, on every environment.
    ///
    /// ## Example
    /// ```sql
    /// -- the runner wraps the file in one transaction
    /// ALTER TYPE payment_status ADD VALUE 'disputed';
    /// UPDATE payments SET state = 'disputed' WHERE id = 1;
    /// ```
    ///
    /// ## Do this instead
    /// Add the value in its own migration (its own transaction, committed), and use it in a later
    /// one.
    pub ENUM_VALUE_USED_IN_TRANSACTION = ("migrations/pg-enum-value-used-in-transaction", Fail, "an enum value added by ALTER TYPE … ADD VALUE is used before its transaction commits: the migration cannot succeed");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    match facts.op {
        Operation::EnumValueAdded { type_name, .. } if facts.postgres_version < 12 => {
            let block = facts.statement.transaction.block?;
            Some(Draft::new(
                &ENUM_VALUE_USED_IN_TRANSACTION,
                type_name,
                format!(
                    "ALTER TYPE {type_name} ADD VALUE runs in a transaction block ({block}), which PostgreSQL {} refuses (allowed from PostgreSQL 12): the migration cannot succeed",
                    facts.postgres_version
                ),
                "run ALTER TYPE … ADD VALUE on its own, outside a transaction block (a migration of its own with the runner's transaction turned off)".to_string(),
            ))
        }
        Operation::NewEnumValueUsed {
            type_name,
            value,
            added_line,
        } => Some(Draft::new(
            &ENUM_VALUE_USED_IN_TRANSACTION,
            type_name,
            format!(
                "'{value}' was added to {type_name} at line {added_line} in this same transaction: PostgreSQL refuses to use it before that transaction commits (unsafe use of new value), so the migration cannot succeed"
            ),
            format!(
                "commit between the two: `ALTER TYPE {type_name} ADD VALUE '{value}'` in a migration of its own, and this statement in a later one"
            ),
        )),
        _ => None,
    }
}
