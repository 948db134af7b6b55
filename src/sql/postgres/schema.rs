//! The one PostgreSQL schema model: what the migrations built, file after file, as
//! [`super::follow`] (the only code that turns statements into schema changes) writes it down.
//! Every fact is kept once and read by every reader:
//! - tables: which exist, which are new (created by this deploy, so empty and safe to lock),
//!   partitions and their DEFAULT partition;
//! - each column's type, NOT NULL and default; each table's constraints (definition and
//!   columns); indexes (table, columns, definition); enum types and their values; domains with
//!   a constraint.
//!
//! The lock rules, the schema changes old code can notice ([`crate::sql::changes`]) and the PG
//! judge read it while the migration set is followed once ([`crate::sql::followed`]);
//! `rollback` follows ups and downs over a value of its own and compares the [`Shape`]s it
//! takes before and after ([`super::shape`]).
//!
//! Tables and columns are matched by lower-cased name without schema: migrations rarely mix
//! schemas, and a false "new table" would hide a real finding less often than a schema mismatch
//! would invent one. Defaults and CHECK expressions keep their parse tree and are deparsed only
//! when a shape is taken (a walk over thousands of tables never pays for it).
//!
//! [`Shape`]: super::shape::Shape

use super::ColumnType;
use super::operations::TypeChange;
use pg_query::{NodeEnum, protobuf};
use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Default, Clone)]
pub struct Schema {
    /// A base ref selected this deploy's files, so a table created by any of them is new at
    /// deploy time. Without a base every file is checked as if new, but a table created by an
    /// earlier file has long existed in production: only same-file creations count as new then.
    deploy_is_known: bool,
    /// Tables created earlier in the file being read.
    created_in_file: HashSet<String>,
    /// Tables created by this deploy's migrations.
    created_in_deploy: HashSet<String>,
    /// Every table a migration created or altered, by name.
    tables: HashMap<String, Table>,
    /// The indexes: what the lock rules (an index's table, whether a column is indexed), the
    /// compatibility changes (`UNIQUE USING INDEX`) and rollback's comparison read.
    indexes: Indexes,
    /// Tables created `PARTITION BY`.
    partitioned: HashSet<String>,
    /// partition → its parent.
    parents: HashMap<String, String>,
    /// parent → its DEFAULT partition.
    default_partitions: HashMap<String, String>,
    /// Domains created with a constraint (CHECK or NOT NULL).
    constrained_domains: HashSet<String>,
    /// Enum type → its values, in order.
    pub enums: HashMap<String, Vec<String>>,
    /// What the `CHECK (column IS NOT NULL)` constraints prove (see [`NotNullChecks`]).
    pub(super) not_null_checks: NotNullChecks,
}

/// The `CHECK (column IS NOT NULL)` constraints of the migrations read so far, kept from file to
/// file: the recipe that avoids SET NOT NULL's scan (add the check NOT VALID, validate it, then
/// SET NOT NULL) is usually three migrations, often three deploys.
#[derive(Debug, Default, Clone)]
pub struct NotNullChecks {
    /// (table, constraint) → column.
    pub(super) by_name: HashMap<(String, String), String>,
    /// (table, column) proven NOT NULL by a CHECK validated in an earlier transaction.
    pub(super) validated: HashSet<(String, String)>,
}

/// A table as the migrations show it.
#[derive(Debug, Default, Clone)]
pub struct Table {
    /// A CREATE TABLE (or CREATE TABLE AS) of the migrations made it, so its whole shape is
    /// known; otherwise it was made outside them and only what ALTERs said of it is.
    pub created: bool,
    /// Column (lower-cased) → what is known of it. Kept per table: a CREATE TABLE forgets its
    /// table's facts, and a search through every column of every table there made a file of n
    /// CREATE TABLEs cost n².
    pub columns: HashMap<String, Column>,
    /// Constraint name (lower-cased; PostgreSQL's generated name when none is given) → it.
    pub constraints: HashMap<String, Constraint>,
}

#[derive(Debug, Default, Clone)]
pub struct Column {
    pub ty: Option<ColumnType>,
    /// Whether a migration declared it NOT NULL (`Some(true)`) or nullable.
    pub not_null: Option<bool>,
    pub default: Option<Expression>,
    /// A CREATE TABLE or ADD COLUMN defined it (so its NOT NULL and default are known), rather
    /// than an ALTER of a column made outside the migrations.
    pub defined: bool,
}

/// A constraint of a table.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// `PRIMARY KEY (id)`, `FOREIGN KEY (customer_id) REFERENCES customers`; for a CHECK, the
    /// word before [`Constraint::check`].
    pub written: String,
    /// A CHECK's expression.
    pub check: Option<Expression>,
    /// The columns it is on: dropping one of them drops the constraint (PostgreSQL's
    /// ALTER TABLE … DROP COLUMN drops the indexes and constraints that involve the column).
    pub columns: Vec<String>,
}

impl Constraint {
    /// `PRIMARY KEY (id)`, `CHECK (total >= 0)`, …
    pub fn definition(&self) -> String {
        match &self.check {
            Some(check) => format!("{} ({})", self.written, check.text()),
            None => self.written.clone(),
        }
    }
}

/// An expression of a default, a CHECK or an index, deparsed on first use (PostgreSQL's
/// deparser writes `now()`, `'draft'::text`, so two spellings of the same default compare
/// equal).
#[derive(Debug, Clone)]
pub struct Expression {
    /// Boxed: a parse node is hundreds of bytes, and most columns have no default.
    node: Option<Box<NodeEnum>>,
    text: OnceCell<String>,
}

impl Expression {
    pub fn new(node: &NodeEnum) -> Expression {
        Expression {
            node: Some(Box::new(node.clone())),
            text: OnceCell::new(),
        }
    }

    /// An expression known by its text (an identity column's default is `identity`).
    pub fn written(text: &str) -> Expression {
        Expression {
            node: None,
            text: OnceCell::from(text.to_string()),
        }
    }

    pub fn text(&self) -> &str {
        self.text
            .get_or_init(|| self.node.as_deref().map(deparse).unwrap_or_default())
    }
}

/// An expression as PostgreSQL's deparser writes it; the Debug form when it cannot be deparsed.
pub fn deparse(inner: &NodeEnum) -> String {
    let select = NodeEnum::SelectStmt(Box::new(protobuf::SelectStmt {
        target_list: vec![protobuf::Node {
            node: Some(NodeEnum::ResTarget(Box::new(protobuf::ResTarget {
                val: Some(Box::new(protobuf::Node {
                    node: Some(inner.clone()),
                })),
                ..Default::default()
            }))),
        }],
        // The protobuf default 0 of these enums is "undefined", which the deparser refuses
        // with an abort: say what a plain SELECT has.
        limit_option: protobuf::LimitOption::Default as i32,
        op: protobuf::SetOperation::SetopNone as i32,
        ..Default::default()
    }));
    match select.deparse(Default::default()) {
        Ok(text) => text
            .strip_prefix("SELECT ")
            .map(str::to_string)
            .unwrap_or(text),
        Err(_) => format!("{inner:?}"),
    }
}

/// An index.
#[derive(Debug, Clone)]
pub struct Index {
    /// Its table, lower-cased.
    pub table: String,
    /// The columns it is built on, as written, in order: plain columns and the columns its
    /// expressions read.
    pub columns: Vec<String>,
    /// How it was created, for rollback's comparison.
    pub definition: IndexDefinition,
}

/// `CREATE [UNIQUE] INDEX … ON table [USING method] (elements) [WHERE predicate]`, as created
/// (a rename of the table or of a column does not rewrite it).
#[derive(Debug, Clone, Default)]
pub struct IndexDefinition {
    pub unique: bool,
    pub table: String,
    pub elements: Vec<IndexElement>,
    /// The access method when not btree.
    pub method: Option<String>,
    pub predicate: Option<Expression>,
}

#[derive(Debug, Clone)]
pub enum IndexElement {
    Column(String),
    Expression(Expression),
}

impl IndexElement {
    pub fn text(&self) -> &str {
        match self {
            IndexElement::Column(name) => name,
            IndexElement::Expression(expression) => expression.text(),
        }
    }
}

impl IndexDefinition {
    /// `UNIQUE ON orders (email)`, `ON orders (customer_id, created_at) WHERE …`.
    pub fn text(&self) -> String {
        let elements: Vec<&str> = self.elements.iter().map(IndexElement::text).collect();
        let mut text = format!(
            "{}ON {} ({})",
            if self.unique { "UNIQUE " } else { "" },
            self.table,
            elements.join(", ")
        );
        if let Some(method) = &self.method {
            text.push_str(&format!(" USING {method}"));
        }
        if let Some(predicate) = &self.predicate {
            text.push_str(&format!(" WHERE {}", predicate.text()));
        }
        text
    }
}

/// The indexes by name (lower-cased), with their tables': an index belongs to its table, so it
/// follows a table renamed and goes with a table dropped (PostgreSQL drops a table's indexes
/// with it).
#[derive(Debug, Default, Clone)]
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

    /// The table's indexes on `column` go with it; the others now name it `to`, if given.
    fn column_gone_or_renamed(&mut self, table: &str, column: &str, to: Option<&str>) {
        let names: Vec<String> = self
            .by_table
            .get(table)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        for name in names {
            let Some(index) = self.by_name.get_mut(&name) else {
                continue;
            };
            match to {
                Some(to) => rename_in(&mut index.columns, column, to),
                None if index.columns.iter().any(|c| c.to_lowercase() == column) => {
                    self.remove(&name);
                }
                None => {}
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&String, &Index)> {
        self.by_name.iter()
    }
}

fn rename_in(columns: &mut [String], old: &str, new: &str) {
    for column in columns {
        if column.to_lowercase() == old {
            *column = new.to_string();
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

    /// `CREATE TABLE`: the table as defined, replacing whatever was known under its name.
    pub fn create_table(&mut self, name: &str, table: Table) {
        self.tables.insert(name.to_string(), table);
    }

    /// A table the migrations created or altered, by lower-cased name.
    pub fn table(&self, table: &str) -> Option<&Table> {
        self.tables.get(table)
    }

    /// Every table by name, in no order.
    pub fn tables(&self) -> impl Iterator<Item = (&String, &Table)> {
        self.tables.iter()
    }

    fn table_mut(&mut self, table: &str) -> &mut Table {
        self.tables.entry(table.to_string()).or_default()
    }

    fn column_mut(&mut self, table: &str, column: &str) -> &mut Column {
        self.table_mut(table)
            .columns
            .entry(column.to_string())
            .or_default()
    }

    pub fn column(&self, table: &str, column: &str) -> Option<&Column> {
        self.tables.get(table)?.columns.get(column)
    }

    pub fn column_type(&self, table: &str, column: &str) -> Option<&ColumnType> {
        self.column(table, column)?.ty.as_ref()
    }

    pub fn set_column_type(&mut self, table: &str, column: String, ty: ColumnType) {
        self.column_mut(table, &column).ty = Some(ty);
    }

    /// Whether `table.column` is NOT NULL: `Some` when a migration said (or the column's type
    /// is known and nothing made it NOT NULL), `None` when the column is not known.
    pub fn not_null(&self, table: &str, column: &str) -> Option<bool> {
        let column = self.column(table, column)?;
        column.not_null.or(column.ty.as_ref().map(|_| false))
    }

    pub fn set_not_null(&mut self, table: &str, column: &str, not_null: bool) {
        self.column_mut(table, column).not_null = Some(not_null);
    }

    /// `ADD COLUMN` of `defined` with its inline constraints. `if_not_exists` of a column
    /// already there does nothing (PostgreSQL: "column … already exists, skipping"). The
    /// nullability already written for the statement (see `follow::changes`) is kept.
    pub fn add_column(
        &mut self,
        table: &str,
        (name, defined, constraints): (String, Column, Vec<(String, Constraint)>),
        if_not_exists: bool,
    ) {
        let entry = self.table_mut(table);
        if if_not_exists && entry.columns.get(&name).is_some_and(|c| c.defined) {
            return;
        }
        let column = entry.columns.entry(name).or_default();
        column.ty = defined.ty;
        column.not_null = column.not_null.or(defined.not_null);
        column.default = defined.default;
        column.defined = true;
        entry.constraints.extend(constraints);
    }

    /// `ALTER COLUMN … SET DEFAULT` (`Some`) or `DROP DEFAULT`, of a column the migrations know.
    pub fn set_default(&mut self, table: &str, column: &str, default: Option<Expression>) {
        if let Some(column) = self
            .tables
            .get_mut(table)
            .and_then(|t| t.columns.get_mut(column))
        {
            column.default = default;
        }
    }

    pub fn add_constraint(&mut self, table: &str, (name, constraint): (String, Constraint)) {
        self.table_mut(table).constraints.insert(name, constraint);
    }

    pub fn drop_constraint(&mut self, table: &str, name: &str) {
        if let Some(t) = self.tables.get_mut(table) {
            t.constraints.remove(name);
        }
    }

    pub fn rename_constraint(&mut self, table: &str, name: &str, to: String) {
        if let Some(t) = self.tables.get_mut(table)
            && let Some(constraint) = t.constraints.remove(name)
        {
            t.constraints.insert(to, constraint);
        }
    }

    /// `CREATE INDEX index ON table (columns)`; `index` and `table` lower-cased.
    pub fn add_index(&mut self, index: &str, found: Index) {
        self.indexes.add(index, found);
    }

    /// An index created by an earlier statement.
    pub fn index(&self, index: &str) -> Option<&Index> {
        self.indexes.by_name.get(index)
    }

    /// Every index by name, in no order.
    pub fn indexes(&self) -> impl Iterator<Item = (&String, &Index)> {
        self.indexes.iter()
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
            .tables
            .iter()
            .filter(|(_, table)| {
                table
                    .columns
                    .values()
                    .any(|c| c.ty.as_ref().is_some_and(|ty| ty.name == domain))
            })
            .map(|(table, _)| table.clone())
            .collect();
        tables.sort();
        tables
    }

    /// `DROP COLUMN`: the column goes, and with it the constraints and indexes on it.
    pub fn drop_column(&mut self, table: &str, column: &str) {
        if let Some(t) = self.tables.get_mut(table) {
            t.columns.remove(column);
            t.constraints
                .retain(|_, c| !c.columns.iter().any(|c| c == column));
        }
        self.indexes.column_gone_or_renamed(table, column, None);
    }

    pub fn drop_table(&mut self, table: &str) {
        self.tables.remove(table);
        self.indexes.drop_table(table);
        self.partitioned.remove(table);
        if let Some(parent) = self.parents.remove(table) {
            self.detach(&parent, table);
        }
    }

    /// The columns, constraints and indexes follow a renamed table.
    pub fn rename_table(&mut self, table: &str, to: String) {
        if table == to {
            return;
        }
        self.indexes.rename_table(table, &to);
        if let Some(moved) = self.tables.remove(table) {
            self.tables.insert(to, moved);
        }
    }

    /// A table a migration created or altered (and did not drop since), new or not.
    pub fn knows(&self, table: &str) -> bool {
        self.tables.contains_key(table) || self.created_in_file.contains(table)
    }

    /// Every (table, column) of type `name`, sorted.
    /// `ALTER TYPE … RENAME VALUE old TO new`: a column default that is the old value now reads
    /// as the new one, because PostgreSQL stores an enum constant by the value's identity (its
    /// `pg_enum` row), not its label: `pg_get_expr` shows the new label after the rename
    /// (checked on PostgreSQL 15: `'RequireApplication'::mode` after renaming the default's value).
    pub fn rename_enum_value_in_defaults(&mut self, type_name: &str, old: &str, new: &str) {
        let quoted = |label: &str| format!("'{}'", label.replace('\'', "''"));
        let (old, new) = (quoted(old), quoted(new));
        for (table, column) in self.columns_of_type(type_name) {
            let Some(column) = self
                .tables
                .get_mut(&table)
                .and_then(|t| t.columns.get_mut(&column))
            else {
                continue;
            };
            let renamed = column.default.as_ref().and_then(|default| {
                let text = default.text();
                let rest = text.strip_prefix(&old)?;
                // The literal alone, or cast to its type: `'old'`, `'old'::status`.
                (rest.is_empty() || rest.starts_with("::")).then(|| format!("{new}{rest}"))
            });
            if let Some(text) = renamed {
                column.default = Some(Expression::written(&text));
            }
        }
    }

    pub fn columns_of_type(&self, name: &str) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = self
            .tables
            .iter()
            .flat_map(|(table, t)| {
                t.columns
                    .iter()
                    .filter(|(_, c)| c.ty.as_ref().is_some_and(|ty| ty.name == name))
                    .map(move |(column, _)| (table.clone(), column.clone()))
            })
            .collect();
        found.sort();
        found
    }

    /// `ALTER TYPE … RENAME TO`: columns of the type now name the new one (they keep the type,
    /// by oid).
    pub fn rename_type(&mut self, name: &str, to: &str) {
        for ty in self
            .tables
            .values_mut()
            .flat_map(|t| t.columns.values_mut())
            .filter_map(|c| c.ty.as_mut())
        {
            if ty.name == name {
                ty.name = to.to_string();
            }
        }
        if let Some(values) = self.enums.remove(name) {
            self.enums.insert(to.to_string(), values);
        }
    }

    /// The column, its constraints and its indexes now name it `to`.
    pub fn rename_column(&mut self, table: &str, column: &str, to: String) {
        if let Some(t) = self.tables.get_mut(table) {
            if let Some(found) = t.columns.remove(column) {
                t.columns.insert(to.clone(), found);
            }
            for constraint in t.constraints.values_mut() {
                rename_in(&mut constraint.columns, column, &to);
            }
        }
        self.indexes
            .column_gone_or_renamed(table, column, Some(&to));
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
