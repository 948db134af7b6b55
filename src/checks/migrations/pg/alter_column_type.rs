//! The `migrations/pg-alter-column-type` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 40;
    /// ## What it catches
    /// `ALTER COLUMN … TYPE` to a type that is not binary-coercible from the current one
    /// (`int` → `bigint`, `json` → `jsonb`, `timestamp` → `timestamptz`, a shorter `varchar`, a
    /// `USING` expression that changes the data). Widening `varchar(n)`, `varchar` → `text` and a
    /// larger `numeric` precision with the same scale do not rewrite and stay quiet. gonogo reads
    /// the column's current type from the earlier migrations.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL rewrites the table and rebuilds every index on it while holding ACCESS
    /// EXCLUSIVE: minutes of downtime on a large table.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ALTER COLUMN amount_cents TYPE bigint;
    /// ```
    ///
    /// ## Do this instead
    /// Add a new column of the new type, write both from the application (or a trigger),
    /// backfill in batches, switch reads, then drop the old column in a later deploy.
    pub ALTER_COLUMN_TYPE = ("migrations/pg-alter-column-type", Fail, "ALTER COLUMN TYPE rewrites the table and its indexes under ACCESS EXCLUSIVE");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::AlterColumnType {
        table,
        column,
        before,
        after,
        rewrite,
    } = facts.op
    else {
        return None;
    };
    let fix = format!(
        "add {column}_new {after} to {table}, write both from the application (or a trigger), backfill in batches, switch reads, and drop {column} in a later deploy"
    );
    match rewrite {
        TypeChange::Free => None,
        TypeChange::Rewrite(why) => {
            let from = before
                .as_ref()
                .map(|o| format!(" from {o}"))
                .unwrap_or_default();
            let owned_table = table.clone();
            Some(Draft::about(
                &ALTER_COLUMN_TYPE,
                table,
                format!("{column} TYPE {after}{from}"),
                move |columns| {
                    let table = &owned_table;
                    let fix = if columns.count == 1 {
                        fix.clone()
                    } else {
                        format!(
                            "for each column: add a new column of the new type to {table}, write both from the application (or a trigger), backfill in batches, switch reads, and drop the old one in a later deploy"
                        )
                    };
                    let once = if columns.count == 1 {
                        format!(" ({})", columns.details.join(""))
                    } else {
                        " (one rewrite for the whole statement)".to_string()
                    };
                    (
                        format!(
                            "ALTER COLUMN {} rewrites {table} and rebuilds its indexes under ACCESS EXCLUSIVE{once}",
                            columns.list
                        ),
                        fix,
                    )
                },
            )
            .with_detail(Some(why.clone())))
        }
        TypeChange::KeepsHeap {
            index_rebuilt: false,
            only_if: None,
            ..
        } => None,
        TypeChange::KeepsHeap {
            index_rebuilt: false,
            only_if: Some(condition),
            why,
        } => Some(Draft::unsure(
            &ALTER_COLUMN_TYPE,
            table,
            format!(
                "ALTER COLUMN {column} TYPE {after} keeps {table}'s rows only if {condition} ({why}); otherwise it rewrites {table} under ACCESS EXCLUSIVE"
            ),
            format!("run it with `SET LOCAL TimeZone = 'UTC';` in the same transaction, or: {fix}"),
        )),
        TypeChange::KeepsHeap {
            index_rebuilt: true,
            only_if,
            why,
        } => {
            let unless = only_if
                .map(|c| format!("; unless {c}, it also rewrites every row"))
                .unwrap_or_default();
            Some(Draft::new(
                &ALTER_COLUMN_TYPE,
                table,
                format!(
                    "ALTER COLUMN {column} TYPE {after} keeps {table}'s rows ({why}) but rebuilds the index on {column} under ACCESS EXCLUSIVE: reads and writes wait for the whole build{unless}"
                ),
                format!(
                    "`DROP INDEX CONCURRENTLY` the index on {column} first, change the type{}, then `CREATE INDEX CONCURRENTLY` it again; or {fix}",
                    if only_if.is_some() {
                        " with `SET LOCAL TimeZone = 'UTC'`"
                    } else {
                        ""
                    }
                ),
            ))
        }
        TypeChange::Unknown => Some(Draft::unsure(
            &ALTER_COLUMN_TYPE,
            table,
            format!(
                "ALTER COLUMN {column} TYPE {after}: gonogo did not find {table}.{column}'s current type in the earlier migrations; unless it is a shorter varchar (or text to varchar), this rewrites {table} under ACCESS EXCLUSIVE"
            ),
            fix,
        )),
    }
}
