//! The `migrations/pg-add-check-constraint` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 70;
    /// ## What it catches
    /// `ADD CONSTRAINT … CHECK (…)` on an existing table without `NOT VALID`, and `ADD COLUMN …
    /// CHECK (…)` (an inline check on the new column).
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL checks every existing row while holding ACCESS EXCLUSIVE (PostgreSQL docs,
    /// "ALTER TABLE": ADD CONSTRAINT takes ACCESS EXCLUSIVE unless stated otherwise, and a
    /// constraint added without NOT VALID is checked against every row). An inline CHECK on a new
    /// column is no exception: the new column's value (NULL or its default) is checked in every
    /// row, without a rewrite (checked on PostgreSQL 15: DEBUG1 logs `verifying table`, the
    /// relfilenode does not change, pg_locks shows AccessExclusiveLock).
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
    match facts.op {
        Operation::AddCheck {
            table,
            name,
            not_valid,
        } => {
            let owned_table = table.clone();
            let statement = super::quotable(&facts.statement.text);
            Some(
                Draft::about(
                &ADD_CHECK_CONSTRAINT,
                table,
                name.clone(),
                move |names| {
                    let table = &owned_table;
                    // Each constraint alone, NOT VALID: never a sibling sub-command of a
                    // combined ALTER.
                    let add = match (&statement, names.count) {
                        (Some(sql), 1) if names.details.is_empty() => {
                            format!("`{} NOT VALID;`", sql.trim_end_matches(';'))
                        }
                        _ => super::each_alone(&names.details, names.count, &names.list),
                    };
                    let validate = if names.count == 1 {
                        format!("`ALTER TABLE {table} VALIDATE CONSTRAINT {};`", names.list)
                    } else {
                        format!("`ALTER TABLE {table} VALIDATE CONSTRAINT …;` for each")
                    };
                    (
                        format!(
                            "ADD CONSTRAINT {} CHECK … checks every row of {table} while holding ACCESS EXCLUSIVE",
                            names.list
                        ),
                        format!("{add} then, in a later transaction, {validate}"),
                    )
                },
            )
            .with_detail(not_valid.clone()),
            )
        }
        Operation::AddColumn(AddColumn {
            table,
            column,
            rewrite: None,
            inline: Some(InlineConstraint::Check { name }),
            ..
        }) => Some(Draft::new(
            &ADD_CHECK_CONSTRAINT,
            table,
            format!(
                "ADD COLUMN {column} … CHECK verifies the new column's value in every existing row of {table} while holding ACCESS EXCLUSIVE (a full scan, \"verifying table\")"
            ),
            format!(
                "add {column} without the CHECK, then `ALTER TABLE {table} ADD CONSTRAINT {name} CHECK (…) NOT VALID;` and, in a later transaction, `ALTER TABLE {table} VALIDATE CONSTRAINT {name};`"
            ),
        )),
        _ => None,
    }
}
