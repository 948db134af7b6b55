//! The `migrations/pg-add-foreign-key` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    /// ## What it catches
    /// `ADD … FOREIGN KEY` on an existing table without `NOT VALID`.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL validates every row while holding SHARE ROW EXCLUSIVE on both the table and
    /// the referenced table: writes to both are blocked for the whole scan.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
    /// -- in a later transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on):
    /// ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
    /// ```
    pub ADD_FOREIGN_KEY = ("migrations/pg-add-foreign-key", Fail, "ADD FOREIGN KEY without NOT VALID blocks writes on both tables during a full scan");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    match facts.op {
        Operation::AddForeignKey {
            table,
            name,
            referenced,
        } => {
            let text = super::single_line(&facts.statement.text);
            Some(Draft::new(
                &ADD_FOREIGN_KEY,
                table,
                format!(
                    "ADD FOREIGN KEY {name} scans {table} while holding SHARE ROW EXCLUSIVE on {table} and {referenced}: writes to both wait for the whole scan"
                ),
                format!(
                    "`{} NOT VALID;` then, in a later transaction, `ALTER TABLE {table} VALIDATE CONSTRAINT {name};`",
                    text.trim_end_matches(';')
                ),
            ))
        }
        Operation::AddColumn(AddColumn {
            table,
            column,
            rewrite: None,
            inline: Some(InlineConstraint::ForeignKey { referenced }),
            ..
        }) => Some(Draft::new(
            &ADD_FOREIGN_KEY,
            table,
            format!(
                "ADD COLUMN {column} … REFERENCES {referenced} validates the new foreign key with a scan of {table} while holding SHARE ROW EXCLUSIVE on {referenced}: writes to {referenced} wait"
            ),
            format!(
                "add {column} without REFERENCES, then `ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fkey FOREIGN KEY ({column}) REFERENCES {referenced} NOT VALID;` and VALIDATE it in a later transaction"
            ),
        )),
        _ => None,
    }
}
