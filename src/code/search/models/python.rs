//! Django and SQLAlchemy models: `class Order(models.Model)` with `total = models.…Field(…)`,
//! and `class Order(Base)` with `__tablename__` and `Column`/`mapped_column`/`Mapped[…]`.
//!
//! Both are a class whose body assigns fields at its first indentation; which framework it is
//! shows in the base class and the field calls. Django forms and serializers look the same
//! but are not tables, so a class is a model only by its base or by what its fields call.

use super::{Field, Model, ModelKind, assigned_literal};
use crate::code::search::lexer::Source;
use crate::code::search::names::{ident_len, indent_of};

pub(super) fn models(src: &Source) -> Vec<Model> {
    let mut out = Vec::new();
    let count = src.lines.len();
    let mut li = 0;
    while li < count {
        let line = src.line(li);
        let indent = indent_of(line);
        let Some(rest) = line.trim_start().strip_prefix("class ") else {
            li += 1;
            continue;
        };
        let class_off = src.line_start(li) + indent + 6;
        let name_len = ident_len(rest);
        if name_len == 0 || !src.is_code(class_off) {
            li += 1;
            continue;
        }
        let bases = rest[name_len..].split(')').next().unwrap_or("");
        let mut django = bases.contains("models.Model");
        // Forms and serializers declare `x = CharField()` too, but are not tables.
        let model_base =
            bases.contains("Model") && !bases.contains("Form") && !bases.contains("Serializer");
        let mut model = Model {
            kind: ModelKind::SqlAlchemy,
            class: rest[..name_len].to_string(),
            table: None,
            offset: class_off,
            fields: Vec::new(),
        };
        let mut body_indent = None;
        let mut j = li + 1;
        while j < count {
            let l = src.line(j);
            let ind = indent_of(l);
            let t = l.trim();
            if t.is_empty() || t.starts_with('#') || !src.is_code(src.line_start(j) + ind) {
                j += 1;
                continue;
            }
            if ind <= indent {
                break;
            }
            let first = *body_indent.get_or_insert(ind);
            if let Some(table) = assigned_literal(src, j, ind, "db_table")
                .or_else(|| assigned_literal(src, j, ind, "__tablename__"))
            {
                model.table = Some(table);
            } else if ind == first
                && let Some((field, is_django)) = python_field(src, j, ind, django || model_base)
            {
                django |= is_django;
                model.fields.push(field);
            }
            j += 1;
        }
        li = j.max(li + 1);
        if django {
            model.kind = ModelKind::Django;
        }
        if django || model.table.is_some() || !model.fields.is_empty() {
            out.push(model);
        }
    }
    out
}

/// A Django or SQLAlchemy field declaration: (field, is Django).
fn python_field(src: &Source, li: usize, ind: usize, django_class: bool) -> Option<(Field, bool)> {
    let line = src.line(li).get(ind..)?;
    let start = src.line_start(li) + ind;
    let name_len = ident_len(line);
    let name = line.get(..name_len).filter(|n| !n.is_empty())?;
    let rest = line[name_len..].trim_start();
    fn rhs_of(r: &str) -> Option<&str> {
        r.find('=').map(|p| r[p + 1..].trim_start())
    }
    let (rhs, annotated) = if let Some(ann) = rest.strip_prefix(':') {
        (rhs_of(ann), ann.contains("Mapped["))
    } else if rest.starts_with('=') && !rest.starts_with("==") {
        (rhs_of(rest), false)
    } else {
        return None;
    };
    let field = |column: String, offset| Field {
        column,
        offset,
        non_null_type: None,
    };
    let Some(rhs) = rhs else {
        return annotated.then(|| (field(name.to_string(), start), false));
    };
    let paren = start + line.len() - rhs.len() + rhs.find('(').unwrap_or(rhs.len());
    let callee = rhs.split('(').next().unwrap_or("").trim();
    let last = callee.rsplit('.').next().unwrap_or("");
    if last == "Column" || last == "mapped_column" {
        // SQLAlchemy: a first positional string argument is the column name.
        return Some(match src.literal_at(paren + 1) {
            Some(seg) => (Field::literal(src, seg), false),
            None => (field(name.to_string(), start), false),
        });
    }
    if annotated && !rhs.contains("relationship(") {
        return Some((field(name.to_string(), start), false));
    }
    let django_type = last.ends_with("Field") || last == "ForeignKey";
    if !django_type
        || !(callee.starts_with("models.") || (django_class && !callee.contains('.')))
        || last == "ManyToManyField"
        || !rhs.contains('(')
    {
        return None;
    }
    let call_end = src.close_of(paren, 4000).unwrap_or(paren);
    let call = src.text.get(paren..call_end).unwrap_or("");
    if let Some(p) = call.find("db_column")
        && let Some(seg) = src.literal_after(paren + p, call_end)
    {
        return Some((Field::literal(src, seg), true));
    }
    let column = if last == "ForeignKey" || last == "OneToOneField" {
        format!("{name}_id")
    } else {
        name.to_string()
    };
    Some((field(column, start), true))
}

#[cfg(test)]
mod tests {
    use crate::code::search::Strength::*;
    use crate::code::search::WriteKind::Model;
    use crate::code::search::testing::{assert_refs, assert_writes};

    #[test]
    fn django_model_with_meta_db_table() {
        let text = "from django.db import models\n\nclass Order(models.Model):\n    \"\"\"An order. total = models.X(\"\"\"\n    total = models.DecimalField(max_digits=10)\n    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)\n    tags = models.ManyToManyField(Tag)\n    note = models.TextField(db_column=\"remark\")\n\n    class Meta:\n        db_table = \"orders\"\n\ndef f():\n    return Order.objects.filter(total__gt=5)\n";
        let total = [
            (4, 18, Identifier, false),
            (5, 5, OrmField, true),
            (14, 33, QueryBuilder, true),
        ];
        let total_of_another_table = [
            (4, 18, Identifier, false),
            (5, 5, OrmField, false),
            (14, 33, QueryBuilder, false),
        ];
        assert_refs(
            "shop/models.py",
            text,
            &[
                ("orders", Some("total"), &total),
                ("orders", Some("customer_id"), &[(6, 5, OrmField, true)]),
                ("orders", Some("remark"), &[(8, 40, OrmField, true)]),
                ("invoices", Some("total"), &total_of_another_table),
            ],
        );
        let columns = ["total", "customer_id", "remark"];
        assert_writes(
            "shop/models.py",
            text,
            "orders",
            &[(3, Model, Some(&columns))],
        );
    }

    #[test]
    fn django_default_table_name_is_app_and_model() {
        let text = "class OrderItem(models.Model):\n    qty = models.IntegerField()\n";
        assert_refs(
            "shop/models.py",
            text,
            &[
                ("shop_orderitem", Some("qty"), &[(2, 5, OrmField, true)]),
                ("shop_orderitem", None, &[(1, 7, OrmField, true)]),
            ],
        );
    }

    #[test]
    fn django_forms_and_serializers_are_not_models() {
        let text = "class OrderForm(forms.ModelForm):\n    total = forms.DecimalField()\n\nclass S(serializers.ModelSerializer):\n    total = serializers.DecimalField()\n";
        let total = [(2, 5, Identifier, false), (5, 5, Identifier, false)];
        assert_refs(
            "shop/forms.py",
            text,
            &[("shop_orderform", Some("total"), &total)],
        );
        assert_writes("shop/forms.py", text, "shop_orderform", &[]);
    }

    #[test]
    fn sqlalchemy_model() {
        let text = "class Order(Base):\n    __tablename__ = \"orders\"\n    id = Column(Integer, primary_key=True)\n    total = Column(\"total_amount\", Numeric)\n    note: Mapped[str]\n    items: Mapped[list[\"Item\"]] = relationship()\n";
        assert_refs(
            "app/models.py",
            text,
            &[
                ("orders", Some("total_amount"), &[(4, 21, OrmField, true)]),
                ("orders", Some("note"), &[(5, 5, OrmField, true)]),
            ],
        );
        let columns = ["id", "total_amount", "note"];
        assert_writes(
            "app/models.py",
            text,
            "orders",
            &[(1, Model, Some(&columns))],
        );
    }
}
