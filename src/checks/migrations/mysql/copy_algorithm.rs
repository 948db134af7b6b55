//! `migrations/mysql-copy-algorithm`: a statement MySQL runs with ALGORITHM=COPY (explicitly, or
//! because an operation can only be copied), or with a LOCK that blocks writes.

use super::write::{Findings, gh_ost, rejected, with_options};
use crate::declare_rule;
use crate::sql::mysql::Pos;
use crate::sql::mysql::cost::{Cost, Judged, Level};
use sqlparser::ast::AlterTableLock;

declare_rule! {
    order: 290;
    /// ## What it catches
    /// An `ALTER TABLE` that MySQL can only run with `ALGORITHM=COPY`: changing a column's type
    /// (`MODIFY`/`CHANGE` to another type), shrinking a column, growing a `VARCHAR` across 255
    /// bytes (its length prefix grows from 1 to 2 bytes; gonogo assumes utf8mb4 unless the
    /// migrations say otherwise), reordering or removing `ENUM`/`SET` values, changing a column's
    /// character set, dropping the primary key without adding one, `CONVERT TO CHARACTER SET`,
    /// adding a foreign key while `foreign_key_checks` is on, adding an enforced `CHECK`
    /// constraint, adding a `STORED` generated or an `AUTO_INCREMENT` column, or an explicit
    /// `ALGORITHM=COPY` / `LOCK=SHARED|EXCLUSIVE`. When the column's current type is not in the
    /// earlier migrations, a `MODIFY` to anything but a `VARCHAR`, `ENUM` or `SET` is reported too.
    ///
    /// ## Why it matters during a deploy
    /// COPY builds a new table row by row and blocks every write (DML) to the table until it is
    /// done: minutes to hours on a large table.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders MODIFY COLUMN amount_cents BIGINT NOT NULL;
    /// ```
    ///
    /// ## Do this instead
    /// Use an online schema change tool (gh-ost, pt-online-schema-change) for large tables, or
    /// expand and contract: add a new column, backfill in batches, switch, drop the old one.
    pub MYSQL_COPY_ALGORITHM = ("migrations/mysql-copy-algorithm", Fail, "ALTER TABLE that needs ALGORITHM=COPY blocks writes for the whole copy");
}

/// ALGORITHM=COPY written, or each operation that only ALGORITHM=COPY can do.
pub fn check(out: &mut Findings, pos: Pos, j: &Judged) {
    let t = &j.table.name;
    if j.explicit_copy() {
        out.report(
            pos,
            &MYSQL_COPY_ALGORITHM,
            format!("ALGORITHM=COPY on {t} ({}): writes to {t} are blocked while MySQL copies the table", j.whats()),
            format!("`{}` if MySQL can do it online (it refuses otherwise), or {}", with_options(j, j.online_options()), gh_ost(j)),
        );
        return;
    }
    for (op, cost) in j.ops.iter().zip(&j.effective) {
        if let Cost::Copy { why, fix } = cost {
            let fix = fix.clone().unwrap_or_else(|| copy_fix(j));
            out.report(
                pos,
                &MYSQL_COPY_ALGORITHM,
                format!("{} on {t} needs ALGORITHM=COPY ({why}): writes to {t} are blocked while MySQL copies the table{}", op.what, rejected(j, Level::Copy, false)),
                fix,
            );
        }
    }
}

/// `LOCK=SHARED` / `LOCK=EXCLUSIVE` written on a change that needs neither.
pub fn check_lock(out: &mut Findings, pos: Pos, j: &Judged) {
    if j.explicit_copy() {
        return;
    }
    let Some(lock) = j.blocking_lock() else {
        return;
    };
    let t = &j.table.name;
    let blocked = if lock == AlterTableLock::Exclusive {
        format!("reads and writes of {t} are")
    } else {
        format!("writes to {t} are")
    };
    out.report(
        pos,
        &MYSQL_COPY_ALGORITHM,
        format!(
            "LOCK={lock} on {t} ({}): {blocked} blocked for the whole ALTER",
            j.whats()
        ),
        format!(
            "`{}`",
            with_options(
                j,
                if j.level == Level::Instant {
                    "ALGORITHM=INSTANT"
                } else {
                    j.online_options()
                }
            )
        ),
    );
}

fn copy_fix(j: &Judged) -> String {
    let t = &j.table.name;
    format!(
        "use {} for {t} (it applies the change to a copy of {t} while writes continue, then swaps the tables), or schedule it for a maintenance window",
        j.relations.tools(t)
    )
}
