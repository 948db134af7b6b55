//! The `migrations/pg-unbatched-backfill` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 190;
    /// ## What it catches
    /// `UPDATE` or `DELETE` on an existing table without a `WHERE` clause, or with only
    /// `WHERE new_column IS NULL` on a column added earlier in the same transaction (every row
    /// matches).
    ///
    /// ## Why it matters during a deploy
    /// One statement locks every row it touches until it commits: concurrent writes to those rows
    /// wait, the table bloats, and replicas lag behind the huge transaction. Right after an
    /// `ALTER TABLE … ADD COLUMN` in the same transaction it is worse: the ALTER's ACCESS
    /// EXCLUSIVE lock is held until COMMIT (PostgreSQL docs, "Explicit Locking": locks are
    /// released at transaction end), so nobody reads or writes the table while every row is
    /// updated (checked on PostgreSQL 15: `pg_locks` shows AccessExclusiveLock on the table
    /// after the UPDATE, before COMMIT).
    ///
    /// ## Example
    /// ```sql
    /// UPDATE orders SET currency = 'EUR';
    /// ```
    ///
    /// ## Do this instead
    /// Backfill in batches outside the migration's DDL transaction, committing each batch:
    /// ```sql
    /// UPDATE orders SET currency = 'EUR' WHERE id BETWEEN 1 AND 10000 AND currency IS NULL;  -- repeat per range
    /// ```
    pub UNBATCHED_BACKFILL = ("migrations/pg-unbatched-backfill", Fail, "UPDATE/DELETE of a whole existing table in one statement");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::Backfill {
        table,
        verb,
        whole_table: true,
        under_lock,
    } = facts.op
    else {
        return None;
    };
    if let Some(held) = under_lock {
        return Some(Draft::new(
            &UNBATCHED_BACKFILL,
            table,
            format!(
                "{verb} of every row of {table} while the ACCESS EXCLUSIVE lock taken at line {} is still held (same transaction, until COMMIT): no reads or writes of {table} for the whole {verb}",
                held.line
            ),
            format!(
                "commit the ALTER first (a separate migration), then {verb} {table} in batches of a few thousand rows (`WHERE id BETWEEN … AND …`), each committed"
            ),
        ));
    }
    Some(Draft::new(
        &UNBATCHED_BACKFILL,
        table,
        format!(
            "{verb} of every row of {table} in one statement: each row stays locked until COMMIT, concurrent writes to them wait, and replicas lag"
        ),
        format!(
            "{verb} {table} in batches of a few thousand rows (`WHERE id BETWEEN … AND …`), each committed, outside the DDL transaction"
        ),
    ))
}

/// PL/pgSQL loops that batch by hand (`LOOP … EXIT`, `WHILE`, `FOR i IN a..b`); a `FOR r IN
/// SELECT` walks the rows of a query, which is not a batching idiom.
const BATCH_LOOPS: &[&str] = &[
    "PLpgSQL_stmt_loop",
    "PLpgSQL_stmt_while",
    "PLpgSQL_stmt_fori",
];

/// A `DO` block that updates or deletes in slices inside a loop, without a COMMIT between the
/// slices, batches nothing: the block is one statement, so every slice runs in the same
/// transaction and each row changed keeps its row lock until the block (and its transaction)
/// ends (PostgreSQL docs, "DO": the code block is executed as one command; "Transaction
/// Management" in PL/pgSQL: COMMIT inside a DO block is the only way to end a transaction
/// there, and only when the DO itself is not inside a transaction block).
#[derive(Default)]
pub struct DoBlockLoops {
    /// The queries (trimmed, as the parser reports a DO block's statements) run inside a batch
    /// loop of the DO block being followed, when that block never commits.
    looped: Vec<String>,
}

impl DoBlockLoops {
    /// Follow a statement: a top-level `DO` opens a block (its inner statements follow it).
    pub fn follow(&mut self, statement: &StatementFacts) {
        if statement.origin != crate::sql::postgres::Origin::TopLevel {
            return;
        }
        self.looped.clear();
        let starts_with_do = statement.text.trim_start().get(..3).is_some_and(|head| {
            head.eq_ignore_ascii_case("do ") || head.eq_ignore_ascii_case("do$")
        });
        if !starts_with_do {
            return;
        }
        let Ok(parsed) = pg_query::parse_plpgsql(&statement.text) else {
            return;
        };
        // COMMIT inside the loop of a DO block run outside a transaction block really batches;
        // inside one, PostgreSQL refuses the COMMIT ("invalid transaction termination"), which
        // is not this rule's claim.
        if contains_key(&parsed, "PLpgSQL_stmt_commit") {
            return;
        }
        looped_queries(&parsed, false, &mut self.looped);
    }

    /// A finding for an UPDATE/DELETE of an existing table run in slices by the block's loop.
    pub fn check(&self, statement: &StatementFacts) -> Option<Draft> {
        if statement.origin != crate::sql::postgres::Origin::DoBlock
            || !self.looped.contains(&statement.text)
        {
            return None;
        }
        let operations = statement.operations.as_ref().ok()?;
        let (table, verb) = operations.iter().find_map(|op| match op {
            Operation::Backfill {
                table,
                verb,
                whole_table: false,
                ..
            } => Some((table, verb)),
            _ => None,
        })?;
        Some(Draft::new(
            &UNBATCHED_BACKFILL,
            table,
            format!(
                "{verb} of {table} in slices inside a DO-block loop without COMMIT: the DO block is one statement in one transaction, so the slices are not batches: every row changed stays locked until the block ends, concurrent writes to them wait, and replicas receive it as one huge transaction"
            ),
            format!(
                "run the slices as separate transactions: one {verb} per slice from the deploy script or a background job (each committed), or a procedure/DO block with COMMIT after each slice run outside any transaction block (transaction: none, PostgreSQL 11+)"
            ),
        ))
    }
}

fn contains_key(value: &serde_json::Value, wanted: &str) -> bool {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .any(|(key, child)| key == wanted || contains_key(child, wanted)),
        serde_json::Value::Array(items) => items.iter().any(|i| contains_key(i, wanted)),
        _ => false,
    }
}

/// The SQL of every `PLpgSQL_stmt_execsql` inside a batch loop, trimmed.
fn looped_queries(value: &serde_json::Value, in_loop: bool, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                if in_loop
                    && key == "PLpgSQL_stmt_execsql"
                    && let Some(query) = child
                        .pointer("/sqlstmt/PLpgSQL_expr/query")
                        .and_then(|q| q.as_str())
                {
                    out.push(query.trim().to_string());
                }
                looped_queries(child, in_loop || BATCH_LOOPS.contains(&key.as_str()), out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                looped_queries(item, in_loop, out);
            }
        }
        _ => {}
    }
}
