//! What a CREATE TABLE, an ADD COLUMN, an ADD CONSTRAINT or a CREATE INDEX defines, read from
//! the parse tree into the [`Schema`](crate::sql::postgres::schema::Schema)'s terms: a column's
//! type, NOT NULL and default, a constraint's definition and columns, an index's columns and
//! definition. The walk in `follow.rs` and `alter_table.rs` stores them.
//!
//! Constraints and indexes without a name get the name PostgreSQL generates for the common
//! cases (ChooseConstraintName / ChooseIndexName: `<table>_pkey`, `<table>_<column>_key`,
//! `<table>_<column>_fkey`, `<table>_<column>_check`, `<table>_<column>_idx`).

use super::changes::index_columns;
use crate::sql::postgres::ast::{column_type, table_of};
use crate::sql::postgres::schema::{
    Column, Constraint, Expression, Index, IndexDefinition, IndexElement, Table,
};
use crate::sql::postgres::strings;
use pg_query::protobuf::{self, ConstrType};
use pg_query::{NodeEnum, NodeRef};

/// A column with the constraints written on it, named.
pub(super) type DefinedColumn = (String, Column, Vec<(String, Constraint)>);

/// `CREATE TABLE name (…)`: its columns and constraints. A table PRIMARY KEY makes its columns
/// NOT NULL.
pub(super) fn created_table(name: &str, stmt: &protobuf::CreateStmt) -> Table {
    let mut table = Table {
        created: true,
        ..Table::default()
    };
    for element in &stmt.table_elts {
        match element.node.as_ref() {
            Some(NodeEnum::ColumnDef(def)) => {
                let (column, defined, constraints) = column(name, def);
                table.columns.insert(column, defined);
                table.constraints.extend(constraints);
            }
            Some(NodeEnum::Constraint(constraint)) => {
                if let Some((constraint_name, constraint)) = table_constraint(name, constraint) {
                    if constraint.written.starts_with("PRIMARY KEY") {
                        for column in &constraint.columns {
                            if let Some(c) = table.columns.get_mut(column) {
                                c.not_null = Some(true);
                            }
                        }
                    }
                    table.constraints.insert(constraint_name, constraint);
                }
            }
            _ => {}
        }
    }
    table
}

/// A column definition (CREATE TABLE or ADD COLUMN) of `table`: its name (lower-cased), what
/// it is, and the constraints written on it. An identity column is NOT NULL (PostgreSQL adds
/// the constraint), and so is a PRIMARY KEY column.
pub(super) fn column(table: &str, def: &protobuf::ColumnDef) -> DefinedColumn {
    let name = def.colname.to_lowercase();
    let mut column = Column {
        ty: def.type_name.as_ref().map(column_type),
        not_null: Some(false),
        default: None,
        defined: true,
    };
    let mut constraints = Vec::new();
    for constraint in &def.constraints {
        let Some(NodeEnum::Constraint(constraint)) = constraint.node.as_ref() else {
            continue;
        };
        match constraint.contype() {
            ConstrType::ConstrNotnull => column.not_null = Some(true),
            ConstrType::ConstrNull => column.not_null = Some(false),
            ConstrType::ConstrDefault => {
                column.default = constraint
                    .raw_expr
                    .as_deref()
                    .and_then(|e| e.node.as_ref())
                    .map(Expression::new);
            }
            ConstrType::ConstrIdentity => {
                column.not_null = Some(true);
                column.default = Some(Expression::written("identity"));
            }
            ConstrType::ConstrPrimary => {
                column.not_null = Some(true);
                constraints.extend(named(table, constraint, vec![name.clone()]));
            }
            ConstrType::ConstrUnique | ConstrType::ConstrForeign | ConstrType::ConstrCheck => {
                constraints.extend(named(table, constraint, vec![name.clone()]));
            }
            _ => {}
        }
    }
    (name, column, constraints)
}

/// A table constraint (CREATE TABLE's or ADD CONSTRAINT's), named, with the columns it is on.
pub(super) fn table_constraint(
    table: &str,
    constraint: &protobuf::Constraint,
) -> Option<(String, Constraint)> {
    let keys = match constraint.contype() {
        ConstrType::ConstrForeign => &constraint.fk_attrs,
        _ => &constraint.keys,
    };
    let mut columns: Vec<String> = strings(keys).map(str::to_lowercase).collect();
    if columns.is_empty()
        && let Some(expr) = constraint.raw_expr.as_deref().and_then(|e| e.node.as_ref())
    {
        // A CHECK's columns: the column references in its expression.
        columns = referenced_columns(expr);
    }
    named(table, constraint, columns)
}

/// The columns an expression references (the last name of each column reference), lower-cased.
fn referenced_columns(expr: &NodeEnum) -> Vec<String> {
    let mut out = Vec::new();
    for (node, ..) in expr.nodes() {
        if let NodeRef::ColumnRef(column) = node
            && let Some(name) = strings(&column.fields).next_back()
        {
            out.push(name.to_lowercase());
        }
    }
    out
}

fn named(
    table: &str,
    constraint: &protobuf::Constraint,
    columns: Vec<String>,
) -> Option<(String, Constraint)> {
    let (kind, suffix) = match constraint.contype() {
        ConstrType::ConstrPrimary => ("PRIMARY KEY", "pkey"),
        ConstrType::ConstrUnique => ("UNIQUE", "key"),
        ConstrType::ConstrForeign => ("FOREIGN KEY", "fkey"),
        ConstrType::ConstrCheck => ("CHECK", "check"),
        ConstrType::ConstrExclusion => ("EXCLUDE", "excl"),
        _ => return None,
    };
    let name = if !constraint.conname.is_empty() {
        constraint.conname.to_lowercase()
    } else if suffix == "pkey" || columns.is_empty() {
        format!("{table}_{suffix}")
    } else {
        format!("{table}_{}_{suffix}", columns[0])
    };
    let (written, check) = match constraint.contype() {
        ConstrType::ConstrCheck => (
            "CHECK".to_string(),
            Some(
                constraint
                    .raw_expr
                    .as_deref()
                    .and_then(|e| e.node.as_ref())
                    .map(Expression::new)
                    .unwrap_or_else(|| Expression::written("")),
            ),
        ),
        ConstrType::ConstrForeign => (
            format!(
                "FOREIGN KEY ({}) REFERENCES {}",
                columns.join(", "),
                table_of(&constraint.pktable)
            ),
            None,
        ),
        _ => (format!("{kind} ({})", columns.join(", ")), None),
    };
    let constraint = Constraint {
        written,
        check,
        columns,
    };
    Some((name, constraint))
}

/// `CREATE INDEX`: its name (PostgreSQL's generated one when none is given) and the index.
pub(super) fn index(table: &str, stmt: &protobuf::IndexStmt) -> (String, Index) {
    let elements: Vec<IndexElement> = stmt
        .index_params
        .iter()
        .filter_map(|p| match p.node.as_ref() {
            Some(NodeEnum::IndexElem(elem)) if !elem.name.is_empty() => {
                Some(IndexElement::Column(elem.name.to_lowercase()))
            }
            Some(NodeEnum::IndexElem(elem)) => elem
                .expr
                .as_ref()
                .and_then(|e| e.node.as_ref())
                .map(|e| IndexElement::Expression(Expression::new(e))),
            _ => None,
        })
        .collect();
    let name = if stmt.idxname.is_empty() {
        let parts: Vec<&str> = elements.iter().map(IndexElement::text).collect();
        format!("{table}_{}_idx", parts.join("_"))
    } else {
        stmt.idxname.to_lowercase()
    };
    let method = (!stmt.access_method.is_empty() && stmt.access_method != "btree")
        .then(|| stmt.access_method.clone());
    let predicate = stmt
        .where_clause
        .as_ref()
        .and_then(|f| f.node.as_ref())
        .map(Expression::new);
    let index = Index {
        table: table.to_string(),
        columns: index_columns(stmt),
        definition: IndexDefinition {
            unique: stmt.unique,
            table: table.to_string(),
            elements,
            method,
            predicate,
        },
    };
    (name, index)
}
