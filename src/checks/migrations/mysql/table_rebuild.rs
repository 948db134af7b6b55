//! `migrations/mysql-table-rebuild`: a statement MySQL runs INPLACE with a full table rebuild
//! (one finding for the statement, whatever the reasons), and OPTIMIZE TABLE.

use super::write::{Findings, gh_ost, join_sql, rejected, with_options};
use crate::declare_rule;
use crate::sql::mysql::Pos;
use crate::sql::mysql::cost::{Cost, Judged, Level, Op, Relations, Shape};
use crate::sql::mysql::schema::TableRef;

declare_rule! {
    order: 300;
    /// ## What it catches
    /// An `ALTER TABLE` that MySQL runs INPLACE but with a full table rebuild: making a column
    /// NULL or NOT NULL, moving a column (`FIRST`/`AFTER` in a `MODIFY`), adding a primary key,
    /// `FORCE`, `ENGINE=…`, `ROW_FORMAT`, `OPTIMIZE TABLE`, and an `ADD COLUMN` or `DROP COLUMN`
    /// that cannot be INSTANT (written with `ALGORITHM=INPLACE`, combined with an INPLACE change in
    /// the same statement, or on a table with a FULLTEXT index).
    ///
    /// ## Why it matters during a deploy
    /// Writes continue during most of the rebuild, but it reads and rewrites the whole table
    /// (I/O, replica lag), and the metadata lock at the start and end can queue every query.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users MODIFY COLUMN email VARCHAR(255) NOT NULL;
    /// ```
    ///
    /// ## Do this instead
    /// Run it with `ALGORITHM=INPLACE, LOCK=NONE` off-peak, or with gh-ost /
    /// pt-online-schema-change on large tables. Put INSTANT changes (`ADD COLUMN`) in an ALTER of
    /// their own with `ALGORITHM=INSTANT`.
    pub MYSQL_TABLE_REBUILD = ("migrations/mysql-table-rebuild", Fail, "ALTER TABLE that rebuilds the whole table");
}

/// The statement rebuilds the table: one finding, whatever the reasons.
pub fn check(out: &mut Findings, pos: Pos, j: &Judged) {
    // On a table with cascading foreign keys the rebuild also blocks writes:
    // mysql-cascading-foreign-key-lock reports it, with the rebuild's reasons.
    if j.explicit_copy() || j.level != Level::Rebuild || j.lock_none_refused().is_some() {
        return;
    }
    let t = &j.table.name;
    let rebuilding: Vec<(&Op, &String)> = j
        .ops
        .iter()
        .zip(&j.effective)
        .filter_map(|(op, cost)| match cost {
            Cost::Rebuild { why } => Some((op, why)),
            _ => None,
        })
        .collect();
    let whats = rebuilding
        .iter()
        .map(|(op, _)| op.what.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut whys: Vec<&str> = Vec::new();
    for (_, why) in &rebuilding {
        if !whys.contains(&why.as_str()) {
            whys.push(why);
        }
    }
    // INSTANT operations that rebuild only because of the rest of the statement.
    let degraded = rebuilding
        .iter()
        .any(|(op, _)| op.cost.level() == Level::Instant);
    let fix = if degraded && j.all_instant() {
        format!("`{}`", with_options(j, "ALGORITHM=INSTANT"))
    } else if degraded && matches!(j.shape, Shape::Alter) {
        let renames = |o: &&Op| o.what.starts_with("RENAME TO");
        let instant_ops = join_sql(
            j.ops
                .iter()
                .filter(|o| o.cost.level() == Level::Instant && !renames(o)),
        );
        let other_ops = join_sql(
            j.ops
                .iter()
                .filter(|o| o.cost.level() != Level::Instant)
                .chain(j.ops.iter().filter(renames)),
        );
        format!(
            "split it: `ALTER TABLE {tsql} {instant_ops}, ALGORITHM=INSTANT;` then `ALTER TABLE {tsql} {other_ops}, ALGORITHM=INPLACE, LOCK=NONE;`",
            tsql = j.table.sql
        )
    } else {
        format!(
            "run `{}` off-peak (writes continue; expect I/O and replica lag), or {}",
            with_options(j, j.online_options()),
            gh_ost(j)
        )
    };
    out.report(
        pos,
        &MYSQL_TABLE_REBUILD,
        format!(
            "{whats} on {t} rebuilds the table ({}): with ALGORITHM=INPLACE reads and writes continue, but MySQL rewrites every row of {t} (I/O, replica lag) and takes an exclusive metadata lock at the start and end{}",
            whys.join("; "),
            rejected(j, Level::Rebuild, false)
        ),
        fix,
    );
}

/// OPTIMIZE TABLE on an existing table rebuilds it (ALTER TABLE … FORCE, which cannot run with
/// LOCK=NONE on a table with a cascading foreign key).
pub fn check_optimize(out: &mut Findings, pos: Pos, table: &TableRef, relations: &Relations) {
    let t = &table.name;
    let tools = relations.tools(t);
    let (message, lock) = match &relations.cascading {
        Some(fk) => (
            format!(
                "OPTIMIZE TABLE {t} rebuilds {t} (ALGORITHM=INPLACE), and not with LOCK=NONE: {t} has the foreign key {} {} (to {}), and MySQL does not permit LOCK=NONE on a table with ON … CASCADE or ON … SET NULL foreign keys, so writes to {t} are blocked while MySQL rewrites every row",
                fk.display,
                fk.cascade.unwrap_or("ON … CASCADE"),
                fk.parent
            ),
            "LOCK=SHARED",
        ),
        None => (
            format!(
                "OPTIMIZE TABLE {t} rebuilds {t} (ALGORITHM=INPLACE): reads and writes continue, but MySQL rewrites every row of {t} (I/O, replica lag) and takes an exclusive metadata lock at the start and end"
            ),
            "LOCK=NONE",
        ),
    };
    out.report(
        pos,
        &MYSQL_TABLE_REBUILD,
        message,
        format!(
            "do not optimize in a migration: rebuild {t} off-peak with `ALTER TABLE {} FORCE, ALGORITHM=INPLACE, {lock};`, or with {tools}",
            table.sql
        ),
    );
}
