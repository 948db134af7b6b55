//! The `migrations/pg-add-column-generated-stored` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 30;
    /// ## What it catches
    /// `ADD COLUMN … GENERATED ALWAYS AS (…) STORED` on an existing table.
    ///
    /// ## Why it matters during a deploy
    /// The value is computed and stored for every row: a full rewrite under ACCESS EXCLUSIVE.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (amount_cents + tax_cents) STORED;
    /// ```
    ///
    /// ## Do this instead
    /// Add a plain nullable column filled by a trigger for new rows, backfill in batches; or
    /// compute it in a view or in the query.
    pub ADD_COLUMN_GENERATED_STORED = ("migrations/pg-add-column-generated-stored", Fail, "ADD COLUMN GENERATED … STORED rewrites the table");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::AddColumn(add) = facts.op else {
        return None;
    };
    if add.rewrite != Some(AddColumnRewrite::GeneratedStored) {
        return None;
    }
    let table = add.table.clone();
    Some(Draft::about(
        &ADD_COLUMN_GENERATED_STORED,
        &add.table,
        add.column.clone(),
        move |columns| {
            (
                format!(
                    "ADD COLUMN {} GENERATED … STORED computes and stores a value for every row of {table}: one rewrite under ACCESS EXCLUSIVE",
                    columns.list
                ),
                format!(
                    "add {} as {} filled by a trigger, and backfill {table} in batches (or compute {} in a view)",
                    columns.list,
                    columns.plural("a plain nullable column", "plain nullable columns"),
                    columns.plural("it", "them"),
                ),
            )
        },
    ))
}
