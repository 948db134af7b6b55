//! The `migrations/pg-add-column-volatile-default` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 10;
    /// ## What it catches
    /// `ADD COLUMN … DEFAULT <volatile expression>` (`gen_random_uuid()`, `random()`,
    /// `clock_timestamp()`, `nextval(…)`) on an existing table; on PostgreSQL 10 and older, any
    /// non-NULL default.
    ///
    /// ## Why it matters during a deploy
    /// A volatile default must be computed for every existing row, so PostgreSQL rewrites the
    /// whole table under an ACCESS EXCLUSIVE lock: no reads, no writes until it is done. Since
    /// PostgreSQL 11 a constant or stable default (`0`, `'new'`, `now()`, `CURRENT_TIMESTAMP`) is
    /// stored in the catalog and costs nothing.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
    /// ```
    ///
    /// ## Do this instead
    /// Add the column without a default, set the default for new rows, backfill in batches:
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN public_id uuid;
    /// ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
    /// UPDATE orders SET public_id = gen_random_uuid() WHERE id BETWEEN 1 AND 10000 AND public_id IS NULL;  -- repeat per batch
    /// ```
    pub ADD_COLUMN_VOLATILE_DEFAULT = ("migrations/pg-add-column-volatile-default", Fail, "ADD COLUMN with a volatile default rewrites the table under ACCESS EXCLUSIVE");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::AddColumn(add) = facts.op else {
        return None;
    };
    let Some(AddColumnRewrite::Default {
        volatile,
        postgres_version,
    }) = &add.rewrite
    else {
        return None;
    };
    let why = match volatile {
        Some(function) => {
            format!("{function}() is volatile, so its value is computed for every existing row")
        }
        None => format!(
            "before PostgreSQL 11 any non-NULL default is written into every row (postgres_version is {postgres_version})"
        ),
    };
    let AddColumn {
        table,
        column,
        type_text,
        ..
    } = add.clone();
    Some(Draft::about(
        &ADD_COLUMN_VOLATILE_DEFAULT,
        &add.table,
        add.column.clone(),
        move |columns| {
            let message = format!(
                "ADD COLUMN {} with a default rewrites {table} under ACCESS EXCLUSIVE: {why}",
                columns.list
            );
            let fix = if columns.count == 1 {
                format!(
                    "`ALTER TABLE {table} ADD COLUMN {column} {type_text};` then `ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT …;` and backfill existing rows in batches"
                )
            } else {
                format!(
                    "add {} without the default, then `ALTER TABLE {table} ALTER COLUMN … SET DEFAULT …` for each, and backfill existing rows in batches",
                    columns.list
                )
            };
            (message, fix)
        },
    ))
}
