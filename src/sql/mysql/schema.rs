//! The MySQL schema as the migrations build it, file after file: each table's columns (type,
//! nullability, character set), its default character set, whether it has a FULLTEXT index, its
//! foreign keys and their referential actions, and which tables were created earlier in the file
//! being read (new and empty, so changing them blocks nobody).

use super::{Props, normalize_charset};
use sqlparser::ast::{
    CreateTable, CreateTableLikeKind, CreateTableOptions, DataType, ForeignKeyConstraint,
    IndexColumn, ObjectName, ObjectNamePart, ReferentialAction, SqlOption, TableConstraint,
};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Lowercase column name → what gonogo knows of it.
    pub columns: HashMap<String, Column>,
    /// The table's default character set, when a CREATE TABLE named it.
    pub charset: Option<String>,
    /// Whether the table has a FULLTEXT index (no INSTANT ADD/DROP COLUMN then).
    pub fulltext: bool,
    /// Its FOREIGN KEY constraints (this table is their child), in the order they were added.
    pub foreign_keys: Vec<ForeignKey>,
    /// How many constraint names InnoDB has generated for it (`<table>_ibfk_<n>`).
    generated_fk_names: u32,
}

/// A FOREIGN KEY constraint of a table, as the migrations declared it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The constraint name as MySQL knows it, lowercase: the `CONSTRAINT` symbol, else the
    /// `<table>_ibfk_<n>` InnoDB generates (MySQL 8.0 manual, "FOREIGN KEY Constraints",
    /// identifiers: since 8.0.16 the `FOREIGN KEY index_name` is not used as the name).
    pub name: String,
    /// The constraint name as written (or generated), for messages.
    pub display: String,
    /// The referenced (parent) table's key into [`Schema`].
    pub parent: String,
    /// The first cascading referential action, `ON DELETE CASCADE`, `ON UPDATE SET NULL`, …;
    /// `None` when it only restricts (RESTRICT / NO ACTION, the default).
    pub cascade: Option<&'static str>,
}

impl ForeignKey {
    /// `fk` added to the table `table` (its key), named as MySQL names it.
    fn of(table: &mut Table, table_name: &str, fk: &ForeignKeyConstraint) -> ForeignKey {
        let display = match &fk.name {
            Some(name) => name.value.clone(),
            None => {
                table.generated_fk_names += 1;
                format!("{table_name}_ibfk_{}", table.generated_fk_names)
            }
        };
        let action = |when: &'static str, action: Option<ReferentialAction>| match action {
            Some(ReferentialAction::Cascade) => Some(if when == "DELETE" {
                "ON DELETE CASCADE"
            } else {
                "ON UPDATE CASCADE"
            }),
            Some(ReferentialAction::SetNull) => Some(if when == "DELETE" {
                "ON DELETE SET NULL"
            } else {
                "ON UPDATE SET NULL"
            }),
            _ => None,
        };
        ForeignKey {
            name: display.to_lowercase(),
            display,
            parent: TableRef::new(&fk.foreign_table).key,
            cascade: action("DELETE", fk.on_delete).or(action("UPDATE", fk.on_update)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub ty: DataType,
    pub nullable: bool,
    /// The column's character set: its own, else the table's; `None` when neither was named.
    pub charset: Option<String>,
}

/// A table as named in a statement.
#[derive(Debug, Clone)]
pub struct TableRef {
    /// Lowercase, without schema: the key into [`Schema`].
    pub key: String,
    /// As written, without quotes or schema, for messages.
    pub name: String,
    /// As written, with quotes and schema, for fixes.
    pub sql: String,
}

impl TableRef {
    pub fn new(name: &ObjectName) -> TableRef {
        let last = name.0.last().and_then(ObjectNamePart::as_ident);
        let plain = last
            .map(|i| i.value.clone())
            .unwrap_or_else(|| name.to_string());
        TableRef {
            key: plain.to_lowercase(),
            name: plain,
            sql: name.to_string(),
        }
    }
}

#[derive(Default)]
pub struct Schema {
    /// Lowercase table name → its schema, from every migration read so far.
    tables: HashMap<String, Table>,
    /// Tables created earlier in the file being read: new and empty, so safe.
    created_in_file: HashSet<String>,
    /// Which tables this deploy created, for the schema changes old code can notice
    /// (`super::changes`).
    deploy: DeployTables,
}

/// Tables created by this deploy's files: old code cannot use them. Without a base every file
/// counts as this deploy's, and a table created by an earlier file has long existed in
/// production: only same-file creations count as new then.
#[derive(Default)]
struct DeployTables {
    /// A base ref selected this deploy's files.
    known: bool,
    /// The file being read is one of them.
    file_in_deploy: bool,
    created: HashSet<String>,
}

impl Schema {
    /// A new file starts: no table is new in it yet.
    pub fn begin_file(&mut self) {
        self.created_in_file.clear();
    }

    /// `deploy_is_known`: a base ref selected this deploy's files.
    pub fn for_deploy(deploy_is_known: bool) -> Schema {
        let mut schema = Schema::default();
        schema.deploy.known = deploy_is_known;
        schema
    }

    /// Whether the file about to be read is one of this deploy's.
    pub fn file_in_deploy(&mut self, in_deploy: bool) {
        self.deploy.file_in_deploy = in_deploy;
    }

    /// The table was created by this deploy before now: in this file, or (a base being known)
    /// in an earlier file of the deploy.
    pub fn is_new(&self, key: &str) -> bool {
        self.created_in_file.contains(key)
            || (self.deploy.known && self.deploy.created.contains(key))
    }

    /// The file being read creates the table.
    pub fn created_by_this_file(&mut self, key: &str) {
        if self.deploy.file_in_deploy {
            self.deploy.created.insert(key.to_string());
        } else {
            self.deploy.created.remove(key);
        }
    }

    pub fn forget_in_deploy(&mut self, key: &str) {
        self.deploy.created.remove(key);
    }

    /// A renamed table created by this deploy is still new; an old table under a new name is
    /// still the old code's table.
    pub fn move_in_deploy(&mut self, old: &TableRef, new: &TableRef) {
        if old.key == new.key {
            return;
        }
        if self.deploy.created.remove(&old.key) {
            self.deploy.created.insert(new.key.clone());
        } else {
            self.deploy.created.remove(&new.key);
        }
    }

    /// The table existed before this file (or is unknown, so assumed to have rows).
    pub fn existing(&self, key: &str) -> bool {
        !self.created_in_file.contains(key)
    }

    pub fn table(&self, key: &str) -> Option<&Table> {
        self.tables.get(key)
    }

    /// The table, when gonogo knows it.
    pub fn known_mut(&mut self, key: &str) -> Option<&mut Table> {
        self.tables.get_mut(key)
    }

    /// The table, created empty when gonogo did not know it.
    pub fn table_mut(&mut self, key: &str) -> &mut Table {
        self.tables.entry(key.to_string()).or_default()
    }

    pub fn column(&self, key: &str, column: &str) -> Option<&Column> {
        self.tables.get(key)?.columns.get(&column.to_lowercase())
    }

    pub fn create_table(&mut self, create: &CreateTable) {
        let table = TableRef::new(&create.name);
        if create.if_not_exists && self.tables.contains_key(&table.key) && self.existing(&table.key)
        {
            return; // Already there: a no-op, and the table is not new.
        }
        self.created_in_file.insert(table.key.clone());
        let mut info = match &create.like {
            Some(CreateTableLikeKind::Plain(like) | CreateTableLikeKind::Parenthesized(like)) => {
                self.tables
                    .get(&TableRef::new(&like.name).key)
                    .cloned()
                    .unwrap_or_default()
            }
            None => Table::default(),
        };
        // CREATE TABLE … LIKE copies columns and indexes but not foreign keys (MySQL 8.0 manual,
        // "CREATE TABLE … LIKE Statement").
        info.foreign_keys.clear();
        info.generated_fk_names = 0;
        if let Some(charset) = table_charset(&create.table_options) {
            info.charset = Some(charset);
        }
        for column in &create.columns {
            let props = Props::of(column.options.iter().map(|o| &o.option));
            info.columns.insert(
                column.name.value.to_lowercase(),
                Column {
                    ty: column.data_type.clone(),
                    nullable: props.nullable(),
                    charset: props.charset.clone().or_else(|| info.charset.clone()),
                },
            );
        }
        for constraint in &create.constraints {
            match constraint {
                TableConstraint::PrimaryKey(pk) => info.primary_key(&pk.columns),
                TableConstraint::FulltextOrSpatial(index) if index.fulltext => info.fulltext = true,
                TableConstraint::ForeignKey(fk) => {
                    let fk = ForeignKey::of(&mut info, &table.name, fk);
                    info.foreign_keys.push(fk);
                }
                _ => {}
            }
        }
        // A column's inline `REFERENCES` is parsed and ignored by MySQL 8.0/8.4 (manual, "CREATE
        // TABLE Statement": "MySQL parses but ignores inline REFERENCES specifications"), so
        // only the table-level FOREIGN KEY clauses above make constraints.
        self.tables.insert(table.key, info);
    }

    /// `ALTER TABLE … ADD [CONSTRAINT name] FOREIGN KEY …` on `table`.
    pub fn add_foreign_key(&mut self, table: &TableRef, fk: &ForeignKeyConstraint) {
        let info = self.table_mut(&table.key);
        let fk = ForeignKey::of(info, &table.name, fk);
        info.foreign_keys.push(fk);
    }

    /// `ALTER TABLE … DROP FOREIGN KEY name` (or `DROP CONSTRAINT name`, which drops a foreign
    /// key of that name too); a name gonogo does not know changes nothing.
    pub fn drop_foreign_key(&mut self, key: &str, name: &str) {
        let name = name.trim_matches('`').to_lowercase();
        if let Some(info) = self.tables.get_mut(key) {
            info.foreign_keys.retain(|fk| fk.name != name);
        }
    }

    /// The first foreign key of the table with a cascading action (ON … CASCADE / SET NULL).
    pub fn cascading_foreign_key(&self, key: &str) -> Option<&ForeignKey> {
        self.tables
            .get(key)?
            .foreign_keys
            .iter()
            .find(|fk| fk.cascade.is_some())
    }

    /// The tables with a foreign key that references `key` (other than itself), sorted.
    pub fn children_of(&self, key: &str) -> Vec<String> {
        let mut children: Vec<String> = self
            .tables
            .iter()
            .filter(|(child, info)| {
                child.as_str() != key && info.foreign_keys.iter().any(|fk| fk.parent == key)
            })
            .map(|(child, _)| child.clone())
            .collect();
        children.sort();
        children
    }

    pub fn drop_table(&mut self, key: &str) {
        self.created_in_file.remove(key);
        self.tables.remove(key);
    }

    /// RENAME TABLE / ALTER TABLE … RENAME TO: the schema and the "new in this file" mark move.
    pub fn move_table(&mut self, old: &TableRef, new: &TableRef) {
        if old.key == new.key {
            return;
        }
        if let Some(info) = self.tables.remove(&old.key) {
            self.tables.insert(new.key.clone(), info);
        } else {
            self.tables.remove(&new.key);
        }
        // InnoDB points the foreign keys that reference a renamed table at its new name.
        for info in self.tables.values_mut() {
            for fk in &mut info.foreign_keys {
                if fk.parent == old.key {
                    fk.parent = new.key.clone();
                }
            }
        }
        if self.created_in_file.remove(&old.key) {
            self.created_in_file.insert(new.key.clone());
        } else {
            self.created_in_file.remove(&new.key);
        }
    }

    pub fn rename_column(&mut self, key: &str, old: &str, new: &str) {
        if let Some(info) = self.tables.get_mut(key)
            && let Some(column) = info.columns.remove(&old.to_lowercase())
        {
            info.columns.insert(new.to_lowercase(), column);
        }
    }

    pub fn drop_column(&mut self, key: &str, column: &str) {
        if let Some(info) = self.tables.get_mut(key) {
            info.columns.remove(&column.to_lowercase());
        }
    }

    /// A column (re)defined by MODIFY / CHANGE: its own character set, else the table's.
    pub fn set_column(&mut self, key: &str, name: &str, ty: &DataType, props: &Props) {
        let info = self.table_mut(key);
        let charset = props.charset.clone().or_else(|| info.charset.clone());
        info.columns.insert(
            name.to_lowercase(),
            Column {
                ty: ty.clone(),
                nullable: props.nullable(),
                charset,
            },
        );
    }

    /// A column added by ADD COLUMN: its own character set, else `table_charset` (the table's
    /// before the statement).
    pub fn add_column(
        &mut self,
        key: &str,
        name: &str,
        ty: &DataType,
        props: &Props,
        table_charset: Option<String>,
    ) {
        let charset = props.charset.clone().or(table_charset);
        self.table_mut(key).columns.insert(
            name.to_lowercase(),
            Column {
                ty: ty.clone(),
                nullable: props.nullable(),
                charset,
            },
        );
    }
}

impl Table {
    /// Primary key columns are NOT NULL.
    pub fn primary_key(&mut self, columns: &[IndexColumn]) {
        for column in columns {
            if let Some(c) = self.columns.get_mut(
                &column
                    .column
                    .expr
                    .to_string()
                    .trim_matches('`')
                    .to_lowercase(),
            ) {
                c.nullable = false;
            }
        }
    }
}

/// `DEFAULT CHARSET=…` / `CHARACTER SET …` of a CREATE TABLE.
fn table_charset(options: &CreateTableOptions) -> Option<String> {
    let list = match options {
        CreateTableOptions::Plain(list)
        | CreateTableOptions::With(list)
        | CreateTableOptions::Options(list)
        | CreateTableOptions::TableProperties(list) => list,
        CreateTableOptions::None => return None,
    };
    list.iter().find_map(|option| match option {
        SqlOption::KeyValue { key, value } => {
            let key = key.to_string().to_ascii_uppercase();
            (key.contains("CHARSET") || key.contains("CHARACTER SET"))
                .then(|| normalize_charset(&value.to_string()))
        }
        _ => None,
    })
}
