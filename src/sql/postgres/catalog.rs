//! The shape of a PostgreSQL schema as migrations leave it: tables with their columns (type,
//! NOT NULL, default), constraints and indexes, and enum types with their values, followed
//! statement by statement. `rollback` reads it to tell whether a down migration puts back what
//! its up changed (follow the up, then the down, and compare with the schema before) and
//! whether an up takes enum values away.
//!
//! Names are matched lower-cased without schema, as in [`super::schema`]. Constraints and
//! indexes without a name get the name PostgreSQL generates for the common cases
//! (`<table>_pkey`, `<table>_<column>_key`, `<table>_<column>_fkey`, `<table>_<column>_idx`), so
//! an up that drops `orders_pkey` and a down that adds `PRIMARY KEY (id)` meet.

use super::ast::{column_type, last_name, object_name, table_of};
use super::{Origin, Statement, strings};
use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableType, ConstrType, ObjectType};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
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
    /// The columns it is on: dropping one of them drops the constraint (PostgreSQL's
    /// ALTER TABLE … DROP COLUMN drops the indexes and constraints that involve the column).
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub table: String,
    /// `UNIQUE (email)`, `(customer_id, created_at) WHERE …`.
    pub definition: String,
    pub columns: Vec<String>,
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

impl Catalog {
    /// Follow every statement of a parsed file (top level and DO blocks: what runs now).
    /// Returns the enum narrowings they make.
    pub fn follow(&mut self, statements: &[Statement]) -> Vec<EnumValuesLost> {
        let mut lost = Vec::new();
        for statement in statements {
            if matches!(statement.origin, Origin::Function(_)) {
                continue;
            }
            if let Ok(node) = &statement.node {
                self.apply(node, &mut lost);
            }
        }
        lost
    }

    /// One statement.
    pub fn apply(&mut self, node: &NodeEnum, lost: &mut Vec<EnumValuesLost>) {
        match node {
            NodeEnum::CreateStmt(stmt) => self.create_table(stmt),
            NodeEnum::CreateTableAsStmt(stmt) => {
                if let Some(into) = &stmt.into {
                    self.tables.entry(table_of(&into.rel)).or_default();
                }
            }
            NodeEnum::AlterTableStmt(stmt) => {
                if stmt.objtype() != ObjectType::ObjectTable
                    && stmt.objtype() != ObjectType::Undefined
                {
                    return;
                }
                let table = table_of(&stmt.relation);
                for cmd in &stmt.cmds {
                    if let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() {
                        self.alter_table(&table, cmd, lost);
                    }
                }
            }
            NodeEnum::IndexStmt(stmt) => self.create_index(stmt),
            NodeEnum::RenameStmt(stmt) => self.rename(stmt),
            NodeEnum::DropStmt(stmt) => self.drop(stmt),
            NodeEnum::CreateEnumStmt(stmt) => {
                let values = strings(&stmt.vals).map(str::to_string).collect();
                self.enums.insert(last_name(&stmt.type_name), values);
            }
            NodeEnum::AlterEnumStmt(stmt) => {
                let values = self.enums.entry(last_name(&stmt.type_name)).or_default();
                if !stmt.old_val.is_empty() {
                    for value in values.iter_mut() {
                        if *value == stmt.old_val {
                            value.clone_from(&stmt.new_val);
                        }
                    }
                } else if !values.contains(&stmt.new_val) {
                    values.push(stmt.new_val.clone());
                }
            }
            _ => {}
        }
    }

    fn create_table(&mut self, stmt: &protobuf::CreateStmt) {
        let name = table_of(&stmt.relation);
        if stmt.if_not_exists && self.tables.contains_key(&name) {
            return;
        }
        let mut table = Table::default();
        for element in &stmt.table_elts {
            match element.node.as_ref() {
                Some(NodeEnum::ColumnDef(def)) => add_column(&name, &mut table, def),
                Some(NodeEnum::Constraint(constraint)) => {
                    add_table_constraint(&name, &mut table, constraint)
                }
                _ => {}
            }
        }
        self.tables.insert(name, table);
    }

    fn alter_table(
        &mut self,
        name: &str,
        cmd: &protobuf::AlterTableCmd,
        lost: &mut Vec<EnumValuesLost>,
    ) {
        let column = cmd.name.to_lowercase();
        let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
        let enums = self.enums.clone();
        let Some(table) = self.tables.get_mut(name) else {
            // A table the migrations never created (made outside them): nothing to follow.
            return;
        };
        match (cmd.subtype(), def) {
            // `ADD COLUMN IF NOT EXISTS` (missing_ok) of a column already there does nothing.
            (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(def)))
                if !(cmd.missing_ok && table.columns.contains_key(&def.colname.to_lowercase())) =>
            {
                add_column(name, table, def);
            }
            (AlterTableType::AtDropColumn, _) => {
                table.columns.remove(&column);
                table
                    .constraints
                    .retain(|_, c| !c.columns.contains(&column));
                self.indexes
                    .retain(|_, index| !(index.table == name && index.columns.contains(&column)));
            }
            (AlterTableType::AtAlterColumnType, Some(NodeEnum::ColumnDef(def))) => {
                let Some(ty) = def.type_name.as_ref().map(|t| column_type(t).to_string()) else {
                    return;
                };
                if let Some(existing) = table.columns.get_mut(&column) {
                    if let (Some(from), Some(to)) = (enums.get(&existing.ty), enums.get(&ty)) {
                        let gone: Vec<String> =
                            from.iter().filter(|v| !to.contains(v)).cloned().collect();
                        if !gone.is_empty() {
                            lost.push(EnumValuesLost {
                                table: name.to_string(),
                                column: column.clone(),
                                from: existing.ty.clone(),
                                to: ty.clone(),
                                lost: gone,
                            });
                        }
                    }
                    existing.ty = ty;
                }
            }
            (AlterTableType::AtSetNotNull, _) => {
                if let Some(existing) = table.columns.get_mut(&column) {
                    existing.not_null = true;
                }
            }
            (AlterTableType::AtDropNotNull, _) => {
                if let Some(existing) = table.columns.get_mut(&column) {
                    existing.not_null = false;
                }
            }
            (AlterTableType::AtColumnDefault, _) => {
                if let Some(existing) = table.columns.get_mut(&column) {
                    existing.default = def.map(expression);
                }
            }
            (AlterTableType::AtAddConstraint, Some(NodeEnum::Constraint(constraint))) => {
                add_table_constraint(name, table, constraint);
            }
            (AlterTableType::AtDropConstraint, _) => {
                table.constraints.remove(&cmd.name.to_lowercase());
            }
            _ => {}
        }
    }

    fn create_index(&mut self, stmt: &protobuf::IndexStmt) {
        let table = table_of(&stmt.relation);
        let columns: Vec<String> = stmt
            .index_params
            .iter()
            .filter_map(|p| match p.node.as_ref() {
                Some(NodeEnum::IndexElem(elem)) if !elem.name.is_empty() => {
                    Some(elem.name.to_lowercase())
                }
                Some(NodeEnum::IndexElem(elem)) => elem
                    .expr
                    .as_ref()
                    .and_then(|e| e.node.as_ref())
                    .map(expression),
                _ => None,
            })
            .collect();
        let name = if stmt.idxname.is_empty() {
            format!("{table}_{}_idx", columns.join("_"))
        } else {
            stmt.idxname.to_lowercase()
        };
        if stmt.if_not_exists && self.indexes.contains_key(&name) {
            return;
        }
        let mut definition = format!(
            "{}ON {table} ({})",
            if stmt.unique { "UNIQUE " } else { "" },
            columns.join(", ")
        );
        if !stmt.access_method.is_empty() && stmt.access_method != "btree" {
            definition.push_str(&format!(" USING {}", stmt.access_method));
        }
        if let Some(filter) = stmt.where_clause.as_ref().and_then(|f| f.node.as_ref()) {
            definition.push_str(&format!(" WHERE {}", expression(filter)));
        }
        self.indexes.insert(
            name,
            Index {
                table,
                definition,
                columns,
            },
        );
    }

    fn rename(&mut self, stmt: &protobuf::RenameStmt) {
        let table = table_of(&stmt.relation);
        let new = stmt.newname.to_lowercase();
        match stmt.rename_type() {
            ObjectType::ObjectTable => {
                if let Some(moved) = self.tables.remove(&table) {
                    self.tables.insert(new.clone(), moved);
                    for index in self.indexes.values_mut() {
                        if index.table == table {
                            index.table.clone_from(&new);
                        }
                    }
                }
            }
            ObjectType::ObjectColumn => {
                let old = stmt.subname.to_lowercase();
                if let Some(t) = self.tables.get_mut(&table)
                    && let Some(column) = t.columns.remove(&old)
                {
                    t.columns.insert(new.clone(), column);
                    for constraint in t.constraints.values_mut() {
                        rename_in(&mut constraint.columns, &old, &new);
                    }
                    for index in self.indexes.values_mut() {
                        if index.table == table {
                            rename_in(&mut index.columns, &old, &new);
                        }
                    }
                }
            }
            ObjectType::ObjectTabconstraint => {
                if let Some(t) = self.tables.get_mut(&table)
                    && let Some(constraint) = t.constraints.remove(&stmt.subname.to_lowercase())
                {
                    t.constraints.insert(new, constraint);
                }
            }
            ObjectType::ObjectIndex => {
                // `ALTER INDEX old RENAME TO new`: the relation is the index.
                if let Some(index) = self.indexes.remove(&table) {
                    self.indexes.insert(new, index);
                }
            }
            ObjectType::ObjectType => {
                let old = stmt.object.as_deref().map(object_name).unwrap_or_default();
                if let Some(values) = self.enums.remove(&old) {
                    self.enums.insert(new.clone(), values);
                    // Columns keep their type (by oid): they now show its new name.
                    for t in self.tables.values_mut() {
                        for column in t.columns.values_mut() {
                            if column.ty == old {
                                column.ty.clone_from(&new);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn drop(&mut self, stmt: &protobuf::DropStmt) {
        for object in &stmt.objects {
            let name = object_name(object);
            match stmt.remove_type() {
                ObjectType::ObjectTable => {
                    self.tables.remove(&name);
                    self.indexes.retain(|_, index| index.table != name);
                }
                ObjectType::ObjectIndex => {
                    // `DROP INDEX orders.orders_total_idx` names a schema `orders`, not the
                    // table: PostgreSQL finds no such index there (and with IF EXISTS only
                    // says so in a NOTICE). MySQL's `table.index` habit, drops nothing here.
                    if qualifier(object).is_some_and(|q| self.tables.contains_key(&q)) {
                        continue;
                    }
                    self.indexes.remove(&name);
                }
                ObjectType::ObjectType => {
                    self.enums.remove(&name);
                }
                _ => {}
            }
        }
    }

    /// What differs between this catalog (`before`) and `after`, one sentence each, in a
    /// stable order: tables, their columns and constraints, indexes, enums.
    pub fn differences(&self, after: &Catalog) -> Vec<String> {
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

/// The first part of a qualified name (`a.b` → `a`), lower-cased.
fn qualifier(object: &protobuf::Node) -> Option<String> {
    match object.node.as_ref() {
        Some(NodeEnum::List(list)) if list.items.len() > 1 => {
            strings(&list.items).next().map(str::to_lowercase)
        }
        _ => None,
    }
}

fn rename_in(columns: &mut [String], old: &str, new: &str) {
    for column in columns {
        if column == old {
            *column = new.to_string();
        }
    }
}

fn add_column(table_name: &str, table: &mut Table, def: &protobuf::ColumnDef) {
    let name = def.colname.to_lowercase();
    let mut column = Column {
        ty: def
            .type_name
            .as_ref()
            .map(|t| column_type(t).to_string())
            .unwrap_or_default(),
        not_null: false,
        default: None,
    };
    for constraint in &def.constraints {
        let Some(NodeEnum::Constraint(constraint)) = constraint.node.as_ref() else {
            continue;
        };
        match constraint.contype() {
            ConstrType::ConstrNotnull => column.not_null = true,
            ConstrType::ConstrNull => column.not_null = false,
            ConstrType::ConstrDefault => {
                column.default = constraint
                    .raw_expr
                    .as_deref()
                    .and_then(|e| e.node.as_ref())
                    .map(expression)
            }
            ConstrType::ConstrIdentity => {
                column.not_null = true;
                column.default = Some("identity".to_string());
            }
            ConstrType::ConstrPrimary => {
                column.not_null = true;
                add_constraint(table_name, table, constraint, vec![name.clone()]);
            }
            ConstrType::ConstrUnique | ConstrType::ConstrForeign | ConstrType::ConstrCheck => {
                add_constraint(table_name, table, constraint, vec![name.clone()]);
            }
            _ => {}
        }
    }
    table.columns.insert(name, column);
}

fn add_table_constraint(table_name: &str, table: &mut Table, constraint: &protobuf::Constraint) {
    let keys = match constraint.contype() {
        ConstrType::ConstrForeign => &constraint.fk_attrs,
        _ => &constraint.keys,
    };
    let mut columns: Vec<String> = strings(keys).map(str::to_lowercase).collect();
    if columns.is_empty()
        && let Some(expr) = constraint.raw_expr.as_deref()
    {
        // A CHECK's columns: the column references in its expression.
        let text = format!("{expr:?}");
        for piece in text
            .split("ColumnRef { fields: [Node { node: Some(String(String { sval: \"")
            .skip(1)
        {
            if let Some(end) = piece.find('"') {
                columns.push(piece[..end].to_lowercase());
            }
        }
    }
    if constraint.contype() == ConstrType::ConstrPrimary {
        for column in &columns {
            if let Some(c) = table.columns.get_mut(column) {
                c.not_null = true;
            }
        }
    }
    add_constraint(table_name, table, constraint, columns);
}

fn add_constraint(
    table_name: &str,
    table: &mut Table,
    constraint: &protobuf::Constraint,
    columns: Vec<String>,
) {
    let (kind, suffix) = match constraint.contype() {
        ConstrType::ConstrPrimary => ("PRIMARY KEY", "pkey"),
        ConstrType::ConstrUnique => ("UNIQUE", "key"),
        ConstrType::ConstrForeign => ("FOREIGN KEY", "fkey"),
        ConstrType::ConstrCheck => ("CHECK", "check"),
        ConstrType::ConstrExclusion => ("EXCLUDE", "excl"),
        _ => return,
    };
    let name = if !constraint.conname.is_empty() {
        constraint.conname.to_lowercase()
    } else if suffix == "pkey" || columns.is_empty() {
        format!("{table_name}_{suffix}")
    } else {
        format!("{table_name}_{}_{suffix}", columns[0])
    };
    let definition = match constraint.contype() {
        ConstrType::ConstrCheck => format!(
            "CHECK ({})",
            constraint
                .raw_expr
                .as_deref()
                .and_then(|e| e.node.as_ref())
                .map(expression)
                .unwrap_or_default()
        ),
        ConstrType::ConstrForeign => format!(
            "FOREIGN KEY ({}) REFERENCES {}",
            columns.join(", "),
            table_of(&constraint.pktable)
        ),
        _ => format!("{kind} ({})", columns.join(", ")),
    };
    table.constraints.insert(
        name,
        Constraint {
            definition,
            columns,
        },
    );
}

/// An expression as PostgreSQL's deparser writes it (`now()`, `'draft'::text`), so that two
/// spellings of the same default compare equal; the Debug form when it cannot be deparsed.
fn expression(inner: &NodeEnum) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::postgres::parse;

    fn followed(sql: &str) -> Catalog {
        let mut catalog = Catalog::default();
        catalog.follow(&parse(sql));
        catalog
    }

    #[test]
    fn a_down_that_undoes_its_up_leaves_no_difference() {
        let before =
            followed("CREATE TABLE orders (id bigint PRIMARY KEY, total int NOT NULL DEFAULT 0);");
        let mut after = before.clone();
        after.follow(&parse(
            "ALTER TABLE orders ADD COLUMN note text DEFAULT 'x';\n\
             CREATE UNIQUE INDEX orders_note_idx ON orders (note);\n\
             ALTER TABLE orders ALTER COLUMN total DROP DEFAULT;",
        ));
        assert_eq!(before.differences(&after).len(), 3);
        after.follow(&parse(
            "DROP INDEX orders_note_idx;\nALTER TABLE orders DROP COLUMN note;\n\
             ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0;",
        ));
        assert_eq!(before.differences(&after), Vec::<String>::new());
    }

    #[test]
    fn differences_name_what_changed() {
        let before = followed(
            "CREATE TABLE t (id int PRIMARY KEY, a varchar(10) NOT NULL, b text);\n\
             CREATE INDEX ON t (b);",
        );
        let mut after = before.clone();
        after.follow(&parse(
            "ALTER TABLE t ALTER COLUMN a TYPE text, ALTER COLUMN a DROP NOT NULL;\n\
             ALTER TABLE t DROP COLUMN b;\nALTER TABLE t ADD COLUMN b text;\n\
             CREATE TABLE extra (x int);",
        ));
        assert_eq!(
            before.differences(&after),
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
        let mut catalog = followed(
            "CREATE TABLE codes (id int, flow_id int);\nCREATE INDEX codes_flow_idx ON codes (flow_id);",
        );
        catalog.follow(&parse("DROP INDEX IF EXISTS codes.codes_flow_idx;"));
        assert!(catalog.indexes.contains_key("codes_flow_idx"));
        catalog.follow(&parse("DROP INDEX IF EXISTS public.codes_flow_idx;"));
        assert!(catalog.indexes.is_empty());
    }

    #[test]
    fn a_recreated_enum_without_a_value_is_a_loss() {
        let mut catalog = followed(
            "CREATE TYPE status AS ENUM ('draft', 'paid', 'void');\n\
             CREATE TABLE invoices (id int, status status NOT NULL);",
        );
        let lost = catalog.follow(&parse(
            "ALTER TYPE status RENAME TO status_old;\n\
             CREATE TYPE status AS ENUM ('draft', 'paid');\n\
             ALTER TABLE invoices ALTER COLUMN status TYPE status USING status::text::status;\n\
             DROP TYPE status_old;",
        ));
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].lost, vec!["void".to_string()]);
        assert_eq!(lost[0].from, "status_old");
    }
}
