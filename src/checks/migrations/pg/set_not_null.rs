//! The `migrations/pg-set-not-null` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 60;
    /// ## What it catches
    /// `ALTER COLUMN … SET NOT NULL` on an existing table, on a column that may hold NULLs (the
    /// migrations did not already make it NOT NULL or a PRIMARY KEY column) and that no
    /// validated `CHECK (column IS NOT NULL)` proves (added by an earlier migration or earlier
    /// in the same transaction; a check added NOT VALID and not validated proves nothing), and
    /// `ADD CONSTRAINT … PRIMARY KEY USING INDEX` on columns the migrations left nullable (a
    /// primary key makes its columns NOT NULL: PostgreSQL runs SET NOT NULL for them).
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL scans the whole table to prove there is no NULL, holding ACCESS EXCLUSIVE the
    /// whole time (DEBUG1 "verifying table"). It skips the scan when the column is already NOT
    /// NULL (`ATExecSetNotNull` in src/backend/commands/tablecmds.c only takes its lock then)
    /// and, since PostgreSQL 12, when a valid CHECK constraint proves it
    /// (`NotNullImpliedByRelConstraints`, DEBUG1 "existing constraints on column … are
    /// sufficient to prove that it does not contain nulls"; "ALTER TABLE": "SET NOT NULL …
    /// the table scan is skipped").
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ALTER COLUMN email SET NOT NULL;
    /// ```
    ///
    /// ## Do this instead
    /// In separate transactions:
    /// ```sql
    /// ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
    /// ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;  -- SHARE UPDATE EXCLUSIVE: reads and writes go on
    /// ALTER TABLE users ALTER COLUMN email SET NOT NULL;            -- PostgreSQL 12+: no scan
    /// ALTER TABLE users DROP CONSTRAINT users_email_not_null;
    /// ```
    pub SET_NOT_NULL = ("migrations/pg-set-not-null", Fail, "SET NOT NULL scans the table under ACCESS EXCLUSIVE");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    match facts.op {
        Operation::SetNotNull {
            table,
            column,
            unvalidated_check,
        } => {
            let owned_table = table.clone();
            let draft = Draft::about(&SET_NOT_NULL, table, column.clone(), move |columns| {
                let table = &owned_table;
                let pending = columns.details.first().filter(|name| !name.is_empty());
                let fix = if let (1, Some(check)) = (columns.count, pending) {
                    format!(
                        "{check} was added NOT VALID and proves nothing until validated: `ALTER TABLE {table} VALIDATE CONSTRAINT {check};` in a transaction of its own (SHARE UPDATE EXCLUSIVE: reads and writes go on), then SET NOT NULL (PostgreSQL 12+ skips the scan), then drop the check"
                    )
                } else if columns.count == 1 {
                    let column = &columns.list;
                    format!(
                        "in separate transactions: `ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_not_null CHECK ({column} IS NOT NULL) NOT VALID;` then `ALTER TABLE {table} VALIDATE CONSTRAINT {table}_{column}_not_null;` then SET NOT NULL (PostgreSQL 12+ skips the scan), then drop the check"
                    )
                } else {
                    format!(
                        "in separate transactions, for each of {}: `ADD CONSTRAINT … CHECK (column IS NOT NULL) NOT VALID`, then `VALIDATE CONSTRAINT …`, then SET NOT NULL (PostgreSQL 12+ skips the scan), then drop the checks",
                        columns.list
                    )
                };
                (
                    format!(
                        "SET NOT NULL on {table}.{} scans the whole table under ACCESS EXCLUSIVE: no reads or writes of {table} until the scan ends",
                        columns.list
                    ),
                    fix,
                )
            });
            // One detail per column (empty: no pending check), so they line up with the columns.
            Some(draft.with_detail(Some(unvalidated_check.clone().unwrap_or_default())))
        }
        Operation::AddNotNullConstraint {
            table,
            name,
            column,
        } => Some(Draft::new(
            &SET_NOT_NULL,
            table,
            format!(
                "ADD CONSTRAINT {name} NOT NULL {column} scans the whole of {table} under ACCESS EXCLUSIVE"
            ),
            format!(
                "`ALTER TABLE {table} ADD CONSTRAINT {name} NOT NULL {column} NOT VALID;` then VALIDATE it in a later transaction"
            ),
        )),
        Operation::PrimaryKeySetsNotNull {
            table,
            name,
            index,
            columns,
        } => {
            let list = columns.join(", ");
            let first = &columns[0];
            Some(Draft::new(
                &SET_NOT_NULL,
                table,
                format!(
                    "PRIMARY KEY {name} USING INDEX {index} makes {table}.{list} NOT NULL (nullable until now): PostgreSQL scans the whole table to prove it under ACCESS EXCLUSIVE, no reads or writes of {table} until the scan ends, although the index is already built"
                ),
                format!(
                    "make {list} NOT NULL first, in separate transactions: `ALTER TABLE {table} ADD CONSTRAINT {table}_{first}_not_null CHECK ({first} IS NOT NULL) NOT VALID;` then `VALIDATE CONSTRAINT` it, then `ALTER COLUMN {first} SET NOT NULL` (PostgreSQL 12+ skips the scan); then ADD PRIMARY KEY USING INDEX takes ACCESS EXCLUSIVE only briefly"
                ),
            ))
        }
        _ => None,
    }
}
