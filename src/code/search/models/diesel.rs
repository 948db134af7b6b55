//! Diesel: `table!` schema blocks and the structs mapped to them with
//! `#[diesel(table_name = …)]`.
//!
//! A `table!` block names the columns the code compiles against, so it is a use of each, but
//! it writes nothing; a struct writes its fields only when it derives `Insertable` or
//! `AsChangeset` (a `Queryable` struct only reads).

use super::{Field, Model, ModelKind};
use crate::code::search::lexer::Source;
use crate::code::search::names::{ident_len, is_word, word_matches};

pub(super) fn models(src: &Source) -> Vec<Model> {
    let mut out = Vec::new();
    let text = src.text;
    for off in word_matches(text, "table", false) {
        let after = off + 5;
        if !src.is_code(off) || text.as_bytes().get(after) != Some(&b'!') {
            continue;
        }
        if let Some(model) = table_macro(src, after + 1) {
            out.push(model);
        }
    }
    for li in 0..src.lines.len() {
        if let Some(model) = mapped_struct(src, li) {
            out.push(model);
        }
    }
    out
}

/// `table! { [use …;] orders (id) { total -> Numeric, … } }` starting after the `!`.
fn table_macro(src: &Source, mut i: usize) -> Option<Model> {
    let text = src.text;
    let skip_ws = |i: usize| i + text.get(i..).map_or(0, |s| s.len() - s.trim_start().len());
    i = skip_ws(i);
    if !matches!(text.as_bytes().get(i), Some(b'{' | b'(')) {
        return None;
    }
    i = skip_ws(i + 1);
    loop {
        let rest = text.get(i..)?;
        if rest.starts_with("use ") {
            i = skip_ws(i + rest.find(';')? + 1);
        } else if rest.starts_with("#[") {
            i = skip_ws(i + rest.find(']')? + 1);
        } else {
            break;
        }
    }
    let rest = text.get(i..)?;
    let path_len = rest
        .bytes()
        .take_while(|&c| is_word(c) || c == b'.')
        .count();
    let path = &rest[..path_len];
    let name = path.rsplit('.').next().unwrap_or(path);
    let name_off = i + path_len - name.len();
    let open = i + path_len + rest[path_len..].find('{')?;
    let close = src.close_of(open, 200_000)?;
    let mut fields = Vec::new();
    let mut sql_name = None;
    for li in src.line_index(open) + 1..=src.line_index(close) {
        let line = src.line(li);
        let t = line.trim_start();
        if t.starts_with("#[sql_name") {
            sql_name = src
                .literal_on_line(src.line_start(li), li)
                .map(|s| Field::literal(src, s));
        } else if let Some((col, _)) = t.split_once("->") {
            let col = col.trim();
            if !col.is_empty() && col.bytes().all(is_word) {
                fields.push(sql_name.take().unwrap_or_else(|| Field {
                    column: col.to_string(),
                    offset: src.suffix_offset(li, t),
                    non_null_type: None,
                }));
            }
        }
    }
    (!name.is_empty()).then(|| Model {
        kind: ModelKind::DieselTable,
        class: name.to_string(),
        table: Some(name.to_string()),
        offset: name_off,
        fields,
    })
}

/// A struct under `#[diesel(table_name = orders)]` or `#[table_name = "orders"]`.
fn mapped_struct(src: &Source, li: usize) -> Option<Model> {
    let line = src.line(li).trim();
    if !line.starts_with("#[") {
        return None;
    }
    let value = line
        .split_once("table_name")?
        .1
        .trim_start()
        .strip_prefix('=')?;
    let value = value.trim_start().trim_start_matches('"');
    let path_len = value
        .bytes()
        .take_while(|&c| is_word(c) || c == b':')
        .count();
    let table = value[..path_len].rsplit("::").next()?.to_string();
    let struct_line = (li + 1..src.lines.len().min(li + 12)).find(|&l| {
        let t = src.line(l).trim_start();
        t.starts_with("struct ")
            || t.starts_with("pub struct ")
            || t.starts_with("pub(crate) struct ")
    })?;
    let header = src.line(struct_line);
    let class_at = header.find("struct ")? + 7;
    let class_len = ident_len(&header[class_at..]);
    let attrs = (li.saturating_sub(6)..struct_line)
        .map(|l| src.line(l))
        .collect::<Vec<_>>()
        .join(" ");
    let writes = attrs.contains("Insertable") || attrs.contains("AsChangeset");
    let mut fields = Vec::new();
    let mut rename = None;
    for l in struct_line + 1..src.lines.len() {
        let t = src.line(l).trim_start();
        if t.starts_with('}') {
            break;
        }
        if let Some(r) = t.split_once("column_name") {
            let v = r.1.trim_start().trim_start_matches(['=', ' ', '"']);
            rename = Some(v[..ident_len(v)].to_string());
            continue;
        }
        let decl = t
            .strip_prefix("pub(crate) ")
            .or_else(|| t.strip_prefix("pub "))
            .unwrap_or(t);
        let n = ident_len(decl);
        if n > 0 && decl[n..].trim_start().starts_with(':') {
            // Diesel refuses a NULL for any type outside `Option` ("Unexpected null for
            // non-null column").
            let ty = decl[n..].trim_start()[1..]
                .trim()
                .trim_end_matches(',')
                .trim();
            let non_null_type =
                (!ty.is_empty() && !ty.starts_with("Option<")).then(|| ty.to_string());
            fields.push(Field {
                column: rename.take().unwrap_or_else(|| decl[..n].to_string()),
                offset: src.suffix_offset(l, decl),
                non_null_type,
            });
        }
    }
    Some(Model {
        kind: ModelKind::DieselStruct { writes },
        class: header[class_at..class_at + class_len].to_string(),
        table: Some(table),
        offset: src.line_start(struct_line) + class_at,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use crate::code::search::Strength::OrmField;
    use crate::code::search::WriteKind::Model;
    use crate::code::search::testing::{assert_refs, assert_writes};

    #[test]
    fn diesel_table_macro() {
        let text = "diesel::table! {\n    use diesel::sql_types::*;\n    orders (id) {\n        id -> Int4,\n        total -> Numeric,\n    }\n}\n";
        assert_refs(
            "src/schema.rs",
            text,
            &[
                ("orders", Some("total"), &[(5, 9, OrmField, true)]),
                ("orders", None, &[(3, 5, OrmField, true)]),
            ],
        );
        assert_writes("src/schema.rs", text, "orders", &[]);
    }

    #[test]
    fn diesel_insertable_struct_writes() {
        let text = "#[derive(Insertable)]\n#[diesel(table_name = crate::schema::orders)]\npub struct NewOrder<'a> {\n    pub total: i64,\n    #[diesel(column_name = note)]\n    pub remark: &'a str,\n}\n";
        let columns = ["total", "note"];
        assert_writes(
            "src/models.rs",
            text,
            "orders",
            &[(3, Model, Some(&columns))],
        );
    }
}
