//! The `migrations/pg-add-unique-constraint` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 110;
    /// ## What it catches
    /// `ADD CONSTRAINT … UNIQUE (…)`, `ADD PRIMARY KEY (…)` or `ADD … EXCLUDE` on an existing
    /// table, which build their index inside ALTER TABLE.
    ///
    /// ## Why it matters during a deploy
    /// The index is built while ALTER TABLE holds ACCESS EXCLUSIVE: no reads, no writes until the
    /// build ends.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
    /// ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
    /// ```
    /// (An exclusion constraint has no USING INDEX form: schedule it for a maintenance window.)
    pub ADD_UNIQUE_CONSTRAINT = ("migrations/pg-add-unique-constraint", Fail, "ADD UNIQUE / PRIMARY KEY / EXCLUDE builds an index under ACCESS EXCLUSIVE");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    match facts.op {
        Operation::AddUniqueConstraint {
            table,
            name,
            kind,
            columns,
        } => {
            let fix = if *kind == "EXCLUDE" {
                "an exclusion constraint cannot use an existing index: schedule it for a maintenance window or build it on a new table".to_string()
            } else {
                format!(
                    "`CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} ({columns});` in its own migration, then `ALTER TABLE {table} ADD CONSTRAINT {name} {kind} USING INDEX {name};`"
                )
            };
            Some(Draft::new(
                &ADD_UNIQUE_CONSTRAINT,
                table,
                format!(
                    "ADD {kind} builds an index on {table} while ALTER TABLE holds ACCESS EXCLUSIVE: no reads or writes until the build ends"
                ),
                fix,
            ))
        }
        Operation::AddColumn(AddColumn {
            table,
            column,
            rewrite: None,
            inline: Some(InlineConstraint::Unique),
            ..
        }) => Some(Draft::new(
            &ADD_UNIQUE_CONSTRAINT,
            table,
            format!(
                "ADD COLUMN {column} … UNIQUE/PRIMARY KEY builds an index on {table} under ACCESS EXCLUSIVE"
            ),
            format!(
                "add {column} plain, `CREATE UNIQUE INDEX CONCURRENTLY` on it, then `ADD CONSTRAINT … UNIQUE USING INDEX …`"
            ),
        )),
        _ => None,
    }
}
