//! ORM models: which class maps to which table, and which columns its fields are.
//!
//! A model field is strong evidence (it is read and written on every load and save of the
//! model), and a model is a write of every column it declares, which is what a new NOT NULL
//! column without a default breaks. Each framework declares models its own way, so there is
//! one recogniser per framework family, each reading declaration patterns line by line, not a
//! grammar. They all produce the same [`Model`], and [`maps_to`] applies the framework's
//! default table name when the code names none.

mod diesel;
mod entity;
mod go;
mod prisma;
mod python;
mod rails;

use super::lexer::{Lang, Segment, Source};
use super::names::{bare_name, plural, snake_case, word_matches};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ModelKind {
    Django,
    SqlAlchemy,
    /// A `table!` schema block: describes the table, writes nothing.
    DieselTable,
    /// A struct under `#[diesel(table_name = …)]`; it writes when it derives `Insertable` or
    /// `AsChangeset`.
    DieselStruct {
        writes: bool,
    },
    /// JPA/Hibernate `@Entity` (Java, Kotlin).
    Entity,
    TypeOrm,
    Gorm,
    /// A Go struct with `db:"…"` tags: pop (which inserts every tagged field) or sqlx (which
    /// only reads through it: its writes are SQL).
    GoDb {
        writes: bool,
    },
    Beego,
    /// A struct sqlc generated for a table: its writes are sqlc's generated SQL.
    Sqlc,
    /// An ent schema's `Fields()`.
    Ent,
    Prisma,
    Rails,
}

impl ModelKind {
    pub(super) fn writes(self) -> bool {
        !matches!(
            self,
            ModelKind::DieselTable
                | ModelKind::DieselStruct { writes: false }
                | ModelKind::GoDb { writes: false }
                | ModelKind::Sqlc
        )
    }
}

#[derive(Debug, Clone)]
pub(super) struct Model {
    pub(super) kind: ModelKind,
    pub(super) class: String,
    /// The table named in the code (`db_table`, `__tablename__`, `@Table`, `@@map`, …).
    pub(super) table: Option<String>,
    /// Where the class name is.
    pub(super) offset: usize,
    pub(super) fields: Vec<Field>,
}

/// A column a model declares, and where its name is written.
#[derive(Debug, Clone)]
pub(super) struct Field {
    pub(super) column: String,
    pub(super) offset: usize,
    /// The field's type as written, when it cannot hold NULL (Go `string`, Kotlin `String`
    /// without `?`, Rust `String` outside `Option`): reading a NULL into it fails or turns into
    /// a value the code takes for data.
    pub(super) non_null_type: Option<String>,
}

impl Field {
    /// A column named by a string literal: `Column("total_amount")`, `@map("total_amount")`.
    fn literal(src: &Source, seg: &Segment) -> Field {
        Field {
            column: src.content(seg).to_string(),
            offset: seg.start,
            non_null_type: None,
        }
    }
}

/// Every model the file declares, by the file's language.
pub(super) fn models(src: &Source) -> Vec<Model> {
    match src.lang {
        Lang::Python => python::models(src),
        Lang::Ruby => rails::models(src),
        Lang::Rust => diesel::models(src),
        Lang::Jvm => entity::models(src, false),
        Lang::Script => entity::models(src, true),
        Lang::Go => go::models(src),
        Lang::Prisma => prisma::models(src),
        _ => Vec::new(),
    }
}

/// Whether the model is mapped to `table`: by its explicit table, else by the framework's
/// default name (Django `<app>_<model>`, Rails/GORM plural snake case, JPA/TypeORM/Prisma name).
pub(super) fn maps_to(model: &Model, table: &str) -> bool {
    let table = table.to_ascii_lowercase();
    if let Some(explicit) = &model.table {
        return bare_name(explicit).eq_ignore_ascii_case(&table);
    }
    if matches!(
        model.kind,
        ModelKind::SqlAlchemy | ModelKind::DieselTable | ModelKind::DieselStruct { .. }
    ) {
        return false;
    }
    let lower = model.class.to_ascii_lowercase();
    let snake = snake_case(&model.class);
    [plural(&lower), plural(&snake), lower, snake]
        .iter()
        .any(|c| {
            *c == table || (model.kind == ModelKind::Django && table.ends_with(&format!("_{c}")))
        })
}

/// `key = "literal"` on line `li` at indentation `ind`: Django `db_table = "orders"`, Rails
/// `self.table_name = "orders"`.
fn assigned_literal(src: &Source, li: usize, ind: usize, key: &str) -> Option<String> {
    let rest = src.line(li).get(ind..)?.strip_prefix(key)?;
    let value = rest.trim_start().strip_prefix('=')?;
    src.literal_at(src.suffix_offset(li, value))
        .map(|s| src.content(s).to_string())
}

/// The literal after `key =` or `key:` on line `li`, from byte `from` of the line:
/// `@Table(name = "orders")`, `@Column({ name: "total_amount" })`.
fn key_literal<'s>(src: &'s Source, li: usize, from: usize, key: &str) -> Option<&'s Segment> {
    let line = src.line(li);
    let p = from
        + word_matches(line.get(from..)?, key, false)
            .into_iter()
            .next()?;
    let rest = line[p + key.len()..].trim_start();
    let rest = rest.strip_prefix(['=', ':'])?;
    src.literal_at(src.suffix_offset(li, rest))
}
