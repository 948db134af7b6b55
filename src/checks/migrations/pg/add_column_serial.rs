//! The `migrations/pg-add-column-serial` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 20;
    /// ## What it catches
    /// `ADD COLUMN` of type `serial`/`bigserial`/`smallserial`, or `GENERATED … AS IDENTITY`, on an
    /// existing table.
    ///
    /// ## Why it matters during a deploy
    /// Every existing row needs its own sequence value, so the table is rewritten under an ACCESS
    /// EXCLUSIVE lock, blocking reads and writes for the whole rewrite.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE events ADD COLUMN seq bigserial;
    /// ```
    ///
    /// ## Do this instead
    /// Add a nullable `bigint`, create the sequence, set the default, backfill in batches, then
    /// add the constraint you need (NOT NULL via a validated CHECK, a unique index CONCURRENTLY).
    pub ADD_COLUMN_SERIAL = ("migrations/pg-add-column-serial", Fail, "ADD COLUMN serial/identity rewrites the table under ACCESS EXCLUSIVE");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::AddColumn(add) = facts.op else {
        return None;
    };
    let Some(AddColumnRewrite::Sequence { what }) = &add.rewrite else {
        return None;
    };
    let (table, column) = (add.table.clone(), add.column.clone());
    Some(Draft::about(
        &ADD_COLUMN_SERIAL,
        &add.table,
        format!("{column} {what}"),
        move |columns| {
            let fix = if columns.count == 1 {
                format!(
                    "add `{column} bigint` nullable, `CREATE SEQUENCE {table}_{column}_seq`, set the default to nextval, and backfill {table} in batches"
                )
            } else {
                format!(
                    "add each column as a nullable bigint, create a sequence for each, set the defaults to nextval, and backfill {table} in batches"
                )
            };
            (
                format!(
                    "ADD COLUMN {} gives every existing row of {table} a sequence value: the table is rewritten under ACCESS EXCLUSIVE",
                    columns.list
                ),
                fix,
            )
        },
    ))
}
