//! The `migrations/pg-syntax-error` rule (PostgreSQL): written by the check's writer for every
//! statement PostgreSQL's grammar rejects (see [`crate::sql::postgres::Unread`]).

use crate::declare_rule;

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
