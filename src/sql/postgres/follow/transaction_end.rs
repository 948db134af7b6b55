//! `COMMIT` and `ROLLBACK` inside PL/pgSQL: a `DO` block or a `CALL`ed procedure may end the
//! transaction (PostgreSQL 11+) only when it runs outside a transaction block. Inside one, the
//! block runs "atomic" (ExecuteDoStmt / ExecuteCallStmt get `atomic = IsTransactionBlock()`,
//! src/backend/tcop/utility.c) and PL/pgSQL's COMMIT raises "invalid transaction termination"
//! (SQLSTATE 2D000, `_SPI_commit` in src/backend/executor/spi.c): the migration fails.

use super::FileWalk;
use crate::sql::postgres::ast::*;
use crate::sql::postgres::operations::Operation;
use crate::sql::postgres::{Origin, Statement};
use pg_query::NodeEnum;
use std::collections::HashMap;

/// A COMMIT or ROLLBACK in a PL/pgSQL body: which, its line in the file, and whether it runs
/// only on some paths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TransactionEnd {
    pub what: &'static str,
    pub line: u32,
    pub conditional: bool,
}

/// PL/pgSQL statements whose body may not run: IF, CASE, WHILE, loops over a query or an
/// array, and exception handlers (a COMMIT there raises "cannot commit while a subtransaction
/// is active" anyway). A plain LOOP and an integer FOR run their body.
const CONDITIONAL: &[&str] = &[
    "PLpgSQL_stmt_if",
    "PLpgSQL_stmt_case",
    "PLpgSQL_stmt_while",
    "PLpgSQL_stmt_fors",
    "PLpgSQL_stmt_forc",
    "PLpgSQL_stmt_dynfors",
    "PLpgSQL_stmt_foreach_a",
    "exceptions",
];

/// The first COMMIT or ROLLBACK (in the order PostgreSQL's PL/pgSQL parser lists them) of the
/// PL/pgSQL body of the statement `text` at `line` (a DO block or CREATE FUNCTION/PROCEDURE …
/// LANGUAGE plpgsql).
pub(super) fn transaction_end(text: &str, line: u32) -> Option<TransactionEnd> {
    let parsed = pg_query::parse_plpgsql(text).ok()?;
    let (what, lineno, conditional) = first_end(&parsed, false)?;
    // PL/pgSQL line numbers count from the line holding the opening dollar quote.
    let body_line = text
        .find('$')
        .map(|i| text[..i].matches('\n').count() as u32)
        .unwrap_or(0);
    Some(TransactionEnd {
        what,
        line: line + body_line + lineno.saturating_sub(1),
        conditional,
    })
}

/// `(COMMIT|ROLLBACK, line in the body, conditional)` of the first transaction end in
/// parse_plpgsql's JSON.
fn first_end(value: &serde_json::Value, conditional: bool) -> Option<(&'static str, u32, bool)> {
    match value {
        serde_json::Value::Object(map) => map.iter().find_map(|(key, child)| {
            let what = match key.as_str() {
                "PLpgSQL_stmt_commit" => Some("COMMIT"),
                "PLpgSQL_stmt_rollback" => Some("ROLLBACK"),
                _ => None,
            };
            match what {
                Some(what) => {
                    let line = child.get("lineno").and_then(|l| l.as_u64()).unwrap_or(1);
                    Some((what, line as u32, conditional))
                }
                None => first_end(child, conditional || CONDITIONAL.contains(&key.as_str())),
            }
        }),
        serde_json::Value::Array(items) => {
            items.iter().find_map(|item| first_end(item, conditional))
        }
        _ => None,
    }
}

/// The PL/pgSQL procedures (and functions) of a file that end a transaction, by name.
pub(super) fn ending_procedures(statements: &[Statement]) -> HashMap<String, TransactionEnd> {
    statements
        .iter()
        .filter(|statement| statement.origin == Origin::TopLevel)
        .filter_map(|statement| match statement.node.as_deref() {
            Ok(NodeEnum::CreateFunctionStmt(function)) if is_plpgsql(function) => {
                let end = transaction_end(&statement.text, statement.line)?;
                Some((last_name(&function.funcname), end))
            }
            _ => None,
        })
        .collect()
}

impl FileWalk<'_> {
    /// A `DO` block that commits or rolls back, or a `CALL` of a procedure of this file that does.
    pub(super) fn transaction_ends(&self, node: &NodeEnum) -> Vec<Operation> {
        match node {
            NodeEnum::DoStmt(_) => transaction_end(&self.statement_text, self.line)
                .map(|end| Operation::TransactionEndInBlock {
                    what: end.what,
                    inside: format!("the DO block at line {}", self.line),
                    line: end.line,
                    conditional: end.conditional,
                })
                .into_iter()
                .collect(),
            NodeEnum::CallStmt(_) => {
                let mut out = Vec::new();
                visit_func_calls(node, &mut |name| {
                    if let Some(end) = self.ending_procedures.get(name) {
                        out.push(Operation::TransactionEndInBlock {
                            what: end.what,
                            inside: format!("procedure {name}()"),
                            line: end.line,
                            conditional: end.conditional,
                        });
                    }
                });
                out
            }
            _ => Vec::new(),
        }
    }
}
