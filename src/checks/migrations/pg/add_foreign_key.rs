//! The `migrations/pg-add-foreign-key` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 80;
    /// ## What it catches
    /// `ADD … FOREIGN KEY` on an existing table without `NOT VALID`.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL validates every row while holding SHARE ROW EXCLUSIVE on both the table and
    /// the referenced table: writes to both are blocked for the whole scan. When the same ALTER
    /// has other sub-commands, it holds the strongest lock any of them needs (PostgreSQL docs,
    /// "ALTER TABLE": "the lock acquired will be the strictest one required by any
    /// subcommand"): with `ALTER COLUMN … SET NOT NULL` beside it, ACCESS EXCLUSIVE on the table,
    /// reads blocked too, for the NOT NULL scan and the validation (checked on PostgreSQL 15 in
    /// pg_locks). The fix quotes the constraint alone, NOT VALID, never a scanning sibling.
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
            not_valid,
        } => {
            // The ALTER holds the strongest lock of all its sub-commands on the table: with a
            // SET NOT NULL beside the foreign key, ACCESS EXCLUSIVE for the whole validation.
            let lock = facts
                .statement
                .strong_locks
                .iter()
                .filter(|(t, _)| t == table)
                .map(|(_, lock)| *lock)
                .max()
                .unwrap_or(pg_query::LockMode::ShareRowExclusiveLock);
            let on_table = if lock > pg_query::LockMode::ShareRowExclusiveLock {
                format!(
                    "{} on {table} (the strongest lock of this ALTER's sub-commands: {}) and SHARE ROW EXCLUSIVE on {referenced}",
                    lock_name(lock),
                    blocks(lock)
                )
            } else {
                format!(
                    "SHARE ROW EXCLUSIVE on {table} and {referenced}: writes to both wait for the whole scan"
                )
            };
            let add = match (not_valid, super::quotable(&facts.statement.text)) {
                (Some(sql), _) => format!("`{sql};`"),
                (None, Some(sql)) => format!("`{} NOT VALID;`", sql.trim_end_matches(';')),
                (None, None) => format!("add {name} with NOT VALID"),
            };
            let others = if facts.statement.long_work.is_some()
                && lock > pg_query::LockMode::ShareRowExclusiveLock
            {
                " in its own ALTER (the other sub-commands apart, each made safe on its own)"
            } else {
                ""
            };
            let (owned_table, single_add) = (table.clone(), add);
            Some(
                Draft::about(&ADD_FOREIGN_KEY, table, name.clone(), move |names| {
                    let table = &owned_table;
                    if names.count == 1 {
                        let name = &names.list;
                        return (
                            format!("ADD FOREIGN KEY {name} scans {table} while holding {on_table}"),
                            format!(
                                "{single_add}{others} then, in a later transaction, `ALTER TABLE {table} VALIDATE CONSTRAINT {name};`"
                            ),
                        );
                    }
                    let add = super::each_alone(&names.details, names.count, &names.list);
                    (
                        format!(
                            "ADD FOREIGN KEY {} scans {table} once for each while holding {} on {table} and SHARE ROW EXCLUSIVE on each referenced table",
                            names.list,
                            lock_name(lock)
                        ),
                        format!(
                            "{add} then, in a later transaction, `ALTER TABLE {table} VALIDATE CONSTRAINT …;` for each"
                        ),
                    )
                })
                .with_detail(not_valid.clone()),
            )
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
