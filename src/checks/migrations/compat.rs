//! Destructive or compatibility-breaking statements on existing tables, in any dialect. During a
//! rolling deploy the old version keeps running against the migrated schema: what it reads must
//! still exist, and what it writes must still be accepted.

use super::pg::{Draft, Facts};
use crate::checks::Rule;
use crate::declare_rule;
use crate::report::{Finding, Severity};
use crate::sql::postgres::operations::{AddColumn, Operation};

/// What the old code still uses: with `checks.compat.database` set, the `compat` check judges
/// these against the deployed code itself (uses found, markers, an expand that shipped), so here
/// they point there instead of failing a contract step that was prepared. ADD COLUMN … NOT NULL
/// is not among them: it also fails on a table with rows, whatever the code does.
const JUDGED_BY_COMPAT: [&Rule; 4] = [&DROP_TABLE, &DROP_COLUMN, &RENAME_COLUMN, &RENAME_TABLE];

/// Turn a finding of a rule `compat` judges into an `info` that says so. Returns whether it did.
pub fn defer_to_compat(finding: &mut Finding) -> bool {
    if finding.severity == Severity::Info || !JUDGED_BY_COMPAT.iter().any(|r| r.id == finding.rule)
    {
        return false;
    }
    finding.severity = Severity::Info;
    finding.message.push_str(
        "; judged against the deployed code by the compat check (checks.compat.database)",
    );
    true
}

declare_rule! {
    order: 240;
    /// ## What it catches
    /// `DROP TABLE` of a table that existed before this deploy.
    ///
    /// ## Why it matters during a deploy
    /// The old version keeps serving until the rollout ends; every query it sends to the dropped
    /// table fails. The drop also takes an ACCESS EXCLUSIVE lock, and the data is gone: a rollback
    /// of the code cannot bring it back.
    ///
    /// ## Example
    /// ```sql
    /// DROP TABLE legacy_invoices;
    /// ```
    ///
    /// ## Do this instead
    /// Contract in a later deploy: first ship code that no longer uses the table, then drop it
    /// (after a backup or a rename to a `_deprecated` name for one release).
    ///
    /// With `checks.compat.database` set this finding is `info` here: the `compat` check judges
    /// the change against the deployed code itself (`compat/db-column-still-used`,
    /// `compat/db-table-still-used`).
    pub DROP_TABLE = ("migrations/drop-table", Fail, "DROP TABLE on an existing table: old pods still query it and the data is gone");
}

declare_rule! {
    order: 250;
    /// ## What it catches
    /// `DROP COLUMN` on a table that existed before this deploy.
    ///
    /// ## Why it matters during a deploy
    /// Pods of the old version still select and insert that column until the rollout ends; their
    /// queries fail as soon as the migration commits (ORMs that list every column in `SELECT`
    /// and `INSERT` break even when the code never uses it).
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders DROP COLUMN legacy_status;
    /// ```
    ///
    /// ## Do this instead
    /// Expand, migrate, contract: deploy code that stops reading and writing the column (Rails
    /// `ignored_columns`, Django field removed), and drop it in a later deploy.
    ///
    /// With `checks.compat.database` set this finding is `info` here: the `compat` check judges
    /// the change against the deployed code itself (`compat/db-column-still-used`,
    /// `compat/db-table-still-used`).
    pub DROP_COLUMN = ("migrations/drop-column", Fail, "DROP COLUMN while the old version still reads and writes it");
}

declare_rule! {
    order: 260;
    /// ## What it catches
    /// `RENAME COLUMN` on an existing table.
    ///
    /// ## Why it matters during a deploy
    /// A rename is instant, and that is the problem: from the commit on, every old pod's query
    /// naming the old column fails, and the new code cannot run before the migration either.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users RENAME COLUMN name TO full_name;
    /// ```
    ///
    /// ## Do this instead
    /// Add the new column, write both, backfill in batches, switch reads, then drop the old one
    /// in a later deploy (or keep a view or generated column under the old name for a release).
    ///
    /// With `checks.compat.database` set this finding is `info` here: the `compat` check judges
    /// the change against the deployed code itself (`compat/db-column-still-used`,
    /// `compat/db-table-still-used`).
    pub RENAME_COLUMN = ("migrations/rename-column", Fail, "RENAME COLUMN breaks every query of the old version at once");
}

declare_rule! {
    order: 270;
    /// ## What it catches
    /// Renaming an existing table.
    ///
    /// ## Why it matters during a deploy
    /// The old version's queries name the old table and fail from the commit on.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE customers RENAME TO accounts;
    /// ```
    ///
    /// ## Do this instead
    /// Rename, then create a view with the old name for one release
    /// (`CREATE VIEW customers AS SELECT * FROM accounts;` is updatable in PostgreSQL), and drop
    /// the view once no running version uses it.
    ///
    /// With `checks.compat.database` set this finding is `info` here: the `compat` check judges
    /// the change against the deployed code itself (`compat/db-column-still-used`,
    /// `compat/db-table-still-used`).
    pub RENAME_TABLE = ("migrations/rename-table", Fail, "renaming a table breaks every query of the old version at once");
}

declare_rule! {
    order: 280;
    /// ## What it catches
    /// `ADD COLUMN … NOT NULL` without a `DEFAULT` on an existing table.
    ///
    /// ## Why it matters during a deploy
    /// On a table with rows it fails outright. On an empty table it succeeds, and then every
    /// INSERT of the old version, which does not know the column, is rejected.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN fulfillment_center_id bigint NOT NULL;
    /// ```
    ///
    /// ## Do this instead
    /// Add it nullable (or with a constant default), backfill in batches, then enforce NOT NULL
    /// once every running version writes it.
    pub ADD_COLUMN_NOT_NULL = ("migrations/add-column-not-null-without-default", Fail, "ADD COLUMN NOT NULL without a default: fails on existing rows and rejects old INSERTs");
}

/// PostgreSQL: a drop or rename of an existing table or column.
pub fn postgres_drop_or_rename(facts: &Facts) -> Option<Draft> {
    Some(match facts.op {
        Operation::DropTable { table } => Draft::new(
            &DROP_TABLE,
            table,
            format!(
                "DROP TABLE {table}: the old version still queries it until the rollout ends, and the data cannot come back with a rollback"
            ),
            format!(
                "ship code that no longer uses {table} first; drop it in a later deploy (or rename it to {table}_deprecated for one release)"
            ),
        ),
        Operation::DropColumn { table, column } => {
            let owned_table = table.clone();
            Draft::about(&DROP_COLUMN, table, column.clone(), move |columns| {
                let (table, list) = (&owned_table, &columns.list);
                let it = columns.plural("it", "them");
                (
                    format!(
                        "DROP COLUMN {table}.{list} while the old version, still running until the rollout ends, reads and writes {it}"
                    ),
                    format!(
                        "ship code that ignores {table}.{list} first (Rails ignored_columns, Django field removed), and drop {it} in a later deploy"
                    ),
                )
            })
        }
        Operation::RenameColumn { table, from, to } => Draft::new(
            &RENAME_COLUMN,
            table,
            format!(
                "renaming {table}.{from} to {to} breaks every query of the old version, which keeps running until the rollout ends"
            ),
            format!(
                "add {to} to {table}, write both, backfill in batches, switch reads to {to}, and drop {from} in a later deploy"
            ),
        ),
        Operation::RenameTable { table, to } => Draft::new(
            &RENAME_TABLE,
            table,
            format!(
                "renaming {table} to {to} breaks every query of the old version, which keeps running until the rollout ends"
            ),
            format!(
                "after the rename, `CREATE VIEW {table} AS SELECT * FROM {to};` for one release, and drop the view once no running version uses {table}"
            ),
        ),
        _ => return None,
    })
}

/// PostgreSQL: `ADD COLUMN … NOT NULL` without a default on an existing table (a column the
/// table is rewritten for is judged by the rewrite rules instead).
pub fn postgres_add_column_not_null(facts: &Facts) -> Option<Draft> {
    let Operation::AddColumn(AddColumn {
        table,
        column,
        rewrite: None,
        not_null_without_default: true,
        ..
    }) = facts.op
    else {
        return None;
    };
    Some(Draft::new(
        &ADD_COLUMN_NOT_NULL,
        table,
        format!(
            "ADD COLUMN {column} NOT NULL without a default fails if {table} has rows, and rejects every INSERT of the old version, which does not know {column}"
        ),
        format!(
            "add {column} nullable (or with a constant DEFAULT), backfill {table} in batches, then enforce NOT NULL once every running version writes it"
        ),
    ))
}
