//! `migrations/mysql-cascading-foreign-key-lock`: an INPLACE change on a table whose foreign
//! keys cascade (ON DELETE/UPDATE CASCADE or SET NULL), where MySQL refuses LOCK=NONE.

use super::write::{Findings, join_sql, with_options};
use crate::declare_rule;
use crate::sql::mysql::Pos;
use crate::sql::mysql::cost::{Cost, Judged, Level, Op};
use sqlparser::ast::AlterTableLock;

declare_rule! {
    order: 315;
    /// ## What it catches
    /// An `ALTER TABLE`, `CREATE INDEX` or `DROP INDEX` that MySQL runs INPLACE on a table with a
    /// foreign key whose action is `ON DELETE CASCADE`, `ON UPDATE CASCADE`, `ON DELETE SET NULL`
    /// or `ON UPDATE SET NULL` (the child table; gonogo reads the foreign keys from the earlier
    /// migrations' `CREATE TABLE` and `ALTER TABLE … ADD FOREIGN KEY`, and forgets them at
    /// `DROP FOREIGN KEY`). The MySQL 8.0 and 8.4 manuals, "Online DDL Limitations" (section
    /// 17.12.8): "The ALTER TABLE clause LOCK=NONE is not permitted if there are ON...CASCADE or
    /// ON...SET NULL constraints on the table." So:
    ///
    /// - `LOCK=NONE` written on such a table: MySQL rejects the statement and the migration
    ///   fails there (fail), whatever the operation.
    /// - No `LOCK` written: an index build or a table rebuild runs with a shared lock, and
    ///   writes to the table wait until it is done (fail). Operations that only change metadata
    ///   (dropping or renaming an index, dropping a foreign key) hold it for a moment: nothing
    ///   is said.
    ///
    /// The parent table (the one the foreign key references) is not limited: LOCK=NONE works
    /// there. INSTANT changes (`ADD COLUMN`, `RENAME COLUMN`, …) take no table lock and are not
    /// concerned. The foreign keys are those before the statement. MariaDB differs: it accepts
    /// `ALGORITHM=INPLACE, LOCK=NONE` on such tables; this rule is about MySQL.
    ///
    /// ## Why it matters during a deploy
    /// A migration that asks for `LOCK=NONE` fails halfway through the deploy. Without it, an
    /// index build on a large child table (orders' lines, a user's sessions) blocks every
    /// INSERT, UPDATE and DELETE on it for minutes, where the same change on a table without
    /// cascading foreign keys would have let them continue.
    ///
    /// ## Example
    /// ```sql
    /// -- sessions: FOREIGN KEY (identity_id) REFERENCES identities (id) ON DELETE CASCADE
    /// ALTER TABLE sessions ADD INDEX sessions_expires_at_idx (expires_at), ALGORITHM=INPLACE, LOCK=NONE;
    /// ```
    ///
    /// ## Do this instead
    /// For a table small enough that writes can wait for the build, say what MySQL will do:
    /// ```sql
    /// ALTER TABLE sessions ADD INDEX sessions_expires_at_idx (expires_at), ALGORITHM=INPLACE, LOCK=SHARED;
    /// ```
    /// For a large one, use pt-online-schema-change, which recreates the table's foreign keys
    /// on its copy (gh-ost does not support foreign keys, on either side), or run the change in
    /// a maintenance window.
    pub MYSQL_CASCADING_FOREIGN_KEY_LOCK = ("migrations/mysql-cascading-foreign-key-lock", Fail, "INPLACE ALTER on a table with ON … CASCADE / SET NULL foreign keys: MySQL refuses LOCK=NONE");
}

pub fn check(out: &mut Findings, pos: Pos, j: &Judged) {
    let Some(fk) = j.lock_none_refused() else {
        return;
    };
    // FULLTEXT/SPATIAL builds take a shared lock anyway: mysql-fulltext-index reports them.
    if j.ops.iter().any(|o| o.fulltext) {
        return;
    }
    let (t, whats) = (&j.table.name, j.whats());
    let action = fk.cascade.unwrap_or("ON … CASCADE");
    let because = format!(
        "{t} has the foreign key {} {action} (to {}), and MySQL does not permit LOCK=NONE on a table with ON … CASCADE or ON … SET NULL foreign keys",
        fk.display, fk.parent
    );
    let tools = j.relations.tools(t);
    if j.lock == Some(AlterTableLock::None) {
        let waits = if j.metadata_only() {
            String::new()
        } else {
            format!(" (writes to {t} wait until it finishes)")
        };
        out.fail(
            pos,
            &MYSQL_CASCADING_FOREIGN_KEY_LOCK,
            format!("LOCK=NONE on {t} ({whats}): {because}: MySQL rejects the statement and the migration fails"),
            format!(
                "`{}`{waits}, or use {tools} for {t}",
                with_options(j, j.online_options())
            ),
        );
        return;
    }
    if j.metadata_only() {
        return;
    }
    if j.lock == Some(AlterTableLock::Shared) {
        // Written on purpose: only another way, or a waiver for a small table, remains.
        out.report(
            pos,
            &MYSQL_CASCADING_FOREIGN_KEY_LOCK,
            format!("LOCK=SHARED on {t} ({whats}): {because}, so writes to {t} are blocked until it finishes"),
            format!("use {tools} for {t}, or run it in a maintenance window; if {t} is small enough for writes to wait, waive this finding with the reason (`-- gonogo:ignore {} <reason>`)", MYSQL_CASCADING_FOREIGN_KEY_LOCK.id),
        );
        return;
    }
    let work = if j.level == Level::Rebuild {
        let whys: Vec<&str> = j
            .effective
            .iter()
            .filter_map(|c| match c {
                Cost::Rebuild { why } => Some(why.as_str()),
                _ => None,
            })
            .collect();
        format!("rebuilds {t} ({})", dedup(whys).join("; "))
    } else {
        "runs INPLACE".to_string()
    };
    out.report(
        pos,
        &MYSQL_CASCADING_FOREIGN_KEY_LOCK,
        format!("{whats} on {t} {work}, but not with LOCK=NONE: {because}; it takes a shared lock instead, so writes to {t} are blocked until it finishes"),
        fix(j, &tools),
    );
}

/// Split off the operations that are INSTANT alone (they take no table lock); the rest runs
/// INPLACE with the shared lock stated, or with an online schema change tool.
fn fix(j: &Judged, tools: &str) -> String {
    let t = &j.table.name;
    let shared = j.online_options();
    let degraded = j
        .ops
        .iter()
        .zip(&j.effective)
        .any(|(op, cost)| op.cost.level() == Level::Instant && cost.level() != Level::Instant);
    // RENAME TO goes last, with the INPLACE part, as in mysql-table-rebuild's split.
    let renames = |o: &&Op| o.what.starts_with("RENAME TO");
    let is_instant = |o: &&Op| o.cost.level() == Level::Instant && !renames(o);
    if degraded && !j.all_instant() && matches!(j.shape, crate::sql::mysql::cost::Shape::Alter) {
        format!(
            "split it: `ALTER TABLE {tsql} {}, ALGORITHM=INSTANT;` (no table lock), then `ALTER TABLE {tsql} {}, {shared};` if writes to {t} can wait for it, or use {tools} for {t}",
            join_sql(j.ops.iter().filter(is_instant)),
            join_sql(
                j.ops
                    .iter()
                    .filter(|o| o.cost.level() != Level::Instant)
                    .chain(j.ops.iter().filter(renames))
            ),
            tsql = j.table.sql
        )
    } else {
        format!(
            "`{}` if writes to {t} can wait for it (MySQL then refuses instead of copying the table), or use {tools} for {t}, or run it in a maintenance window",
            with_options(j, shared)
        )
    }
}

fn dedup(items: Vec<&str>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
