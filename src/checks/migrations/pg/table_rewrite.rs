//! The `migrations/pg-table-rewrite` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 50;
    /// ## What it catches
    /// Statements that rewrite a whole table: `VACUUM FULL`, `CLUSTER`, `ALTER TABLE … SET
    /// LOGGED/UNLOGGED`, `ALTER TABLE … SET TABLESPACE`.
    ///
    /// ## Why it matters during a deploy
    /// Each copies every row into a new file under ACCESS EXCLUSIVE: reads and writes wait for
    /// the whole copy.
    ///
    /// ## Example
    /// ```sql
    /// VACUUM FULL orders;
    /// ```
    ///
    /// ## Do this instead
    /// Do not run these in a migration. To reclaim space online use `pg_repack` or
    /// `pg_squeeze`; to move a table, create a new one and copy in batches.
    pub TABLE_REWRITE = ("migrations/pg-table-rewrite", Fail, "VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED, SET TABLESPACE or a constrained domain column rewrites the table");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    if let Operation::AddColumn(AddColumn {
        table,
        column,
        rewrite: Some(AddColumnRewrite::Domain { domain }),
        ..
    }) = facts.op
    {
        // ATExecAddColumn (tablecmds.c): a column of a domain with constraints gets its
        // value (NULL or the default) checked in every row, by a rewrite.
        return Some(Draft::new(
            &TABLE_REWRITE,
            table,
            format!(
                "ADD COLUMN {column} of domain {domain}, which has constraints, rewrites {table} under ACCESS EXCLUSIVE to check every row: reads and writes wait for the whole copy"
            ),
            format!(
                "add {column} with the domain's base type, backfill in batches, add the domain's CHECK as a table constraint NOT VALID and VALIDATE it in a later transaction"
            ),
        ));
    }
    let Operation::Rewrite { table, kind } = facts.op else {
        return None;
    };
    let fix = match kind {
        RewriteKind::VacuumFull => format!(
            "do not run VACUUM FULL in a migration; reclaim space in {table} online with pg_repack or pg_squeeze"
        ),
        RewriteKind::Cluster => {
            format!("reorder {table} online with pg_repack, not in a migration")
        }
        RewriteKind::AlterTable(_) => format!(
            "create the new {table} alongside and copy in batches, or schedule this for a maintenance window"
        ),
    };
    Some(Draft::new(
        &TABLE_REWRITE,
        table,
        format!(
            "{} rewrites {table} under ACCESS EXCLUSIVE: reads and writes wait for the whole copy",
            kind.what()
        ),
        fix,
    ))
}
