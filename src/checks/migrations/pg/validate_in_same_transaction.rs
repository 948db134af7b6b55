//! The `migrations/pg-validate-in-same-transaction` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 90;
    /// ## What it catches
    /// `VALIDATE CONSTRAINT` in the same transaction as the `ADD CONSTRAINT … NOT VALID` it
    /// validates.
    ///
    /// ## Why it matters during a deploy
    /// `NOT VALID` is only useful because the validation can run later under a weak lock. In
    /// the same transaction, the ACCESS EXCLUSIVE (or SHARE ROW EXCLUSIVE) lock taken by the ADD
    /// is still held while VALIDATE scans the table: the same outage as without NOT VALID.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
    /// ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
    /// COMMIT;
    /// ```
    ///
    /// ## Do this instead
    /// Put the VALIDATE in a separate migration (or after a COMMIT).
    pub VALIDATE_IN_SAME_TRANSACTION = ("migrations/pg-validate-in-same-transaction", Fail, "VALIDATE CONSTRAINT in the same transaction as its ADD … NOT VALID keeps the strong lock during the scan");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::ValidateInSameTransaction { table, name } = facts.op else {
        return None;
    };
    Some(Draft::new(
        &VALIDATE_IN_SAME_TRANSACTION,
        table,
        format!(
            "VALIDATE CONSTRAINT {name} runs in the same transaction as its ADD … NOT VALID: the strong lock taken by the ADD is still held during the full scan of {table}"
        ),
        format!(
            "validate in a later migration (or after a COMMIT): `ALTER TABLE {table} VALIDATE CONSTRAINT {name};`"
        ),
    ))
}
