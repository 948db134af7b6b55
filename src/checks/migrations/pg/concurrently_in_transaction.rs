//! The `migrations/pg-concurrently-in-transaction` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 150;
    /// ## What it catches
    /// `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY` or `REINDEX … CONCURRENTLY`
    /// inside a transaction block: an explicit
    /// `BEGIN`, a runner that wraps each file in a transaction (`transaction: per-file`, the
    /// default of Rails, Django, Flyway, sqlx), or several statements sent as one query
    /// (`transaction: none`), which PostgreSQL runs as one implicit transaction.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL refuses: "cannot run inside a transaction block". The deploy fails halfway.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
    /// COMMIT;
    /// ```
    ///
    /// ## Do this instead
    /// Put the statement alone in a migration that runs outside a transaction: Rails
    /// `disable_ddl_transaction!`, Django `atomic = False`, dbmate
    /// `-- migrate:up transaction:false`, golang-migrate one statement per file; and set
    /// `transaction:` in gonogo.yaml to what your runner does.
    pub CONCURRENTLY_IN_TRANSACTION = ("migrations/pg-concurrently-in-transaction", Fail, "a CONCURRENTLY operation inside a transaction block fails at deploy time");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::Concurrently { target, what } = facts.op else {
        return None;
    };
    let why = facts.statement.transaction.block?;
    Some(Draft::new(
        &CONCURRENTLY_IN_TRANSACTION,
        target,
        format!(
            "{what} cannot run inside a transaction block, and here {why}: PostgreSQL rejects it and the deploy fails"
        ),
        format!(
            "move `{}` into a migration of its own that runs outside a transaction, and set checks.migrations.transaction to match your runner",
            super::first_line(&facts.statement.text)
        ),
    ))
}
