//! The `rollback/irreversible-migration` rule: a migration of this deploy destroys data the
//! previous version of the code needs to run again.

use crate::declare_rule;
use crate::report::{Finding, Location};
use crate::sql::changes::ChangeKind;
use crate::sql::postgres::ColumnType;
use crate::sql::postgres::operations::{FileFacts, Operation, StatementFacts, Step};

declare_rule! {
    order: 60;
    /// ## What it catches
    /// A migration of this deploy that destroys data on a table that existed before it:
    /// `DROP TABLE`, `DROP COLUMN`, `TRUNCATE`, `DELETE` without `WHERE`, a type change that
    /// rounds or cuts values (`numeric(12,4)` to `numeric(12,2)`, `timestamptz` to `date`,
    /// `double precision` to `real` or to an integer), or an enum type recreated without values
    /// its column held (PostgreSQL cannot drop an enum value, so this is how it is done).
    /// Tables created by this same deploy are not reported: the previous version never had them.
    /// A `DROP TABLE` or `DROP COLUMN` whose contract step is prepared is `info`: with
    /// `checks.compat.database.code_paths`, the deployed code (the base ref, what a rollback
    /// returns to) marks it as going away (Rails `ignored_columns`, or a configured marker such
    /// as `# gonogo:dropping` on or above a use), or no file there uses it.
    ///
    /// ## Why it matters during a deploy
    /// Rolling back is re-deploying the previous version. That version reads the column, the
    /// table or the rows the migration destroyed, and no down migration can bring data back: a
    /// down that re-adds the column re-adds it empty. The rollback then needs a restore from
    /// backup, with every write since lost, which is not the one-minute rollback a deploy plan
    /// counts on.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders DROP COLUMN legacy_total;
    /// ```
    ///
    /// ## Do this instead
    /// Expand and contract: deploy code that no longer reads or writes the column first, and
    /// drop it in a later deploy, when the version a rollback returns to no longer needs it
    /// (compat's `gonogo:dropping` markers or Rails `ignored_columns` record that step). For a
    /// narrowing change, add a new column of the new type, write both, backfill, switch reads,
    /// and drop the old one later. Waive with `-- gonogo:ignore rollback/irreversible-migration
    /// <reason>` on the line above a statement whose data nobody needs.
    pub IRREVERSIBLE_MIGRATION = ("rollback/irreversible-migration", Warn, "a migration of this deploy destroys data the previous version needs: a rollback needs a restore from backup");
}

/// What the message says after "<what> destroys <lost>", unless the deployed code has let go.
pub const CONSEQUENCE: &str = ": the previous version, which a rollback brings back, still expects them, and only a restore from backup returns them";

/// The finding for one operation of a PostgreSQL statement of this deploy, if it destroys data.
pub fn check_operation(path: &str, statement: &StatementFacts, op: &Operation) -> Option<Finding> {
    let (what, lost, fix) = match op {
        Operation::DropTable { table } => (
            format!("DROP TABLE {table}"),
            format!("the table {table} and every row in it"),
            format!(
                "stop using {table} in one deploy and drop it in a later one (or rename it and drop it once the rollback window has passed)"
            ),
        ),
        Operation::DropColumn { table, column } => (
            format!("DROP COLUMN {table}.{column}"),
            format!("the values of {table}.{column}"),
            format!(
                "deploy code that no longer reads or writes {column} first, and drop the column in a later deploy"
            ),
        ),
        Operation::Truncate { table } => (
            format!("TRUNCATE {table}"),
            format!("every row of {table}"),
            "delete the rows the new version no longer needs in a later deploy, or copy them to an archive table first".to_string(),
        ),
        Operation::Backfill {
            table,
            verb: "DELETE",
            whole_table: true,
            ..
        } => (
            format!("DELETE FROM {table} without WHERE"),
            format!("every row of {table}"),
            "copy the rows to an archive table in the same migration, or delete them in a later deploy once no running version reads them".to_string(),
        ),
        Operation::AlterColumnType {
            table,
            column,
            before: Some(before),
            after,
            ..
        } => {
            let how = lossy_conversion(before, after)?;
            (
                format!("ALTER COLUMN {table}.{column} TYPE {after} (from {before})"),
                format!("the part of every {table}.{column} value that {how}"),
                format!(
                    "add a new column of type {after}, write both, backfill, switch reads, and drop {column} in a later deploy"
                ),
            )
        }
        _ => return None,
    };
    Some(finding(
        path,
        statement.line,
        statement.column,
        &what,
        &lost,
        fix,
    ))
}

/// A column moved to an enum type that lacks values of its type before: rows holding them
/// cannot be converted back, and the old version may write them.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumValuesLost {
    pub table: String,
    pub column: String,
    pub from: String,
    pub to: String,
    pub lost: Vec<String>,
}

/// The enum narrowings of a file's statements: an `ALTER COLUMN … TYPE` of an existing table
/// whose schema change (written by the same walk, from the enum values the schema knows)
/// removes values.
pub fn enum_values_lost(facts: &FileFacts) -> Vec<EnumValuesLost> {
    let mut out = Vec::new();
    for step in &facts.steps {
        let Step::Statement(statement) = step else {
            continue;
        };
        for op in statement.operations.iter().flatten() {
            let Operation::AlterColumnType {
                table,
                column,
                before: Some(before),
                after,
                ..
            } = op
            else {
                continue;
            };
            let removed = statement
                .changes
                .iter()
                .find_map(|change| match &change.kind {
                    ChangeKind::EnumValuesRemoved {
                        column: Some(changed),
                        removed,
                        ..
                    } if changed.to_lowercase() == *column => Some(removed),
                    _ => None,
                });
            if let Some(removed) = removed {
                out.push(EnumValuesLost {
                    table: table.clone(),
                    column: column.clone(),
                    from: before.to_string(),
                    to: after.to_string(),
                    lost: removed.clone(),
                });
            }
        }
    }
    out
}

/// The finding for an enum type recreated without values a column held.
pub fn check_enum(path: &str, line: u32, column: u32, lost: &EnumValuesLost) -> Finding {
    let values = lost
        .lost
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ");
    finding(
        path,
        line,
        column,
        &format!(
            "ALTER COLUMN {}.{} TYPE {} (from {}, without {values})",
            lost.table, lost.column, lost.to, lost.from
        ),
        &format!("the rows holding {values}"),
        format!(
            "keep {values} in the type until no running version writes or reads them; stop writing them in one deploy and recreate the type in a later one"
        ),
    )
}

/// A MySQL `DROP TABLE` or `DROP COLUMN` (the MySQL facts carry those two).
pub fn check_mysql(path: &str, line: u32, column: u32, what: &str, lost: &str) -> Finding {
    finding(
        path,
        line,
        column,
        what,
        lost,
        "stop using it in one deploy and drop it in a later one".to_string(),
    )
}

fn finding(path: &str, line: u32, column: u32, what: &str, lost: &str, fix: String) -> Finding {
    IRREVERSIBLE_MIGRATION
        .finding(format!("{what} destroys {lost}{CONSEQUENCE}"))
        .at(Location::new(path, line, column))
        .with_fix(fix)
}

/// Why a conversion loses information, in words that follow "the part of every value that":
/// only conversions PostgreSQL carries out by rounding or cutting, never ones it refuses
/// (a too-long string or an out-of-range integer fails the migration instead).
pub fn lossy_conversion(before: &ColumnType, after: &ColumnType) -> Option<String> {
    let integer = |name: &str| matches!(name, "int2" | "int4" | "int8");
    let fractional = |name: &str| matches!(name, "numeric" | "float4" | "float8");
    let (from, to) = (before.name.as_str(), after.name.as_str());
    if fractional(from) && integer(to) {
        return Some("lies after the decimal point (values are rounded to integers)".to_string());
    }
    if from == "float8" && to == "float4" {
        return Some(
            "lies beyond real's 6 significant digits (double precision keeps 15)".to_string(),
        );
    }
    if from == "numeric" && to == "numeric" {
        let scale = |t: &ColumnType| t.mods.get(1).copied().unwrap_or(0);
        // numeric without a scale keeps every digit it is given.
        let before_scale = if before.mods.is_empty() {
            i64::MAX
        } else {
            scale(before)
        };
        if !after.mods.is_empty() && scale(after) < before_scale {
            return Some(format!(
                "lies beyond {} decimal places (values are rounded)",
                scale(after)
            ));
        }
    }
    if matches!(from, "timestamp" | "timestamptz") && to == "date" {
        return Some("holds the time of day".to_string());
    }
    // Fractional seconds: no modifier keeps 6 digits (microseconds).
    if from == to && matches!(from, "timestamp" | "timestamptz" | "time" | "timetz") {
        let digits = |t: &ColumnType| t.mods.first().copied().unwrap_or(6);
        if digits(after) < digits(before) {
            return Some(format!(
                "lies beyond {} fractional digits of a second (values are rounded)",
                digits(after)
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::lossy_conversion;
    use crate::sql::postgres::ColumnType;

    fn ty(name: &str, mods: &[i64]) -> ColumnType {
        ColumnType {
            name: name.to_string(),
            mods: mods.to_vec(),
        }
    }

    #[test]
    fn rounding_and_cutting_conversions_lose_data() {
        assert!(lossy_conversion(&ty("numeric", &[12, 4]), &ty("numeric", &[12, 2])).is_some());
        assert!(lossy_conversion(&ty("numeric", &[]), &ty("numeric", &[12, 2])).is_some());
        assert!(lossy_conversion(&ty("float8", &[]), &ty("int8", &[])).is_some());
        assert!(lossy_conversion(&ty("timestamptz", &[]), &ty("date", &[])).is_some());
        assert!(lossy_conversion(&ty("timestamp", &[]), &ty("timestamp", &[0])).is_some());
    }

    #[test]
    fn widening_and_refused_conversions_do_not() {
        assert!(lossy_conversion(&ty("numeric", &[12, 2]), &ty("numeric", &[14, 2])).is_none());
        assert!(lossy_conversion(&ty("int4", &[]), &ty("int8", &[])).is_none());
        // Too long values make PostgreSQL refuse the change: the migration fails, nothing lost.
        assert!(lossy_conversion(&ty("varchar", &[100]), &ty("varchar", &[20])).is_none());
        assert!(lossy_conversion(&ty("int8", &[]), &ty("int4", &[])).is_none());
        assert!(lossy_conversion(&ty("timestamp", &[3]), &ty("timestamp", &[])).is_none());
    }
}
