//! `migrations/mysql-missing-algorithm-lock`: an online change written without the ALGORITHM
//! and LOCK that make MySQL refuse instead of silently blocking, or with an ALGORITHM=INSTANT
//! the change does not support.

use super::write::{Findings, with_options};
use crate::declare_rule;
use crate::sql::mysql::Pos;
use crate::sql::mysql::cost::{Cost, Judged, Level};
use sqlparser::ast::{AlterTableAlgorithm, AlterTableLock};

declare_rule! {
    order: 320;
    /// ## What it catches
    /// An online `ALTER TABLE` or `CREATE INDEX` on an existing table written
    /// without `ALGORITHM=INPLACE, LOCK=NONE` (warn), or with an `ALGORITHM=INSTANT` the change
    /// does not support (fail: MySQL rejects the statement with "ALGORITHM=INSTANT is not
    /// supported for this operation", so the migration stops there; the MySQL 8.0 manual,
    /// "Online DDL Operations", lists which operations have "Instant: Yes", and an ALTER runs
    /// INSTANT only when every one of its operations does). A change that is INSTANT in MySQL 8
    /// (`ADD COLUMN`, `RENAME COLUMN`, `SET DEFAULT`, appending `ENUM` values) written without
    /// `ALGORITHM=INSTANT` is reported as `info`. Dropping or renaming an index, and dropping a
    /// foreign key, only change metadata INPLACE whatever is written (MySQL 8.0 manual, "Online
    /// DDL Operations": "Only Modifies Metadata: Yes"): nothing is said about them.
    ///
    /// ## Why it matters during a deploy
    /// Without them MySQL silently falls back to a slower algorithm or a stronger lock when the
    /// change turns out not to be online (a different MySQL version, a table with a FULLTEXT
    /// index). With them it refuses instead, and nothing is blocked.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD INDEX orders_status_idx (status);
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// ALTER TABLE orders ADD INDEX orders_status_idx (status), ALGORITHM=INPLACE, LOCK=NONE;
    /// ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;
    /// ```
    pub MYSQL_MISSING_ALGORITHM_LOCK = ("migrations/mysql-missing-algorithm-lock", Warn, "online ALTER without ALGORITHM/LOCK can silently block");
}

/// `ALGORITHM=INPLACE, LOCK=NONE` as written.
fn written_online(j: &Judged) -> bool {
    j.algorithm == Some(AlterTableAlgorithm::Inplace) && j.lock == Some(AlterTableLock::None)
}

/// Only for statements that block nothing (the other rules report those) and that gonogo read
/// whole.
pub fn check(out: &mut Findings, pos: Pos, j: &Judged) {
    if j.blocks_writes() || !j.understood {
        return;
    }
    let (t, whats) = (&j.table.name, j.whats());
    match j.level {
        Level::Instant => {
            if j.algorithm != Some(AlterTableAlgorithm::Instant) {
                out.info(
                    pos,
                    &MYSQL_MISSING_ALGORITHM_LOCK,
                    format!("{whats} on {t} is INSTANT in MySQL 8 (a metadata change); add `ALGORITHM=INSTANT` so MySQL refuses, instead of silently rebuilding {t}, when it cannot do it instantly (MySQL before 8.0.29 for DROP COLUMN, a FULLTEXT index, 64 instant changes already)"),
                    format!("`{}`", with_options(j, "ALGORITHM=INSTANT")),
                );
            }
        }
        Level::Inplace => {
            let note = j.effective.iter().find_map(|c| match c {
                Cost::Inplace { note: Some(note) } => Some(note.clone()),
                _ => None,
            });
            // Dropping or renaming an index only changes metadata, INPLACE, whatever is written
            // (MySQL 8.0 manual, "Online DDL Operations"): nothing to refuse, nothing to say.
            let metadata_only = j.effective.iter().all(|c| matches!(c, Cost::Metadata));
            if j.algorithm == Some(AlterTableAlgorithm::Instant) {
                // Not a silent fallback but an error (ER_ALTER_OPERATION_NOT_SUPPORTED_REASON):
                // the deploy stops with a half-applied migration, so this one is a `fail`.
                let which = if j.ops.len() > 1 {
                    let slow: Vec<&str> = j
                        .ops
                        .iter()
                        .filter(|o| o.cost.level() != Level::Instant)
                        .map(|o| o.what.as_str())
                        .collect();
                    format!(
                        " ({} cannot be INSTANT, and an ALTER is INSTANT only when all its operations are)",
                        slow.join(", ")
                    )
                } else {
                    String::new()
                };
                out.fail(
                    pos,
                    &MYSQL_MISSING_ALGORITHM_LOCK,
                    format!("ALGORITHM=INSTANT is not supported for {whats} on {t}{which}: MySQL rejects the statement and the migration fails"),
                    format!("`{}`", with_options(j, j.online_options())),
                );
            } else if !(metadata_only || written_online(j)) {
                let message = match note {
                    Some(note) => format!(
                        "{whats} on {t}: {note}; with `ALGORITHM=INPLACE, LOCK=NONE` MySQL refuses instead of silently copying {t}"
                    ),
                    None => format!(
                        "{whats} on {t} can run online (ALGORITHM=INPLACE, no table copy), but without `ALGORITHM=INPLACE, LOCK=NONE` MySQL silently copies the table or takes a stronger lock when it cannot do it online, instead of refusing"
                    ),
                };
                out.report(
                    pos,
                    &MYSQL_MISSING_ALGORITHM_LOCK,
                    message,
                    format!("`{}`", with_options(j, "ALGORITHM=INPLACE, LOCK=NONE")),
                );
            }
        }
        Level::Rebuild | Level::Copy => {}
    }
}
