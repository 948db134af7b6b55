//! Where the old code uses a table or column, ranked by how sure gonogo is that it is one.
//!
//! During a rolling deploy the migrations of the new version run before the last old pod stops:
//! for minutes, code written against the previous schema still reads and writes the database.
//! A dropped or renamed column breaks every old query that names it, and a new NOT NULL column
//! without a default breaks every old INSERT that does not provide it. This module reads one
//! file of the old code (the caller fetches it from git at the base ref) and answers three
//! questions: where does it use this table or column, is the column already marked as going
//! away, and where does it write this table with which columns. It is pure and works on text:
//! a small lexer finds string literals and comments, SQL inside literals is tokenized loosely,
//! and ORM models are recognised by their declaration patterns. No file is parsed with a real
//! grammar, so results are evidence ranked by [`Strength`], never proof.
//!
//! The parts, in reading order: `lexer` (the file's literals, comments and lines), `rank` (how
//! strong one match of the name is), `sql` (is a literal SQL; which INSERT/UPDATE writes which
//! columns), `models` (ORM model recognisers, one per framework), `markers` (going-away
//! markers), and `names` (whole words and naming conventions).

mod lexer;
mod markers;
mod models;
mod names;
mod rank;
mod sql;
#[cfg(test)]
mod testing;

use lexer::{Lang, SegKind, Source, lang_of};
use models::{ModelKind, maps_to, models};
use names::{bare_name, word_matches};
use rank::{Cache, Context, classify};

/// How sure gonogo is that a match is a use of the table or column (ordered weakest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Strength {
    /// A bare identifier or a word in a comment or a non-SQL string: `fn total(total: i64)`,
    /// a Rails schema dump's `t.decimal :total`. Not evidence by itself.
    Identifier,
    /// The exact name as a string literal or symbol, as query builders and ORMs take it:
    /// `.select("total")`, `pluck(:total)`, `where(total: …)`, `F("total")`, `filter(total=…)`,
    /// a `gorm:"column:total"` tag outside a recognised model, or any literal that is the first
    /// argument of a query-builder method (`where("total > ?")`).
    QueryBuilder,
    /// A model field declaration mapped to the table: Django `total = models.DecimalField(…)`,
    /// SQLAlchemy `total = Column(…)`/`mapped_column`/`Mapped[…]`, Diesel `table!` entries and
    /// `#[diesel(table_name = …)]` struct fields, JPA/Hibernate entity fields and
    /// `@Column(name = "total")`, TypeORM `@Column()` properties, GORM struct fields, Prisma model
    /// fields. Rails schema dumps and annotate comments are not this (they do not run).
    OrmField,
    /// Inside a string literal that is SQL (SQL keywords like SELECT/INSERT/UPDATE/DELETE/FROM/
    /// INTO/SET/WHERE/JOIN/VALUES/RETURNING), or anywhere outside comments in a .sql file.
    SqlLiteral,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub path: String,
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    pub strength: Strength,
    /// The same SQL string (statement in a .sql file), model, or nearby code also names the
    /// table, so the match is about this table and not a same-named column of another one.
    /// Always true for a reference to the table itself.
    pub names_table: bool,
    /// The line, trimmed, at most 120 characters (cut on a char boundary with "…").
    pub snippet: String,
}

/// A "this is going away" marker about the name: Rails `ignored_columns` listing it, or a
/// configured marker text on the same line as a reference or on the line just above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub path: String,
    pub line: u32,
    /// The marker's line, trimmed, cut like [`Reference::snippet`].
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Found {
    /// In file order, one per position (the strongest reading of that position).
    pub references: Vec<Reference>,
    /// In line order, one per line.
    pub markers: Vec<Marker>,
}

/// A place where the file writes the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub kind: WriteKind,
    /// Columns the write provides, unquoted, as written. None when it names none (INSERT
    /// without a column list, `INSERT … SELECT *`): positional, so a new column is never
    /// provided. Rails models are `Model` with None: ActiveRecord writes whatever columns it
    /// read from the schema at boot, which is the old schema in an old pod.
    pub columns: Option<Vec<String>>,
    pub snippet: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Insert,
    Update,
    Model,
}

/// Uses of `column` of `table` (or of the table itself when `column` is None) in one file.
/// Matching is on whole words ([A-Za-z0-9_] boundaries), case-insensitive inside SQL and
/// comments, case-sensitive in code and other strings. Quoted SQL identifiers match too.
/// References that a marker covers are still returned (the caller decides).
pub fn find(
    path: &str,
    text: &str,
    table: &str,
    column: Option<&str>,
    markers: &[String],
) -> Found {
    let src = Source::new(text, lang_of(path));
    let table = bare_name(table);
    let name = column.map(bare_name).unwrap_or(table);
    if name.is_empty() {
        return Found::default();
    }
    let ctx = Context::new(&src, table);
    let mut cache = Cache::default();
    // (offset, strength, names the table) of every reading of every match.
    let mut hits: Vec<(usize, Strength, bool)> = word_matches(text, name, src.lang == Lang::Python)
        .into_iter()
        .filter_map(|off| classify(&src, off, name, &ctx, &mut cache).map(|(s, t)| (off, s, t)))
        .collect();
    for model in models(&src) {
        let mapped = maps_to(&model, table);
        match column {
            Some(_) => hits.extend(
                (model
                    .fields
                    .iter()
                    .filter(|f| f.column.eq_ignore_ascii_case(name)))
                .map(|f| (f.offset, Strength::OrmField, mapped)),
            ),
            None if mapped => hits.push((model.offset, Strength::OrmField, true)),
            None => {}
        }
    }
    // One reference per position: a model field that is also a word match is the field.
    hits.sort_by_key(|h| h.0);
    let mut merged: Vec<(usize, Strength, bool)> = Vec::with_capacity(hits.len());
    for hit in hits {
        match merged.last_mut() {
            Some(last) if last.0 == hit.0 => {
                last.1 = last.1.max(hit.1);
                last.2 |= hit.2;
            }
            _ => merged.push(hit),
        }
    }
    let is_table = column.is_none();
    let references = merged
        .iter()
        .map(|&(off, strength, names_table)| {
            let (line, column) = src.position(off);
            Reference {
                path: path.to_string(),
                line,
                column,
                strength,
                names_table: names_table || is_table,
                snippet: snippet(src.line(src.line_index(off))),
            }
        })
        .collect();
    let markers = markers::find(
        &src,
        path,
        name,
        column.is_some(),
        merged.iter().map(|h| h.0),
        markers,
    );
    Found {
        references,
        markers,
    }
}

/// Where this file writes `table`: SQL INSERT/UPDATE/REPLACE/UPSERT in string literals (the
/// whole text of a .sql file), and ORM models mapped to the table, which write the fields they
/// declare (a Django ForeignKey `customer` writes `customer_id`). Diesel `table!` blocks and
/// Queryable-only structs are not writes; `#[derive(Insertable)]`/`AsChangeset` structs are.
pub fn writes(path: &str, text: &str, table: &str) -> Vec<Write> {
    let src = Source::new(text, lang_of(path));
    let table = bare_name(table);
    let mut out = Vec::new();
    let mut push = |off: usize, kind: WriteKind, columns: Option<Vec<String>>| {
        let (line, column) = src.position(off);
        let snippet = snippet(src.line(src.line_index(off)));
        out.push(Write {
            path: path.to_string(),
            line,
            column,
            kind,
            columns,
            snippet,
        });
    };
    // The spans that are SQL: all of a .sql file, else the literals that read as SQL.
    let sql_spans: Vec<(usize, usize)> = if src.lang == Lang::Sql {
        vec![(0, text.len())]
    } else {
        src.segs
            .iter()
            .filter(|s| s.kind == SegKind::Literal && sql::looks_like_sql(src.content(s)))
            .map(|s| (s.start, s.end))
            .collect()
    };
    for (start, end) in sql_spans {
        for (off, kind, columns) in sql::writes(text, start, end, table) {
            push(off, kind, columns);
        }
    }
    for model in models(&src)
        .into_iter()
        .filter(|m| m.kind.writes() && maps_to(m, table))
    {
        let columns = (model.kind != ModelKind::Rails).then(|| {
            let mut cols: Vec<String> = Vec::new();
            for f in model.fields {
                if !cols.contains(&f.column) {
                    cols.push(f.column);
                }
            }
            cols
        });
        push(model.offset, WriteKind::Model, columns);
    }
    out.sort_by_key(|w| (w.line, w.column));
    out
}

/// Model fields of `table` mapped to `column` whose type cannot hold NULL (Go `string`, Kotlin
/// `String`, Rust `String`, a Java primitive), each with its type as written: where code reads
/// the column into a value that a NULL breaks.
pub fn non_null_fields(
    path: &str,
    text: &str,
    table: &str,
    column: &str,
) -> Vec<(Reference, String)> {
    let src = Source::new(text, lang_of(path));
    let table = bare_name(table);
    let mut out = Vec::new();
    for model in models(&src).iter().filter(|m| maps_to(m, table)) {
        for field in &model.fields {
            let Some(ty) = &field.non_null_type else {
                continue;
            };
            if !field.column.eq_ignore_ascii_case(bare_name(column)) {
                continue;
            }
            let (line, col) = src.position(field.offset);
            out.push((
                Reference {
                    path: path.to_string(),
                    line,
                    column: col,
                    strength: Strength::OrmField,
                    names_table: true,
                    snippet: snippet(src.line(src.line_index(field.offset))),
                },
                ty.clone(),
            ));
        }
    }
    out
}

/// The line, trimmed, at most 120 characters (cut on a char boundary with "…"): enough to
/// recognise the place in a report line.
fn snippet(line: &str) -> String {
    let line = line.trim();
    if line.chars().count() <= 120 {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(119).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_is_cut_at_120_characters() {
        let text = format!(
            "    let q = \"SELECT total FROM orders {}\";",
            "é".repeat(200)
        );
        let found = find("a.rs", &text, "orders", Some("total"), &[]);
        let s = &found.references[0].snippet;
        assert_eq!(s.chars().count(), 120);
        assert!(
            s.starts_with("let q = \"SELECT total") && s.ends_with("é…"),
            "{s}"
        );
    }

    #[test]
    fn large_files_stay_linear() {
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("SELECT total, id FROM orders WHERE id = {i};\n"));
        }
        let started = std::time::Instant::now();
        let found = find(
            "big.sql",
            &text,
            "orders",
            Some("total"),
            &["gonogo:dropping".into()],
        );
        assert_eq!(found.references.len(), 20_000);
        assert!(
            found
                .references
                .iter()
                .all(|r| r.strength == Strength::SqlLiteral && r.names_table)
        );
        let rust = text
            .lines()
            .map(|l| format!("let q = \"{l}\"; // total\n"))
            .collect::<String>();
        assert_eq!(
            find("big.rs", &rust, "orders", Some("total"), &[])
                .references
                .len(),
            40_000
        );
        assert_eq!(writes("big.rs", &rust, "orders"), vec![]);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn no_panics_on_generated_input() {
        let pieces = [
            "\"",
            "'",
            "`",
            "\"\"\"",
            "r#\"",
            "\"#",
            "/*",
            "*/",
            "//",
            "#",
            "--",
            "\\",
            "\n",
            "<<~SQL",
            "SQL",
            "(",
            ")",
            "{",
            "}",
            "[",
            "]",
            "@Entity",
            "@Column(name = ",
            "class Order(models.Model):",
            "table!",
            "    total = models.ForeignKey(",
            "INSERT INTO orders",
            "UPDATE orders SET",
            " total",
            "é",
            "😀",
            "=",
            ",",
            ";",
            ":total",
            "total:",
            "ignored_columns",
            "#[diesel(table_name = orders)]",
            "struct X {",
            "type O struct {",
            "gorm:\"column:",
            "model M {",
            "@map(",
            "${",
            "#{",
            "$1",
            "%(",
            "'\\",
            "VALUES",
        ];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(seed % 24) {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            for path in [
                "a.rs", "a.py", "a.rb", "a.go", "a.ts", "A.kt", "a.sql", "a.prisma", "a.md",
            ] {
                let found = find(path, &text, "orders", Some("total"), &["total".to_string()]);
                assert!(
                    found
                        .references
                        .iter()
                        .all(|r| r.line >= 1 && r.column >= 1)
                );
                let _ = find(path, &text, "public.orders", None, &[]);
                let _ = writes(path, &text, "orders");
            }
        }
    }

    #[test]
    fn no_panics_on_nasty_input() {
        let inputs = [
            "",
            "\"",
            "'",
            "`",
            "r#\"",
            "'a",
            "\"\"\"",
            "/*",
            "<<~SQL\n",
            "é\"total",
            "total",
            "\u{0}\u{ff}total'",
            "INSERT INTO orders (",
            "UPDATE orders SET (",
            "class Order(models.Model):\n    total = models.X(",
            "@Entity\nclass",
            "diesel::table! { orders (id) {",
            "type A struct {\n\tB `gorm:\"column:",
            "model X {",
            "ignored_columns += [\"total\"",
            "'\\",
            "\"\\",
            "INSERT INTO orders ($1",
            "#{",
            "${",
            "%(",
        ];
        for text in inputs {
            for path in [
                "a.rs", "a.py", "a.rb", "a.go", "a.ts", "A.java", "a.sql", "a.prisma", "a.txt",
            ] {
                let _ = find(path, text, "orders", Some("total"), &["x".to_string()]);
                let _ = find(path, text, "orders", None, &[]);
                let _ = writes(path, text, "orders");
            }
        }
        let found = find(
            "a.rs",
            "let s = \"unterminated total\nlet total = 1;",
            "orders",
            Some("total"),
            &[],
        );
        assert_eq!(found.references.len(), 2);
    }
}
