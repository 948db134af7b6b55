//! The compatibility rules both dialects share (declared with the check in `compat.rs`: ADD
//! COLUMN NOT NULL without a default, DROP COLUMN, RENAME COLUMN, RENAME TABLE, DROP TABLE),
//! written for MySQL from the statement's breaking changes. One function per rule.

use super::write::Findings;
use crate::checks::migrations::{
    ADD_COLUMN_NOT_NULL, DROP_COLUMN, DROP_TABLE, RENAME_COLUMN, RENAME_TABLE,
};
use crate::sql::mysql::Pos;
use crate::sql::mysql::facts::{Change, Statement};
use crate::sql::mysql::schema::TableRef;

/// Every breaking change of the statement, in statement order.
pub fn check(out: &mut Findings, st: &Statement) {
    for change in &st.changes {
        match change {
            Change::AddColumnNotNull {
                table,
                column,
                column_sql,
                ty,
            } => add_column_not_null(out, st.pos, table, column, column_sql, ty),
            Change::DropColumn { table, column } => drop_column(out, st.pos, table, column),
            Change::RenameColumn { table, old, new } => rename_column(out, st.pos, table, old, new),
            Change::RenameTable { old, new } => rename_table(out, st.pos, old, new),
            Change::DropTable { table } => drop_table(out, st.pos, table),
        }
    }
}

fn add_column_not_null(
    out: &mut Findings,
    pos: Pos,
    table: &TableRef,
    c: &str,
    column_sql: &str,
    ty: &str,
) {
    let t = &table.name;
    out.report(
        pos,
        &ADD_COLUMN_NOT_NULL,
        format!("ADD COLUMN {c} NOT NULL without a DEFAULT on {t}: existing rows get the type's implicit default, but in strict mode every INSERT of the old version, which does not set {c}, is rejected"),
        format!("`ALTER TABLE {} ADD COLUMN {column_sql} {ty} NULL, ALGORITHM=INSTANT;` (or NOT NULL with a constant DEFAULT), backfill {t} in batches, and make it NOT NULL once every running version writes it", table.sql),
    );
}

fn drop_column(out: &mut Findings, pos: Pos, table: &TableRef, c: &str) {
    let t = &table.name;
    out.report(
        pos,
        &DROP_COLUMN,
        format!("DROP COLUMN {t}.{c} while the old version, still running until the rollout ends, reads and writes it"),
        format!("ship code that ignores {t}.{c} first (Rails ignored_columns, Django field removed), and drop it in a later deploy"),
    );
}

fn rename_column(out: &mut Findings, pos: Pos, table: &TableRef, o: &str, n: &str) {
    let t = &table.name;
    out.report(
        pos,
        &RENAME_COLUMN,
        format!("renaming {t}.{o} to {n} breaks every query of the old version, which keeps running until the rollout ends"),
        format!("add {n} to {t}, write both, backfill in batches, switch reads to {n}, and drop {o} in a later deploy"),
    );
}

fn rename_table(out: &mut Findings, pos: Pos, old: &TableRef, new: &TableRef) {
    let (o, n) = (&old.name, &new.name);
    out.report(
        pos,
        &RENAME_TABLE,
        format!("renaming {o} to {n} breaks every query of the old version, which keeps running until the rollout ends"),
        format!("after the rename, `CREATE VIEW {} AS SELECT * FROM {};` for one release (a simple view is updatable in MySQL), and drop the view once no running version uses {o}", old.sql, new.sql),
    );
}

fn drop_table(out: &mut Findings, pos: Pos, table: &TableRef) {
    let t = &table.name;
    out.report(
        pos,
        &DROP_TABLE,
        format!("DROP TABLE {t}: the old version still queries it until the rollout ends, and the data cannot come back with a rollback"),
        format!("ship code that no longer uses {t} first; drop it in a later deploy (or rename it to {t}_deprecated for one release)"),
    );
}
