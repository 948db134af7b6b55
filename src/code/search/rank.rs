//! Ranking one match of a name: is it inside SQL, a query-builder argument, or a bare
//! identifier, and does its context name the table.
//!
//! The same word means very different things: `total` in `"SELECT total FROM orders"` breaks
//! when the column goes, `total` as a Rust parameter does not. The rank is [`Strength`]; the
//! "names the table" flag tells a use of `orders.total` from one of `invoices.total`. ORM
//! model fields are ranked by the model recognisers, not here.

use std::collections::HashMap;

use super::Strength;
use super::lexer::{Lang, SegKind, Segment, Source};
use super::names::{class_names, has_word, is_word};
use super::sql::looks_like_sql;

/// What every match in one file is ranked against.
pub(super) struct Context<'a> {
    table: &'a str,
    /// The table's conventional model class names, which name it in query-builder code.
    classes: Vec<String>,
    /// A Rails schema dump or migration: its symbols are column definitions, not queries.
    schema_dump: bool,
}

impl<'a> Context<'a> {
    pub(super) fn new(src: &Source, table: &'a str) -> Self {
        Context {
            table,
            classes: class_names(table),
            schema_dump: src.lang == Lang::Ruby
                && (src.text.contains("ActiveRecord::Schema")
                    || src.text.contains("ActiveRecord::Migration")),
        }
    }

    /// A match read as a bare identifier: it names the table when its line does.
    fn identifier(&self, src: &Source, li: usize) -> Option<(Strength, bool)> {
        Some((
            Strength::Identifier,
            has_word(src.line(li), self.table, true),
        ))
    }

    /// A match read as a query-builder name: it names the table when the lines around do.
    fn query_builder(&self, src: &Source, li: usize) -> Option<(Strength, bool)> {
        Some((Strength::QueryBuilder, nearby_names_table(src, li, self)))
    }
}

/// Per-file answers that would otherwise be recomputed for every match in the same literal.
#[derive(Default)]
pub(super) struct Cache {
    literal: HashMap<usize, (bool, bool)>, // segment index -> (is SQL, names the table)
    statement: HashMap<usize, bool>,       // .sql statement start -> names the table
    semicolons: Option<Vec<usize>>,        // .sql statement ends
}

/// How strong the match of `name` at `off` is, and whether its context names the table; None
/// when it is no use at all (a case-insensitive match in code or a non-SQL string).
pub(super) fn classify(
    src: &Source,
    off: usize,
    name: &str,
    ctx: &Context,
    cache: &mut Cache,
) -> Option<(Strength, bool)> {
    let exact = src.text.get(off..off + name.len()) == Some(name);
    let li = src.line_index(off);
    let seg = src.seg_index(off).map(|i| (i, src.segs[i]));
    if seg.is_some_and(|(_, s)| s.kind == SegKind::Comment) {
        return ctx.identifier(src, li);
    }
    if src.lang == Lang::Sql {
        // A statement ends at `;`; its table mention decides, not the whole file's.
        let semicolons = cache
            .semicolons
            .get_or_insert_with(|| src.text.match_indices(';').map(|(i, _)| i).collect());
        let next = semicolons.partition_point(|&p| p < off);
        let start = next.checked_sub(1).map_or(0, |i| semicolons[i] + 1);
        let end = semicolons.get(next).copied().unwrap_or(src.text.len());
        let names = *cache
            .statement
            .entry(start)
            .or_insert_with(|| has_word(src.text.get(start..end).unwrap_or(""), ctx.table, true));
        return Some((Strength::SqlLiteral, names));
    }
    if let Some((index, seg)) = seg {
        let content = src.content(&seg);
        let (sql, names) = *cache
            .literal
            .entry(index)
            .or_insert_with(|| (looks_like_sql(content), has_word(content, ctx.table, true)));
        if sql {
            return Some((Strength::SqlLiteral, names));
        }
        if !exact {
            return None;
        }
        let before = src.text.get(seg.start..off).unwrap_or("");
        let bare = content.trim_start_matches('-');
        let qualified = bare
            .strip_suffix(name)
            .and_then(|p| p.strip_suffix('.'))
            .is_some_and(|p| p.bytes().all(is_word));
        if bare == name || qualified || before.ends_with("column:") || builder_argument(src, &seg) {
            return ctx.query_builder(src, li);
        }
        return ctx.identifier(src, li);
    }
    if !exact {
        return None;
    }
    let b = src.text.as_bytes();
    let at = |i: Option<usize>| i.and_then(|i| b.get(i)).copied();
    let end = off + name.len();
    let builder = match src.lang {
        // Ruby symbols and hash keys: `pluck(:total)`, `where(total: 5)`, not `Foo::total`.
        Lang::Ruby if !ctx.schema_dump => {
            (at(off.checked_sub(1)) == Some(b':') && at(off.checked_sub(2)) != Some(b':'))
                || (at(Some(end)) == Some(b':') && at(Some(end + 1)) != Some(b':'))
        }
        Lang::Python => django_keyword(src, end, li),
        _ => false,
    };
    if builder {
        return ctx.query_builder(src, li);
    }
    ctx.identifier(src, li)
}

/// A Django queryset keyword argument: `filter(total=5)`, `filter(total__gt=5)`.
fn django_keyword(src: &Source, end: usize, li: usize) -> bool {
    let rest = src.text.get(end..).unwrap_or("");
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let line = src.line(li);
    rest.starts_with('=')
        && !rest.starts_with("==")
        && [
            ".objects.",
            ".filter(",
            ".exclude(",
            ".update(",
            ".create(",
            ".get(",
            "_or_create(",
            ".filter_by(",
        ]
        .iter()
        .any(|m| line.contains(m))
}

const BUILDER_METHODS: &[&str] = &[
    "where",
    "or_where",
    "orwhere",
    "and_where",
    "andwhere",
    "where_raw",
    "whereraw",
    "not",
    "rewhere",
    "select",
    "select_raw",
    "selectraw",
    "add_select",
    "addselect",
    "order",
    "order_by",
    "orderby",
    "reorder",
    "group",
    "group_by",
    "groupby",
    "having",
    "pluck",
    "joins",
    "filter",
    "exclude",
    "values",
    "values_list",
    "only",
    "defer",
    "distinct",
    "sum",
    "count",
    "average",
    "avg",
    "minimum",
    "maximum",
    "min",
    "max",
    "update_all",
    "update_column",
    "update_columns",
    "increment",
    "decrement",
    "column",
    "col",
    "f",
];

/// A literal that is the first argument of a query-builder method: `where("total > ?")`.
fn builder_argument(src: &Source, seg: &Segment) -> bool {
    let before = src.text.get(..seg.open).unwrap_or("").trim_end();
    let Some(before) = before.strip_suffix('(') else {
        return false;
    };
    let method_len = before.bytes().rev().take_while(|&c| is_word(c)).count();
    let method = before[before.len() - method_len..].to_ascii_lowercase();
    BUILDER_METHODS.contains(&method.as_str())
}

/// The table or its model class on the same line or the 5 above: `Order.where(total: 5)`.
fn nearby_names_table(src: &Source, li: usize, ctx: &Context) -> bool {
    (li.saturating_sub(5)..=li).any(|l| {
        let line = src.line(l);
        has_word(line, ctx.table, true) || ctx.classes.iter().any(|c| has_word(line, c, false))
    })
}

#[cfg(test)]
mod tests {
    use crate::code::search::Strength::*;
    use crate::code::search::find;
    use crate::code::search::testing::assert_refs;

    #[test]
    fn rust_parameter_is_only_an_identifier() {
        let text = "fn total(total: i64) -> i64 {\n    total * 2\n}\n";
        let total = [
            (1, 4, Identifier, false),
            (1, 10, Identifier, false),
            (2, 5, Identifier, false),
        ];
        assert_refs("src/lib.rs", text, &[("orders", Some("total"), &total)]);
    }

    #[test]
    fn rust_sqlx_query_is_sql_naming_the_table() {
        let text = "let r = sqlx::query!(\"SELECT id, total FROM orders WHERE id = $1\", id);";
        assert_refs(
            "src/db.rs",
            text,
            &[("orders", Some("total"), &[(1, 34, SqlLiteral, true)])],
        );
        let found = find("src/db.rs", text, "orders", Some("total"), &[]);
        assert_eq!(found.references[0].snippet, text);
        assert_eq!(found.references[0].path, "src/db.rs");
    }

    #[test]
    fn sql_of_another_table_does_not_name_the_table() {
        let text = "q = \"SELECT total FROM invoices\"\n";
        assert_refs(
            "app/q.py",
            text,
            &[("orders", Some("total"), &[(1, 13, SqlLiteral, false)])],
        );
    }

    #[test]
    fn sql_file_is_sql_outside_comments() {
        let text = "-- total is legacy\nSELECT total FROM orders;\nSELECT total FROM invoices;\n";
        let total = [
            (1, 4, Identifier, false),
            (2, 8, SqlLiteral, true),
            (3, 8, SqlLiteral, false),
        ];
        assert_refs("q/queries.sql", text, &[("orders", Some("total"), &total)]);
    }

    #[test]
    fn comment_mentioning_the_column_is_an_identifier() {
        let text = "// the Total of orders is cached\nlet x = 1;\n";
        assert_refs(
            "src/a.rs",
            text,
            &[("orders", Some("total"), &[(1, 8, Identifier, true)])],
        );
    }

    #[test]
    fn ruby_query_builder_symbols_and_keys() {
        let text = "class Report\n  def run\n    Order.where(total: 5).pluck(:total)\n    Foo::total\n  end\nend\n";
        let total = [
            (3, 17, QueryBuilder, true),
            (3, 34, QueryBuilder, true),
            (4, 10, Identifier, false),
        ];
        assert_refs("app/report.rb", text, &[("orders", Some("total"), &total)]);
    }

    #[test]
    fn rails_schema_dump_is_only_identifiers() {
        let text = "ActiveRecord::Schema[7.1].define(version: 1) do\n  create_table \"orders\" do |t|\n    t.decimal :total\n  end\nend\n";
        assert_refs(
            "db/schema.rb",
            text,
            &[("orders", Some("total"), &[(3, 16, Identifier, false)])],
        );
    }
}
