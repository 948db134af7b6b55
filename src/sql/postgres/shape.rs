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
use super::{FollowOptions, follow_file, follow_sql};
use crate::config::TransactionMode;
use crate::sql::files::MigrationFile;
use std::collections::BTreeMap;

/// A migration set's ups followed in order over a schema of its own, with downs tried on a
/// copy: what `rollback` compares. Downs are no part of the set's cached facts
/// ([`crate::sql::followed`]), so this walk is separate; it is the same follower, and the shape
/// does not depend on the server version (which only decides locks and rewrites).
pub struct Replay {
    schema: Schema,
    options: FollowOptions,
}

impl Replay {
    pub fn new(transaction: TransactionMode, deploy_is_known: bool) -> Replay {
        Replay {
            schema: Schema::new(deploy_is_known),
            options: FollowOptions {
                transaction,
                postgres_version: crate::config::DEFAULT_POSTGRES_VERSION,
                deploy_is_known,
            },
        }
    }

    /// The next file's up section.
    pub fn up(&mut self, file: &MigrationFile) {
        follow_file(&mut self.schema, file, self.options);
    }

    /// What the migrations created, as the ups so far left it.
    pub fn shape(&self) -> Shape {
        self.schema.shape()
    }

    /// The shape after `sql` (a down at `path`) runs on what the ups so far left, which stays
    /// as it is; `None` when a statement of the down cannot be read (its effect is unknown).
    pub fn after(&self, path: &str, sql: &str) -> Option<Shape> {
        let mut schema = self.schema.clone();
        let facts = follow_sql(&mut schema, path, sql, self.options);
        (facts.unread == 0).then(|| schema.shape())
    }
}

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
                            ty: column
                                .ty
                                .as_ref()
                                .map(|t| t.to_string())
                                .unwrap_or_default(),
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

#[cfg(test)]
mod tests {
    use crate::config::TransactionMode;
    use crate::sql::postgres::schema::Schema;
    use crate::sql::postgres::{FollowOptions, follow_sql};

    fn follow(schema: &mut Schema, sql: &str) {
        let options = FollowOptions {
            transaction: TransactionMode::PerFile,
            postgres_version: 15,
            deploy_is_known: true,
        };
        let facts = follow_sql(schema, "m.sql", sql, options);
        assert_eq!(facts.unread, 0, "{sql}");
    }

    fn followed(sql: &str) -> Schema {
        let mut schema = Schema::new(true);
        follow(&mut schema, sql);
        schema
    }

    #[test]
    fn a_down_that_undoes_its_up_leaves_no_difference() {
        let mut schema =
            followed("CREATE TABLE orders (id bigint PRIMARY KEY, total int NOT NULL DEFAULT 0);");
        let before = schema.shape();
        follow(
            &mut schema,
            "ALTER TABLE orders ADD COLUMN note text DEFAULT 'x';\n\
             CREATE UNIQUE INDEX orders_note_idx ON orders (note);\n\
             ALTER TABLE orders ALTER COLUMN total DROP DEFAULT;",
        );
        assert_eq!(before.differences(&schema.shape()).len(), 3);
        follow(
            &mut schema,
            "DROP INDEX orders_note_idx;\nALTER TABLE orders DROP COLUMN note;\n\
             ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0;",
        );
        assert_eq!(before.differences(&schema.shape()), Vec::<String>::new());
    }

    #[test]
    fn a_renamed_enum_value_renames_the_defaults_that_hold_it() {
        // PostgreSQL keeps an enum default by the value's identity: after RENAME VALUE,
        // pg_get_expr shows the new label, and a down that sets the new label back matches.
        let mut schema = followed(
            "CREATE TYPE mode AS ENUM ('require_application', 'open');\n\
             CREATE TABLE site (id int PRIMARY KEY, mode mode NOT NULL DEFAULT 'require_application',\n\
               other mode DEFAULT 'open'::mode);\n\
             ALTER TYPE mode RENAME VALUE 'require_application' TO 'RequireApplication';",
        );
        let before = schema.shape();
        follow(
            &mut schema,
            "ALTER TABLE site ALTER COLUMN mode SET DEFAULT 'open';",
        );
        follow(
            &mut schema,
            "ALTER TABLE site ALTER COLUMN mode SET DEFAULT 'RequireApplication';",
        );
        assert_eq!(before.differences(&schema.shape()), Vec::<String>::new());
        follow(
            &mut schema,
            "ALTER TYPE mode RENAME VALUE 'open' TO 'Open';\n\
             ALTER TABLE site ALTER COLUMN other SET DEFAULT 'Open'::mode;",
        );
        // Against the shape before that rename, both show the new label, as pg_get_expr and
        // pg_enum would.
        assert_eq!(
            before.differences(&schema.shape()),
            vec![
                "column site.other has default 'Open'::mode instead of 'open'::mode",
                "enum type mode has values (RequireApplication, Open) instead of (RequireApplication, open)",
            ]
        );
    }

    #[test]
    fn differences_name_what_changed() {
        let mut schema = followed(
            "CREATE TABLE t (id int PRIMARY KEY, a varchar(10) NOT NULL, b text);\n\
             CREATE INDEX ON t (b);",
        );
        let before = schema.shape();
        follow(
            &mut schema,
            "ALTER TABLE t ALTER COLUMN a TYPE text, ALTER COLUMN a DROP NOT NULL;\n\
             ALTER TABLE t DROP COLUMN b;\nALTER TABLE t ADD COLUMN b text;\n\
             CREATE TABLE extra (x int);",
        );
        assert_eq!(
            before.differences(&schema.shape()),
            vec![
                "column t.a is text instead of varchar(10)",
                "column t.a is no longer NOT NULL",
                "table extra is left behind",
                "index t_b_idx (ON t (b)) is gone",
            ]
        );
    }

    #[test]
    fn an_index_qualified_by_its_table_name_is_not_dropped() {
        let mut schema = followed(
            "CREATE TABLE codes (id int, flow_id int);\nCREATE INDEX codes_flow_idx ON codes (flow_id);",
        );
        follow(&mut schema, "DROP INDEX IF EXISTS codes.codes_flow_idx;");
        assert!(schema.index("codes_flow_idx").is_some());
        follow(&mut schema, "DROP INDEX IF EXISTS public.codes_flow_idx;");
        assert!(schema.index("codes_flow_idx").is_none());
    }

    /// The facts the lock rules read and the ones rollback compares are the same facts: a
    /// column's type, NOT NULL and default, its constraints and indexes follow a rename and go
    /// with a dropped column.
    #[test]
    fn renames_and_drops_carry_every_fact_of_a_column() {
        let mut schema = followed(
            "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY, a int CHECK (a > 0) DEFAULT 1);\n\
             CREATE INDEX t_a ON t (lower(a::text));",
        );
        assert_eq!(schema.not_null("t", "id"), Some(true));
        follow(&mut schema, "ALTER TABLE t RENAME COLUMN a TO b;");
        let column = schema.column("t", "b").unwrap();
        assert_eq!(column.ty.as_ref().unwrap().name, "int4");
        assert_eq!(column.default.as_ref().unwrap().text(), "1");
        assert!(schema.column_is_indexed("t", "b"));
        assert_eq!(
            schema.table("t").unwrap().constraints["t_a_check"].columns,
            ["b"]
        );
        follow(&mut schema, "ALTER TABLE t DROP COLUMN b;");
        assert!(schema.index("t_a").is_none());
        assert!(schema.table("t").unwrap().constraints.is_empty());
    }

    #[test]
    fn an_up_that_adds_nothing_has_the_same_shape() {
        let mut schema = followed("CREATE TABLE t (id int);\nCREATE TYPE s AS ENUM ('a');");
        let before = schema.shape();
        follow(
            &mut schema,
            "UPDATE t SET id = 1;\nCREATE INDEX IF NOT EXISTS t_id ON t (id);",
        );
        assert_ne!(before, schema.shape());
        let before = schema.shape();
        follow(
            &mut schema,
            "CREATE INDEX IF NOT EXISTS t_id ON t (id, id);\nINSERT INTO t VALUES (1);",
        );
        assert_eq!(before, schema.shape());
    }
}
