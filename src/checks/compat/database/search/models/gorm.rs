//! GORM models (Go): a struct that embeds `gorm.Model` or has `gorm:"…"` tags, with its table
//! from a `TableName()` method or GORM's plural snake-case default.
//!
//! Go structs are everywhere, so a struct counts as a model only with GORM's own marks; its
//! exported fields are columns (snake case, or the tag's `column:`), except relations to
//! other structs of the file, slices, and `-` or many2many tags.

use super::{Field, Model, ModelKind};
use crate::checks::compat::database::search::lexer::Source;
use crate::checks::compat::database::search::names::{ident_len, snake_case};
use std::collections::HashMap;

pub(super) fn models(src: &Source) -> Vec<Model> {
    let count = src.lines.len();
    let mut tables: HashMap<String, String> = HashMap::new();
    let mut structs: Vec<(usize, String, usize)> = Vec::new();
    for li in 0..count {
        let line = src.line(li);
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("func (")
            && let Some((receiver, after)) = rest.split_once(')')
            && after.trim_start().starts_with("TableName()")
        {
            let ty = receiver
                .split_whitespace()
                .last()
                .unwrap_or("")
                .trim_start_matches('*');
            let limit = src.line_start((li + 4).min(count));
            if let Some(seg) = src.literal_after(src.line_start(li), limit) {
                tables.insert(ty.to_string(), src.content(seg).to_string());
            }
        } else if let Some(rest) = t.strip_prefix("type ")
            && rest.trim_end().ends_with("struct {")
        {
            let n = ident_len(rest);
            structs.push((li, rest[..n].to_string(), src.suffix_offset(li, rest)));
        }
    }
    let names: Vec<&str> = structs.iter().map(|s| s.1.as_str()).collect();
    let mut out = Vec::new();
    for (li, class, offset) in &structs {
        let mut fields = Vec::new();
        let mut is_gorm = false;
        for l in li + 1..count {
            let line = src.line(l);
            let t = line.trim_start();
            if t.starts_with('}') {
                break;
            }
            let at = src.suffix_offset(l, t);
            let mut words = t.split_whitespace();
            let (Some(name), ty) = (words.next(), words.next()) else {
                continue;
            };
            if name == "gorm.Model" {
                is_gorm = true;
                fields.extend(
                    ["id", "created_at", "updated_at", "deleted_at"].map(|c| Field {
                        column: c.into(),
                        offset: at,
                    }),
                );
                continue;
            }
            let tag = t
                .split_once("gorm:\"")
                .map(|(_, r)| r.split('"').next().unwrap_or(""));
            is_gorm |= tag.is_some();
            let ty = ty.unwrap_or("").trim_start_matches('*');
            let related = names.contains(&ty.trim_start_matches("[]"))
                || (ty.starts_with("[]") && ty != "[]byte");
            let tag = tag.unwrap_or("");
            if !name.starts_with(|c: char| c.is_ascii_uppercase())
                || related
                || tag == "-"
                || tag.starts_with("-;")
                || tag.contains("many2many")
            {
                continue;
            }
            let column = tag.split(';').find_map(|p| p.strip_prefix("column:"));
            fields.push(match column {
                Some(c) => Field {
                    column: c.to_string(),
                    offset: at + t.find(&format!("column:{c}")).unwrap_or(0) + 7,
                },
                None => Field {
                    column: snake_case(name),
                    offset: at,
                },
            });
        }
        if is_gorm {
            out.push(Model {
                kind: ModelKind::Gorm,
                class: class.clone(),
                table: tables.get(class).cloned(),
                offset: *offset,
                fields,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::checks::compat::database::search::Strength::{OrmField, QueryBuilder};
    use crate::checks::compat::database::search::WriteKind::Model;
    use crate::checks::compat::database::search::testing::{assert_refs, assert_writes};

    #[test]
    fn gorm_tags_and_default_names() {
        let text = "type Order struct {\n\tgorm.Model\n\tTotal int64 `gorm:\"column:total_amount\" json:\"total\"`\n\tCustomerID uint\n\tItems []Item\n}\n\nfunc (Order) TableName() string { return \"orders\" }\n";
        assert_refs(
            "m.go",
            text,
            &[("orders", Some("total_amount"), &[(3, 28, OrmField, true)])],
        );
        let columns = [
            "id",
            "created_at",
            "updated_at",
            "deleted_at",
            "total_amount",
            "customer_id",
        ];
        assert_writes("m.go", text, "orders", &[(1, Model, Some(&columns))]);
        // A tag outside any model is still the name as a query builder takes it.
        let tag = "x := `gorm:\"column:total\"`";
        assert_refs(
            "x.go",
            tag,
            &[("orders", Some("total"), &[(1, 20, QueryBuilder, false)])],
        );
    }
}
