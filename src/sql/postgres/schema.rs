//! The PostgreSQL schema as the migrations build it, file after file: which tables exist, which
//! are new (created by this deploy, so empty and safe to lock), and each column's type.
//!
//! Tables and columns are matched by lower-cased name without schema: migrations rarely mix
//! schemas, and a false "new table" would hide a real finding less often than a schema mismatch
//! would invent one.

use super::ColumnType;
use super::operations::TypeChange;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Default)]
pub struct Schema {
    /// A base ref selected this deploy's files, so a table created by any of them is new at
    /// deploy time. Without a base every file is checked as if new, but a table created by an
    /// earlier file has long existed in production: only same-file creations count as new then.
    deploy_is_known: bool,
    /// Tables created earlier in the file being read.
    created_in_file: HashSet<String>,
    /// Tables created by this deploy's migrations.
    created_in_deploy: HashSet<String>,
    /// table → column → type, from every migration read so far.
    columns: HashMap<String, HashMap<String, ColumnType>>,
    /// The indexes created by name: what the lock rules (an index's table, whether a column
    /// is indexed) and the compatibility changes (`UNIQUE USING INDEX`) read.
    indexes: Indexes,
    /// Tables created `PARTITION BY`.
    partitioned: HashSet<String>,
    /// partition → its parent.
    parents: HashMap<String, String>,
    /// parent → its DEFAULT partition.
    default_partitions: HashMap<String, String>,
    /// Domains created with a constraint (CHECK or NOT NULL).
    constrained_domains: HashSet<String>,
    /// What the schema changes old code can notice read besides types (see
    /// `follow::changes`): nullability, enum types, index columns.
    pub declared: Declared,
}

/// Nullability and enum types as the migrations declare them, lower-cased.
#[derive(Debug, Default)]
pub struct Declared {
    /// table → column → NOT NULL, where a migration said either. Kept per table: a CREATE
    /// TABLE forgets its table's facts, and a search through every column of every table there
    /// made a file of n CREATE TABLEs cost n².
    not_null: HashMap<String, HashMap<String, bool>>,
    /// Enum type → its values, in order.
    pub enums: HashMap<String, Vec<String>>,
}

impl Declared {
    /// Whether a migration declared `table.column` NOT NULL (`Some(true)`) or nullable.
    pub fn not_null(&self, table: &str, column: &str) -> Option<bool> {
        self.not_null.get(table)?.get(column).copied()
    }

    pub fn set_not_null(&mut self, table: &str, column: &str, not_null: bool) {
        self.not_null
            .entry(table.to_string())
            .or_default()
            .insert(column.to_string(), not_null);
    }

    /// The column was dropped: nothing is known of it any more.
    pub fn forget_column(&mut self, table: &str, column: &str) {
        if let Some(columns) = self.not_null.get_mut(table) {
            columns.remove(column);
        }
    }

    /// A table created anew (or dropped): nothing is known of its columns' nullability.
    pub fn forget_table(&mut self, table: &str) {
        self.not_null.remove(table);
    }

    pub fn rename_table(&mut self, table: &str, to: &str) {
        if table == to {
            return;
        }
        self.forget_table(to);
        if let Some(columns) = self.not_null.remove(table) {
            self.not_null.insert(to.to_string(), columns);
        }
    }

    pub fn rename_column(&mut self, table: &str, column: &str, to: &str) {
        if let Some(columns) = self.not_null.get_mut(table)
            && let Some(not_null) = columns.remove(column)
        {
            columns.insert(to.to_string(), not_null);
        }
    }
}

/// An index created by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    /// Its table, lower-cased.
    pub table: String,
    /// The columns it is built on, as written, in order: plain columns and the columns its
    /// expressions read.
    pub columns: Vec<String>,
}

/// The indexes created by name (lower-cased), with their tables': an index belongs to its table,
/// so it follows a table renamed and goes with a table dropped (PostgreSQL drops a table's
/// indexes with it).
#[derive(Debug, Default)]
struct Indexes {
    by_name: HashMap<String, Index>,
    /// table → names of its indexes.
    by_table: HashMap<String, HashSet<String>>,
}

impl Indexes {
    fn add(&mut self, name: &str, index: Index) {
        self.remove(name);
        self.by_table
            .entry(index.table.clone())
            .or_default()
            .insert(name.to_string());
        self.by_name.insert(name.to_string(), index);
    }

    fn remove(&mut self, name: &str) -> Option<Index> {
        let index = self.by_name.remove(name)?;
        if let Some(names) = self.by_table.get_mut(&index.table) {
            names.remove(name);
        }
        Some(index)
    }

    fn of_table(&self, table: &str) -> impl Iterator<Item = &Index> {
        self.by_table
            .get(table)
            .into_iter()
            .flatten()
            .filter_map(|name| self.by_name.get(name))
    }

    fn rename_table(&mut self, table: &str, to: &str) {
        let Some(names) = self.by_table.remove(table) else {
            return;
        };
        for name in &names {
            if let Some(index) = self.by_name.get_mut(name) {
                index.table = to.to_string();
            }
        }
        self.by_table
            .entry(to.to_string())
            .or_default()
            .extend(names);
    }

    fn drop_table(&mut self, table: &str) {
        for name in self.by_table.remove(table).unwrap_or_default() {
            self.by_name.remove(&name);
        }
    }
}

impl Schema {
    pub fn new(deploy_is_known: bool) -> Schema {
        Schema {
            deploy_is_known,
            ..Schema::default()
        }
    }

    /// A new file starts: tables it creates are new from here on.
    pub fn start_file(&mut self) {
        self.created_in_file.clear();
    }

    /// The table existed before this deploy (so it may be large and busy).
    pub fn existing(&self, table: &str) -> bool {
        !(self.created_in_file.contains(table)
            || (self.deploy_is_known && self.created_in_deploy.contains(table)))
    }

    pub fn created(&mut self, table: &str, in_deploy: bool) {
        self.created_in_file.insert(table.to_string());
        if in_deploy {
            self.created_in_deploy.insert(table.to_string());
        }
    }

    /// A table that is not an existing one was dropped: it is no longer new either.
    pub fn forget_created(&mut self, table: &str) {
        self.created_in_file.remove(table);
        self.created_in_deploy.remove(table);
    }

    pub fn table_columns(&mut self, table: &str) -> &mut HashMap<String, ColumnType> {
        self.columns.entry(table.to_string()).or_default()
    }

    pub fn column_type(&self, table: &str, column: &str) -> Option<&ColumnType> {
        self.columns.get(table).and_then(|c| c.get(column))
    }

    pub fn set_column_type(&mut self, table: &str, column: String, ty: ColumnType) {
        self.table_columns(table).insert(column, ty);
    }

    /// `CREATE INDEX index ON table (columns)`; `index` and `table` lower-cased.
    pub fn add_index(&mut self, index: &str, table: &str, columns: Vec<String>) {
        let table = table.to_string();
        self.indexes.add(index, Index { table, columns });
    }

    /// An index created by an earlier statement.
    pub fn index(&self, index: &str) -> Option<&Index> {
        self.indexes.by_name.get(index)
    }

    /// The table of an index created by an earlier statement.
    pub fn index_table(&self, index: &str) -> Option<&str> {
        self.index(index).map(|i| i.table.as_str())
    }

    /// Whether an index created by an earlier statement is built on `column` of `table`
    /// (lower-cased), as a plain column or inside an expression: ALTER COLUMN TYPE rebuilds
    /// every index that depends on the column (ATExecAlterColumnType).
    pub fn column_is_indexed(&self, table: &str, column: &str) -> bool {
        self.indexes
            .of_table(table)
            .any(|index| index.columns.iter().any(|c| c.to_lowercase() == column))
    }

    pub fn drop_index(&mut self, index: &str) {
        self.indexes.remove(index);
    }

    /// `ALTER INDEX index RENAME TO to`: the same index under another name.
    pub fn rename_index(&mut self, index: &str, to: &str) {
        if let Some(found) = self.indexes.remove(index) {
            self.indexes.add(to, found);
        }
    }

    pub fn set_partitioned(&mut self, table: &str) {
        self.partitioned.insert(table.to_string());
    }

    pub fn is_partitioned(&self, table: &str) -> bool {
        self.partitioned.contains(table)
    }

    /// `partition` is attached to `parent`; `default`: as its DEFAULT partition.
    pub fn attach(&mut self, parent: &str, partition: &str, default: bool) {
        self.parents
            .insert(partition.to_string(), parent.to_string());
        if default {
            self.default_partitions
                .insert(parent.to_string(), partition.to_string());
        }
    }

    pub fn detach(&mut self, parent: &str, partition: &str) {
        self.parents.remove(partition);
        if self.default_partitions.get(parent).map(String::as_str) == Some(partition) {
            self.default_partitions.remove(parent);
        }
    }

    pub fn default_partition(&self, parent: &str) -> Option<&str> {
        self.default_partitions.get(parent).map(String::as_str)
    }

    pub fn add_constrained_domain(&mut self, domain: &str) {
        self.constrained_domains.insert(domain.to_string());
    }

    pub fn is_constrained_domain(&self, type_name: &str) -> bool {
        self.constrained_domains.contains(type_name)
    }

    /// The tables with a column of type `domain`, in name order.
    pub fn tables_using_type(&self, domain: &str) -> Vec<String> {
        let mut tables: Vec<String> = self
            .columns
            .iter()
            .filter(|(_, columns)| columns.values().any(|ty| ty.name == domain))
            .map(|(table, _)| table.clone())
            .collect();
        tables.sort();
        tables
    }

    pub fn drop_column(&mut self, table: &str, column: &str) {
        if let Some(columns) = self.columns.get_mut(table) {
            columns.remove(column);
        }
    }

    pub fn drop_table(&mut self, table: &str) {
        self.columns.remove(table);
        self.indexes.drop_table(table);
        self.partitioned.remove(table);
        if let Some(parent) = self.parents.remove(table) {
            self.detach(&parent, table);
        }
    }

    /// The columns and the indexes follow a renamed table.
    pub fn rename_table(&mut self, table: &str, to: String) {
        self.indexes.rename_table(table, &to);
        if let Some(columns) = self.columns.remove(table) {
            self.columns.insert(to, columns);
        }
    }

    /// A table a migration created (and did not drop since), new or not.
    pub fn knows(&self, table: &str) -> bool {
        self.columns.contains_key(table) || self.created_in_file.contains(table)
    }

    /// Every (table, column) of type `name`, sorted.
    pub fn columns_of_type(&self, name: &str) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = self
            .columns
            .iter()
            .flat_map(|(table, columns)| {
                columns
                    .iter()
                    .filter(|(_, ty)| ty.name == name)
                    .map(move |(column, _)| (table.clone(), column.clone()))
            })
            .collect();
        found.sort();
        found
    }

    /// `ALTER TYPE … RENAME TO`: columns of the type now name the new one.
    pub fn rename_type(&mut self, name: &str, to: &str) {
        for ty in self.columns.values_mut().flat_map(|c| c.values_mut()) {
            if ty.name == name {
                ty.name = to.to_string();
            }
        }
        if let Some(values) = self.declared.enums.remove(name) {
            self.declared.enums.insert(to.to_string(), values);
        }
    }

    pub fn rename_column(&mut self, table: &str, column: &str, to: String) {
        if let Some(columns) = self.columns.get_mut(table)
            && let Some(ty) = columns.remove(column)
        {
            columns.insert(to, ty);
        }
    }
}

/// What changing `table.column` from `old` to `new` does on PostgreSQL `postgres_version`:
/// [`type_change`], plus the changes that keep the heap but not the column's indexes.
pub fn column_type_change(
    schema: &Schema,
    table: &str,
    column: &str,
    old: Option<&ColumnType>,
    new: &ColumnType,
    postgres_version: u32,
) -> TypeChange {
    let index_rebuilt = schema.column_is_indexed(table, column);
    match (old.map(|o| o.name.as_str()), new.name.as_str()) {
        // PostgreSQL 12+ (ATColumnChangeRequiresRewrite): timestamp → timestamptz keeps every
        // value's bits when the session TimeZone is UTC, so the heap stays; an index on the
        // column is rebuilt all the same (its operator class changes). In any other time zone
        // every value shifts: a rewrite.
        (Some("timestamp"), "timestamptz") if postgres_version >= 12 => TypeChange::KeepsHeap {
            index_rebuilt,
            only_if: Some("the migration session's TimeZone is UTC"),
            why: "timestamp to timestamptz keeps the heap only when the session TimeZone is UTC"
                .to_string(),
        },
        // citext's extension script declares varchar/text → citext WITHOUT FUNCTION (binary
        // coercible): the heap stays, an index is rebuilt with citext's operator class.
        (Some("varchar" | "text"), "citext") | (Some("citext"), "text") => TypeChange::KeepsHeap {
            index_rebuilt,
            only_if: None,
            why: format!(
                "{} to {new} is binary-coercible but changes the index's operator class",
                old.map(|o| o.to_string()).unwrap_or_default()
            ),
        },
        _ => type_change(old, new),
    }
}

/// Whether changing a column from `old` to `new` rewrites the table. Binary-coercible changes that
/// PostgreSQL applies without a rewrite: varchar widening or unbounding, varchar → text,
/// text → unbounded varchar, numeric precision increase at the same scale or unbounding, cidr →
/// inet, timestamp precision increase.
pub fn type_change(old: Option<&ColumnType>, new: &ColumnType) -> TypeChange {
    let Some(old) = old else {
        return TypeChange::Unknown;
    };
    if old == new {
        return TypeChange::Free;
    }
    let widened = |old_mods: &[i64], new_mods: &[i64]| match (old_mods.first(), new_mods.first()) {
        (_, None) => true,
        (Some(o), Some(n)) => n >= o,
        (None, Some(_)) => false,
    };
    let free = match (old.name.as_str(), new.name.as_str()) {
        ("varchar", "varchar") => widened(&old.mods, &new.mods),
        ("varchar", "text") | ("bpchar", "bpchar") if new.name == "text" => true,
        ("text", "varchar") => new.mods.is_empty(),
        ("numeric", "numeric") => {
            new.mods.is_empty()
                || (old.mods.len() == new.mods.len()
                    && old.mods.get(1) == new.mods.get(1)
                    && widened(&old.mods, &new.mods))
                || (old.mods.len() == 1
                    && new.mods.len() == 2
                    && new.mods[1] == 0
                    && new.mods[0] >= old.mods[0])
        }
        ("cidr", "inet") => true,
        ("timestamp", "timestamp")
        | ("timestamptz", "timestamptz")
        | ("time", "time")
        | ("interval", "interval") => widened(&old.mods, &new.mods),
        ("varbit", "varbit") => widened(&old.mods, &new.mods),
        _ => false,
    };
    if free {
        TypeChange::Free
    } else {
        TypeChange::Rewrite(format!("{old} to {new} is not binary-coercible"))
    }
}
