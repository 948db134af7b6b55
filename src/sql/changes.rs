//! Schema changes that code of the previous release can notice, in both dialects' words: the
//! facts the database side of `compat` judges. During a rolling deploy the pods of the previous
//! release keep serving after the migrations ran; a dropped or renamed column, a new NOT NULL
//! column their INSERTs do not set, a narrower type, a removed enum value, a new CHECK or UNIQUE
//! rule fails their queries until the last of them is replaced.
//!
//! They are written down by the same walk that writes the `migrations` facts, over the same
//! schema model: `sql::postgres::follow` (each statement's `changes`) and `sql::mysql::facts`
//! (each statement's `schema_changes`). This module holds what both dialects share: the changes,
//! the column type as people write it and when a type change is a widening.

use std::collections::BTreeSet;

/// One schema change a statement makes, where it is written in its file.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaChange {
    pub kind: ChangeKind,
    /// The table as the database stores its name: unquoted names folded (PostgreSQL to lower
    /// case; MySQL compares them case-insensitively and they are lower-cased here), quoted ones
    /// kept as written; without schema qualifier (`public.orders` → `orders`).
    pub table: String,
    /// The statement, or the clause inside an ALTER TABLE when it can be positioned.
    pub line: u32,
    pub column: u32,
    /// The table was created by this deploy before this statement (a file of this deploy when a
    /// base selected them, else the same file): old code cannot use it.
    pub table_is_new: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    CreateTable,
    DropTable,
    RenameTable {
        to: String,
    },
    /// `not_null_without_default`: NOT NULL (or PRIMARY KEY) with no DEFAULT, and not filled by
    /// the database (serial, identity, generated, AUTO_INCREMENT).
    AddColumn {
        column: String,
        not_null_without_default: bool,
        /// The database fills it when an INSERT leaves it out (DEFAULT, serial, identity,
        /// generated, AUTO_INCREMENT); otherwise rows the old code writes hold NULL there.
        filled: bool,
    },
    DropColumn {
        column: String,
    },
    RenameColumn {
        column: String,
        to: String,
    },
    /// SET NOT NULL (PG), MySQL MODIFY/CHANGE making a nullable (or unknown) column NOT NULL, or
    /// a new PRIMARY KEY on a column not known to be NOT NULL.
    SetNotNull {
        column: String,
    },
    /// DROP NOT NULL (PG), MySQL MODIFY/CHANGE making a NOT NULL column nullable: the new code
    /// may write NULLs that old pods then read.
    DropNotNull {
        column: String,
    },
    /// A new CHECK constraint; `columns` are the column names its expression mentions (sorted).
    /// MySQL `NOT ENFORCED` checks are not listed: they never reject a write.
    AddCheck {
        columns: Vec<String>,
        expression: String,
        not_valid: bool,
    },
    /// A new UNIQUE constraint or unique index (CREATE UNIQUE INDEX, ADD UNIQUE, ADD CONSTRAINT …
    /// UNIQUE, ADD PRIMARY KEY, an inline UNIQUE on an added column).
    AddUnique {
        columns: Vec<String>,
        /// A partial index's columns whose NULL keeps a row out of it (`WHERE c IS NOT NULL`,
        /// `WHERE c > 0`, and conjunctions of those): such a row is never checked.
        unless_null: Vec<String>,
    },
    /// ALTER COLUMN … TYPE (PG), MODIFY / CHANGE with another type (MySQL). `from` is the type
    /// known from earlier migrations (None when unknown); `narrowed` is true unless the change is
    /// a known widening, so every value the old code writes still fits. A change to an unrelated
    /// type (integer → text) counts as narrowed too: the old code's values may not convert, or
    /// convert to something it does not read back. Types are shown as people write them:
    /// "bigint", "varchar(64)", "numeric(10,2)".
    TypeChanged {
        column: String,
        from: Option<String>,
        to: String,
        narrowed: bool,
    },
    /// Enum values the column (or the enum type) no longer accepts.
    EnumValuesRemoved {
        column: Option<String>,
        type_name: Option<String>,
        removed: Vec<String>,
    },
    /// `UPDATE t SET column = <expr>` where expr mentions other columns of the same table: a
    /// backfill that makes `column` the replacement of `from_columns` (sorted).
    Backfill {
        column: String,
        from_columns: Vec<String>,
    },
    /// `INSERT INTO t [(…)] SELECT … FROM other` (or `CREATE TABLE t AS SELECT … FROM other`):
    /// t is filled from `from` (a table replacement).
    CopyFrom {
        from: String,
    },
}

/// A column type: canonical name and modifiers (`varchar(64)` → ("varchar", [64])).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ty {
    pub name: String,
    pub mods: Vec<i64>,
    pub unsigned: bool,
    /// A MySQL ENUM's values (PostgreSQL enum values live in the schema's enum types).
    pub values: Vec<String>,
}

impl std::fmt::Display for Ty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        if self.name == "enum" {
            let values: Vec<String> = self.values.iter().map(|v| format!("'{v}'")).collect();
            write!(f, "({})", values.join(","))?;
        } else if !self.mods.is_empty() {
            let mods: Vec<String> = self.mods.iter().map(i64::to_string).collect();
            write!(f, "({})", mods.join(","))?;
        }
        if self.unsigned {
            f.write_str(" unsigned")?;
        }
        Ok(())
    }
}

/// Whether every value of `from` fits `to` unchanged (both dialects' canonical names).
pub fn widened(from: &Ty, to: &Ty) -> bool {
    if from == to {
        return true;
    }
    let first = |mods: &[i64]| mods.first().copied();
    match (int_rank(&from.name), int_rank(&to.name)) {
        // An unsigned column holds values above the signed maximum of the same width, and a
        // signed one holds negatives no unsigned column takes.
        (Some(a), Some(b)) => return b > a && (from.unsigned || !to.unsigned),
        (Some(_), None) => return to.name == "numeric" && to.mods.is_empty(),
        _ => {}
    }
    match (from.name.as_str(), to.name.as_str()) {
        ("real" | "float", "double precision" | "double") => true,
        ("varchar", "varchar") => match (first(&from.mods), first(&to.mods)) {
            (_, None) => true,
            (Some(n), Some(m)) => m >= n,
            (None, Some(_)) => false,
        },
        ("text", "varchar") => to.mods.is_empty(),
        // char(n) holds at most n characters (char alone is char(1) in both dialects), so
        // varchar(m ≥ n) or char(m ≥ n) holds every value the old code wrote: PostgreSQL drops
        // char's trailing pad blanks in the cast, MySQL never returns them.
        ("char", "varchar" | "char") => {
            let held = first(&from.mods).unwrap_or(1);
            match first(&to.mods) {
                Some(m) => m >= held,
                None => to.name == "varchar" || held <= 1,
            }
        }
        ("varchar" | "char", "text" | "mediumtext" | "longtext")
        | ("text", "mediumtext" | "longtext")
        | ("mediumtext", "longtext")
        | ("timestamp", "timestamptz") => true,
        ("numeric", "numeric") | ("decimal", "decimal") => {
            match (from.mods.as_slice(), to.mods.as_slice()) {
                (_, []) => true,
                ([p, s], [p2, s2]) => s2 >= s && p2.saturating_sub(*s2) >= p.saturating_sub(*s),
                _ => false,
            }
        }
        _ => false,
    }
}

/// A type change counts as narrowed unless the type it changes from is known and `to` widens it.
pub fn narrowed(from: Option<&Ty>, to: &Ty) -> bool {
    !from.is_some_and(|f| widened(f, to))
}

pub fn int_rank(name: &str) -> Option<u8> {
    match name {
        "tinyint" => Some(0),
        "smallint" => Some(1),
        "mediumint" => Some(2),
        "integer" | "int" => Some(3),
        "bigint" => Some(4),
        _ => None,
    }
}

/// Values of `old` missing from `new`, in `old`'s order.
pub fn missing(old: &[String], new: &[String]) -> Vec<String> {
    old.iter().filter(|v| !new.contains(v)).cloned().collect()
}

/// Sorted, without duplicates, without `except`.
pub fn sorted_names(names: impl IntoIterator<Item = String>, except: Option<&str>) -> Vec<String> {
    let set: BTreeSet<String> = names
        .into_iter()
        .filter(|n| Some(n.as_str()) != except)
        .collect();
    set.into_iter().collect()
}
