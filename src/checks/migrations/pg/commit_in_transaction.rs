//! The `migrations/pg-commit-in-transaction` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 155;
    /// ## What it catches
    /// `COMMIT` or `ROLLBACK` inside a `DO` block, or inside a PL/pgSQL procedure the migration
    /// defines and `CALL`s (also under IF or in a loop over a query, where it fails when
    /// reached), when the statement runs inside a transaction block: an explicit
    /// `BEGIN`, a runner that wraps each file in a transaction (`transaction: per-file`, the
    /// default of Rails, Django, Flyway, sqlx), or several statements sent as one query
    /// (`transaction: none`), which PostgreSQL runs as one implicit transaction.
    ///
    /// ## Why it matters during a deploy
    /// A DO block or a procedure may end the transaction only when it runs outside a transaction
    /// block (PostgreSQL 11+, "Transaction Management" in the PL/pgSQL chapter). Inside one,
    /// PostgreSQL runs it atomic and the COMMIT raises "invalid transaction termination"
    /// (SQLSTATE 2D000): the migration fails at deploy time, usually a batched backfill that
    /// was meant to commit every batch.
    ///
    /// ## Example
    /// ```sql
    /// -- run by a runner that wraps the file in a transaction
    /// DO $$
    /// BEGIN
    ///   FOR i IN 0..99 LOOP
    ///     UPDATE orders SET status = 'open' WHERE id % 100 = i AND status IS NULL;
    ///     COMMIT;
    ///   END LOOP;
    /// END $$;
    /// ```
    ///
    /// ## Do this instead
    /// Run the block in a migration of its own that runs outside a transaction (Rails
    /// `disable_ddl_transaction!`, Django `atomic = False`, dbmate
    /// `-- migrate:up transaction:false`, golang-migrate one statement per file), and set
    /// `transaction:` in gonogo.yaml to what your runner does; or drop the COMMIT and let the
    /// runner commit.
    pub COMMIT_IN_TRANSACTION = ("migrations/pg-commit-in-transaction", Fail, "COMMIT or ROLLBACK in a DO block or procedure run inside a transaction block fails at deploy time");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::TransactionEndInBlock {
        what,
        inside,
        line,
        conditional,
    } = facts.op
    else {
        return None;
    };
    let why = facts.statement.transaction.block?;
    // Under IF or a loop over a query it fails only when reached, which the data decides.
    let when = if *conditional { " when it runs" } else { "" };
    Some(Draft::new(
        &COMMIT_IN_TRANSACTION,
        inside,
        format!(
            "{what} at line {line} in {inside} ends the transaction, which PostgreSQL allows only outside a transaction block, and here {why}: PostgreSQL raises \"invalid transaction termination\"{when} and the deploy fails"
        ),
        format!(
            "move `{}` into a migration of its own that runs outside a transaction and set checks.migrations.transaction to match your runner, or remove the {what} and let the runner commit",
            super::first_line(&facts.statement.text)
        ),
    ))
}
