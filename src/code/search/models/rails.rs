//! Rails ActiveRecord models: `class Order < ApplicationRecord`, with an optional
//! `self.table_name = "…"`.
//!
//! An ActiveRecord model declares no fields: it reads the columns from the database when the
//! process boots, so an old pod keeps writing the old schema's columns. The model is therefore
//! recorded without fields, and its writes have no column list.

use super::{Model, ModelKind, assigned_literal};
use crate::code::search::lexer::Source;
use crate::code::search::names::indent_of;

pub(super) fn models(src: &Source) -> Vec<Model> {
    let mut out: Vec<Model> = Vec::new();
    // The indentation of the model whose body the current line is in, if any.
    let mut open_model: Option<usize> = None;
    for li in 0..src.lines.len() {
        let line = src.line(li);
        let indent = indent_of(line);
        let t = &line[indent..];
        if let Some(rest) = t.strip_prefix("class ") {
            let model = rest.split_once('<').and_then(|(name, base)| {
                let base = base.trim();
                let active_record = base == "ApplicationRecord"
                    || base == "ActiveRecord::Base"
                    || base.ends_with("Record");
                active_record.then(|| name.trim().rsplit("::").next().unwrap_or(""))
            });
            if let Some(class) = model {
                out.push(Model {
                    kind: ModelKind::Rails,
                    class: class.to_string(),
                    table: None,
                    offset: src.suffix_offset(li, rest),
                    fields: Vec::new(),
                });
                open_model = Some(indent);
            } else if open_model.is_some_and(|model_indent| indent <= model_indent) {
                // Another class at the model's level: the model's body has ended, and a
                // `self.table_name` from here on is that class's, not the model's.
                open_model = None;
            }
        } else if open_model.is_some()
            && let Some(model) = out.last_mut()
            && let Some(table) = assigned_literal(src, li, indent, "self.table_name")
        {
            model.table = Some(table);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::code::search::WriteKind::Model;
    use crate::code::search::testing::assert_writes;

    #[test]
    fn table_name_belongs_to_its_own_class() {
        // `Order` is no ActiveRecord model by its base, so its table name must not be taken
        // for `Customer`'s: `Customer` writes `customers`, not `orders`.
        let text = "class Customer < ApplicationRecord\nend\n\nclass Order < ApplicationModel\n  self.table_name = \"orders\"\nend\n";
        assert_writes("app/models/x.rb", text, "orders", &[]);
        assert_writes("app/models/x.rb", text, "customers", &[(1, Model, None)]);
    }

    #[test]
    fn table_name_after_a_nested_class() {
        let text = "class Order < ApplicationRecord\n  class Error < StandardError; end\n  self.table_name = \"legacy_orders\"\nend\n";
        assert_writes(
            "app/models/order.rb",
            text,
            "legacy_orders",
            &[(1, Model, None)],
        );
        assert_writes("app/models/order.rb", text, "orders", &[]);
    }
}
