//! Prisma models (`schema.prisma`): `model Order { … @@map("orders") }`, fields with an optional
//! `@map("column")`.
//!
//! Prisma's schema file is the model, so every `model` block counts; relation fields (to
//! another model of the file, or with `@relation`) are not columns, their foreign-key scalar
//! fields are.

use super::{Field, Model, ModelKind};
use crate::code::search::lexer::Source;
use crate::code::search::names::ident_len;

pub(super) fn models(src: &Source) -> Vec<Model> {
    let count = src.lines.len();
    let heads: Vec<(usize, &str)> = (0..count)
        .filter_map(|li| {
            let rest = src.line(li).trim_start().strip_prefix("model ")?;
            Some((li, &rest[..ident_len(rest)]))
        })
        .collect();
    let names: Vec<&str> = heads.iter().map(|h| h.1).collect();
    let mut out = Vec::new();
    for &(li, class) in &heads {
        let mut model = Model {
            kind: ModelKind::Prisma,
            class: class.to_string(),
            table: None,
            offset: src.line_start(li) + src.line(li).find(class).unwrap_or(0),
            fields: Vec::new(),
        };
        for l in li + 1..count {
            let line = src.line(l);
            let t = line.trim_start();
            let at = src.suffix_offset(l, t);
            // The literal of `@@map("…")` or `@map("…")` at `from`.
            let mapped = |from: usize| src.literal_on_line(from, l);
            if t.starts_with('}') {
                break;
            } else if let Some(p) = t.find("@@map(") {
                model.table = mapped(at + p).map(|s| src.content(s).to_string());
            } else if !t.starts_with("@@") && !t.starts_with("//") {
                let mut words = t.split_whitespace();
                let (Some(name), Some(ty)) = (words.next(), words.next()) else {
                    continue;
                };
                if t.contains("@relation")
                    || names.contains(&ty.trim_end_matches(['?', '!']).trim_end_matches("[]"))
                {
                    continue;
                }
                let field = t.find("@map(").and_then(|p| mapped(at + p));
                let field = field.map(|s| Field::literal(src, s));
                model.fields.push(field.unwrap_or_else(|| Field {
                    column: name.to_string(),
                    offset: at,
                    non_null_type: None,
                }));
            }
        }
        out.push(model);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::code::search::WriteKind::Model;
    use crate::code::search::testing::assert_writes;

    #[test]
    fn prisma_model() {
        let text = "model Order {\n  id    Int @id\n  total Decimal @map(\"total_amount\")\n  user  User @relation(fields: [userId], references: [id])\n  userId Int\n  @@map(\"orders\")\n}\nmodel User {\n  id Int @id\n}\n";
        let columns = ["id", "total_amount", "userId"];
        assert_writes(
            "schema.prisma",
            text,
            "orders",
            &[(1, Model, Some(&columns))],
        );
    }
}
