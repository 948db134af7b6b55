//! JPA/Hibernate entities (Java, Kotlin) and TypeORM entities (TypeScript): an `@Entity`
//! class, its `@Table`/`@Entity` name, and its members with their `@Column` annotations.
//!
//! Both frameworks annotate a class and its members, so one recogniser serves both; they
//! differ in the default column name (JPA snake case, TypeORM the property name as written),
//! and in that TypeORM maps only members annotated as columns. Annotations may stand on the
//! lines above a member and span several lines, so member lines are read with the pending
//! annotation lines above them.

use super::{Field, Model, ModelKind, key_literal};
use crate::code::search::lexer::Source;
use crate::code::search::names::{ident_len, is_word, snake_case};

pub(super) fn models(src: &Source, script: bool) -> Vec<Model> {
    let mut out = Vec::new();
    let count = src.lines.len();
    for li in 0..count {
        let line = src.line(li);
        let Some(at) = line.find("@Entity") else {
            continue;
        };
        if !line[..at].trim().is_empty() || !src.is_code(src.line_start(li) + at) {
            continue;
        }
        let Some((cl, class_at)) =
            (li..count.min(li + 20)).find_map(|l| src.line(l).find("class ").map(|p| (l, p + 6)))
        else {
            continue;
        };
        let header = src.line(cl);
        let class = header[class_at..class_at + ident_len(&header[class_at..])].to_string();
        let (mut from_table, mut from_entity) = (None, None);
        for l in li.saturating_sub(6)..=cl {
            let text = src.line(l);
            if let Some(p) = text.find("@Table") {
                from_table = key_literal(src, l, p, "name");
            } else if let Some(p) = text.find("@Entity(") {
                let start = src.line_start(l) + p + 8;
                from_entity = key_literal(src, l, p, "name").or_else(|| src.literal_at(start));
            }
        }
        let table = from_table
            .or(from_entity)
            .map(|s| src.content(s).to_string());
        let kind = if script {
            ModelKind::TypeOrm
        } else {
            ModelKind::Entity
        };
        let fields = entity_fields(src, cl, script);
        out.push(Model {
            kind,
            class,
            table,
            offset: src.line_start(cl) + class_at,
            fields,
        });
    }
    out
}

fn entity_fields(src: &Source, class_line: usize, script: bool) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut depth = 0i32;
    let mut in_body = false;
    let mut pending: Vec<usize> = Vec::new(); // annotation lines waiting for their declaration
    let mut open_parens = 0i32;
    for li in class_line..src.lines.len() {
        let line = src.line(li);
        let ls = src.line_start(li);
        let depth_at_start = depth;
        for (k, c) in line.bytes().enumerate() {
            if (c == b'{' || c == b'}') && src.is_code(ls + k) {
                depth += if c == b'{' { 1 } else { -1 };
                in_body = true;
            }
        }
        let t = line.trim_start();
        let constructor = !script && depth_at_start == 0 && !(in_body && depth_at_start > 0);
        if (depth_at_start == 1 && li > class_line) || constructor {
            if open_parens > 0 {
                open_parens += paren_balance(t);
                pending.push(li);
            } else if let Some(field) = entity_member(src, li, &pending, script, &mut open_parens) {
                fields.extend(field);
                pending.clear();
            } else if open_parens > 0 || (t.starts_with('@') && !t.contains(';')) {
                pending.push(li);
            } else if !t.is_empty()
                && !t.starts_with("//")
                && !t.starts_with('*')
                && !t.starts_with("/*")
            {
                pending.clear();
            }
        }
        if in_body && depth <= 0 {
            break;
        }
    }
    fields
}

fn paren_balance(s: &str) -> i32 {
    s.bytes()
        .map(|c| i32::from(c == b'(') - i32::from(c == b')'))
        .sum()
}

/// One member line of an entity; `Some(None)` = a declaration that is not a column.
fn entity_member(
    src: &Source,
    li: usize,
    pending: &[usize],
    script: bool,
    open_parens: &mut i32,
) -> Option<Option<Field>> {
    let line = src.line(li);
    let mut t = line.trim_start();
    // Annotations in front of the declaration on the same line.
    while let Some(rest) = t.strip_prefix('@') {
        let n = rest
            .bytes()
            .take_while(|&c| is_word(c) || c == b'.')
            .count();
        let mut rest = &rest[n..];
        if rest.starts_with('(') {
            let bal = paren_balance(rest);
            if bal > 0 {
                *open_parens = bal;
                return None;
            }
            let mut depth = 0;
            let end = rest.bytes().position(|c| {
                depth += i32::from(c == b'(') - i32::from(c == b')');
                depth == 0
            })?;
            rest = &rest[end + 1..];
        }
        t = rest.trim_start();
    }
    if t.is_empty() {
        return None;
    }
    let modifiers = [
        "public ",
        "private ",
        "protected ",
        "readonly ",
        "override ",
        "lateinit ",
        "open ",
        "final ",
        "@JvmField ",
    ];
    let mut decl = t;
    while let Some(m) = modifiers.iter().find(|m| decl.starts_with(**m)) {
        decl = decl[m.len()..].trim_start();
    }
    let kotlin = decl
        .strip_prefix("val ")
        .or_else(|| decl.strip_prefix("var "));
    let name = if let Some(k) = kotlin {
        let k = k.trim_start();
        &k[..ident_len(k)]
    } else if script {
        let n = ident_len(decl);
        let after = decl[n..].trim_start_matches(['!', '?']).trim_start();
        if n == 0
            || !(after.starts_with(':') || after.starts_with('='))
            || decl.starts_with("static ")
        {
            return Some(None);
        }
        &decl[..n]
    } else {
        let stop = decl.find([';', '='])?;
        if decl[..stop].contains('(') || decl.contains("static ") || decl.contains("transient ") {
            return Some(None);
        }
        let last = decl[..stop].split_whitespace().last()?;
        last.trim_end_matches("[]")
    };
    if name.is_empty() {
        return Some(None);
    }
    let name_off = src.suffix_offset(li, decl) + decl.find(name).unwrap_or(0);
    let annotation_lines: Vec<usize> = pending.iter().copied().chain(std::iter::once(li)).collect();
    let annotations = annotation_lines
        .iter()
        .map(|&l| src.line(l))
        .collect::<Vec<_>>()
        .join(" ");
    let has = |a: &str| annotations.contains(a);
    if has("@Transient")
        || has("@OneToMany")
        || has("@ManyToMany")
        || has("@Embedded")
        || has("@ElementCollection")
    {
        return Some(None);
    }
    let relation = has("@ManyToOne") || has("@OneToOne");
    if script && !(relation || has("Column(")) {
        return Some(None);
    }
    let explicit = annotation_lines.iter().find_map(|&l| {
        let text = src.line(l);
        let from = text
            .find("Column(")
            .or_else(|| (!text.trim_start().starts_with('@')).then_some(0))?;
        if l == li && from == 0 && !text.contains("Column(") {
            return None;
        }
        key_literal(src, l, from, "name")
    });
    // The type the field reads a column into, when it cannot hold NULL: a Kotlin type without
    // `?` (Hibernate sets the NULL anyway and the code fails where Kotlin promised a value), a
    // Java primitive (Hibernate refuses: "Null value was assigned to a property of primitive
    // type").
    let non_null_type = match kotlin {
        Some(k) => {
            let after = k.trim_start()[name.len()..].trim_start();
            after.strip_prefix(':').and_then(|ty| {
                let ty = ty.split(['=', ',', ')']).next().unwrap_or("").trim();
                (!ty.is_empty() && !ty.ends_with('?')).then(|| ty.to_string())
            })
        }
        None if script => None,
        None => decl
            .split_whitespace()
            .rev()
            .nth(1)
            .filter(|ty| {
                matches!(
                    *ty,
                    "int" | "long" | "short" | "byte" | "boolean" | "double" | "float" | "char"
                )
            })
            .map(str::to_string),
    };
    let column = match explicit {
        Some(seg) => {
            let mut field = Field::literal(src, seg);
            field.non_null_type = non_null_type;
            return Some(Some(field));
        }
        None if relation && script => format!("{name}Id"),
        None if relation => format!("{}_id", snake_case(name)),
        None if script => name.to_string(),
        None => snake_case(name),
    };
    Some(Some(Field {
        column,
        offset: name_off,
        non_null_type,
    }))
}

#[cfg(test)]
mod tests {
    use crate::code::search::Strength::OrmField;
    use crate::code::search::WriteKind::Model;
    use crate::code::search::testing::{assert_refs, assert_writes};

    #[test]
    fn jpa_entity_columns() {
        let text = "@Entity\n@Table(name = \"orders\")\npublic class Order {\n    @Id\n    private Long id;\n    @Column(name = \"total\", nullable = false)\n    private BigDecimal amount;\n    private String shippingNote;\n    @ManyToOne\n    private Customer customer;\n    @Transient\n    private int cached;\n    public BigDecimal getAmount() { return amount; }\n}\n";
        assert_refs(
            "src/Order.java",
            text,
            &[
                ("orders", Some("total"), &[(6, 21, OrmField, true)]),
                ("orders", Some("shipping_note"), &[(8, 20, OrmField, true)]),
            ],
        );
        let columns = ["id", "total", "shipping_note", "customer_id"];
        assert_writes(
            "src/Order.java",
            text,
            "orders",
            &[(3, Model, Some(&columns))],
        );
    }

    #[test]
    fn kotlin_entity_constructor_and_body() {
        let text = "@Entity\n@Table(name = \"orders\")\ndata class Order(\n    @Id val id: Long,\n    @Column(name = \"total\") val amount: BigDecimal,\n) {\n    var shippedAt: Instant? = null\n}\n";
        let columns = ["id", "total", "shipped_at"];
        assert_writes("Order.kt", text, "orders", &[(3, Model, Some(&columns))]);
    }

    #[test]
    fn typeorm_entity_columns() {
        let text = "@Entity({ name: \"orders\" })\nexport class Order {\n  @PrimaryGeneratedColumn()\n  id: number;\n  @Column({ name: \"total_amount\" })\n  total!: number;\n  helper?: string;\n}\n";
        let columns = ["id", "total_amount"];
        assert_writes(
            "src/order.ts",
            text,
            "orders",
            &[(2, Model, Some(&columns))],
        );
    }
}
