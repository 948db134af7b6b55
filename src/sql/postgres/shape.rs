//! A comparable view of the [`Schema`]: what `rollback` compares to tell whether a down
//! migration puts back what its up changed (follow the up, then the down, and compare with the
//! shape before). It holds no walk of its own: [`Schema::shape`] reads the one model
//! [`super::follow`] keeps.
//!
//! Only what the migrations created is compared: tables made by a CREATE TABLE of theirs (a
//! table made outside them is known only in part), the columns they defined (type, NOT NULL,
//! default), each table's constraints, the indexes and the enum types. Constraints and indexes
//! without a name have the name PostgreSQL generates for the common cases (`<table>_pkey`,
//! `<table>_<column>_key`, `<table>_<column>_fkey`, `<table>_<column>_idx`), so an up that drops
//! `orders_pkey` and a down that adds `PRIMARY KEY (id)` meet.

use super::schema::Schema;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    pub tables: BTreeMap<String, Table>,
    pub indexes: BTreeMap<String, Index>,
    /// Enum type → its values, in order.
    pub enums: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: BTreeMap<String, Column>,
    pub constraints: BTreeMap<String, Constraint>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// As people write it (`bigint`, `varchar(64)`).
    pub ty: String,
    pub not_null: bool,
    /// The default expression, deparsed.
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    /// `PRIMARY KEY (id)`, `CHECK (total >= 0)`, …
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub table: String,
    /// `UNIQUE ON orders (email)`, `ON orders (customer_id, created_at) WHERE …`.
    pub definition: String,
}

impl Schema {
    /// The shape of what the migrations created, as it stands.
    pub fn shape(&self) -> Shape {
        let tables = self
            .tables()
            .filter(|(_, table)| table.created)
            .map(|(name, table)| {
                let columns = table
                    .columns
                    .iter()
                    .filter(|(_, column)| column.defined)
                    .map(|(name, column)| {
                        let shown = Column {
                            ty: column.ty.as_ref().map(|t| t.to_string()).unwrap_or_default(),
                            not_null: column.not_null.unwrap_or(false),
                            default: column.default.as_ref().map(|d| d.text().to_string()),
                        };
                        (name.clone(), shown)
                    })
                    .collect();
                let constraints = table
                    .constraints
                    .iter()
                    .map(|(name, c)| {
                        let definition = c.definition();
                        (name.clone(), Constraint { definition })
                    })
                    .collect();
                let shown = Table {
                    columns,
                    constraints,
                };
                (name.clone(), shown)
            })
            .collect();
        let indexes = self
            .indexes()
            .map(|(name, index)| {
                let shown = Index {
                    table: index.table.clone(),
                    definition: index.definition.text(),
                };
                (name.clone(), shown)
            })
            .collect();
        let enums = self
            .enums
            .iter()
            .map(|(name, values)| (name.clone(), values.clone()))
            .collect();
        Shape {
            tables,
            indexes,
            enums,
        }
    }
}

impl Shape {
    pub fn differences(&self, after: &Shape) -> Vec<String> {
        let mut out = Vec::new();
        for (name, table) in &self.tables {
            let Some(now) = after.tables.get(name) else {
                out.push(format!("table {name} is gone"));
                continue;
            };
            for (column, was) in &table.columns {
                match now.columns.get(column) {
                    None => out.push(format!("column {name}.{column} is gone")),
                    Some(is) => column_differences(name, column, was, is, &mut out),
                }
            }
            for column in now.columns.keys() {
                if !table.columns.contains_key(column) {
                    out.push(format!("column {name}.{column} is left behind"));
                }
            }
            keyed_differences(
                "constraint",
                &format!(" on {name}"),
                &table.constraints,
                &now.constraints,
                |c| &c.definition,
                &mut out,
            );
        }
        for name in after.tables.keys() {
            if !self.tables.contains_key(name) {
                out.push(format!("table {name} is left behind"));
            }
        }
        // Indexes of a table gone or left behind went or stay with it: said once, above.
        let on_both = |index: &Index| {
            self.tables.contains_key(&index.table) && after.tables.contains_key(&index.table)
        };
        let kept = |indexes: &BTreeMap<String, Index>| -> BTreeMap<String, Index> {
            indexes
                .iter()
                .filter(|(_, index)| on_both(index))
                .map(|(name, index)| (name.clone(), index.clone()))
                .collect()
        };
        keyed_differences(
            "index",
            "",
            &kept(&self.indexes),
            &kept(&after.indexes),
            |i| &i.definition,
            &mut out,
        );
        for (name, values) in &self.enums {
            match after.enums.get(name) {
                None => out.push(format!("enum type {name} is gone")),
                // Values added and left are not a difference: PostgreSQL has no ALTER TYPE …
                // DROP VALUE, so no down can take one away, and the previous version never
                // writes a value it does not know.
                Some(now) if values.iter().any(|v| !now.contains(v)) => out.push(format!(
                    "enum type {name} has values ({}) instead of ({})",
                    now.join(", "),
                    values.join(", ")
                )),
                Some(_) => {}
            }
        }
        for name in after.enums.keys() {
            if !self.enums.contains_key(name) {
                out.push(format!("enum type {name} is left behind"));
            }
        }
        out
    }
}

fn column_differences(table: &str, column: &str, was: &Column, is: &Column, out: &mut Vec<String>) {
    if was.ty != is.ty {
        out.push(format!(
            "column {table}.{column} is {} instead of {}",
            is.ty, was.ty
        ));
    }
    if was.not_null != is.not_null {
        out.push(format!(
            "column {table}.{column} {} NOT NULL",
            if was.not_null {
                "is no longer"
            } else {
                "is now"
            }
        ));
    }
    if was.default != is.default {
        let shown = |d: &Option<String>| d.clone().unwrap_or_else(|| "none".to_string());
        out.push(format!(
            "column {table}.{column} has default {} instead of {}",
            shown(&is.default),
            shown(&was.default)
        ));
    }
}

/// `on`: where the objects are (` on orders`), after their name.
fn keyed_differences<T>(
    what: &str,
    on: &str,
    before: &BTreeMap<String, T>,
    after: &BTreeMap<String, T>,
    definition: impl Fn(&T) -> &String,
    out: &mut Vec<String>,
) {
    for (name, was) in before {
        match after.get(name) {
            None => out.push(format!("{what} {name}{on} ({}) is gone", definition(was))),
            Some(is) if definition(is) != definition(was) => out.push(format!(
                "{what} {name}{on} is {} instead of {}",
                definition(is),
                definition(was)
            )),
            Some(_) => {}
        }
    }
    for (name, is) in after {
        if !before.contains_key(name) {
            out.push(format!(
                "{what} {name}{on} ({}) is left behind",
                definition(is)
            ));
        }
    }
}

