//! "Going away" markers: the old code's own sign that a column is being retired, which turns
//! a use of it from a deploy breaker into an expected leftover.
//!
//! Two kinds count: Rails `ignored_columns` listing the column (ActiveRecord then neither
//! reads nor writes it, the documented first step of dropping a column), and marker texts the
//! project configures (`gonogo:dropping`, `#[deprecated`) on a reference's line or the line
//! just above it, where such comments and attributes stand.

use std::collections::BTreeSet;

use super::lexer::Source;
use super::names::{has_word, word_matches};
use super::{Marker, snippet};

/// The markers about `name` in the file, in line order, one per line. `column`: whether
/// `name` is a column (only columns are ignored); `reference_offsets`: where the references
/// to it are, which the configured `texts` must stand beside.
pub(super) fn find(
    src: &Source,
    path: &str,
    name: &str,
    column: bool,
    reference_offsets: impl Iterator<Item = usize>,
    texts: &[String],
) -> Vec<Marker> {
    let mut marker_lines = BTreeSet::new();
    if column {
        marker_lines.extend(ignored_columns_lines(src, name));
    }
    let wanted: Vec<&str> = texts
        .iter()
        .map(String::as_str)
        .filter(|m| !m.is_empty())
        .collect();
    if !wanted.is_empty() {
        let ref_lines: BTreeSet<usize> = reference_offsets.map(|off| src.line_index(off)).collect();
        for li in ref_lines {
            for l in [li.checked_sub(1), Some(li)].into_iter().flatten() {
                if wanted.iter().any(|m| src.line(l).contains(m)) {
                    marker_lines.insert(l);
                }
            }
        }
    }
    marker_lines
        .into_iter()
        .map(|li| Marker {
            path: path.to_string(),
            line: li as u32 + 1,
            text: snippet(src.line(li)),
        })
        .collect()
}

/// Rails `self.ignored_columns = [...]`/`+= %w[...]`/`<< "x"` lines that list `column`.
fn ignored_columns_lines(src: &Source, column: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for off in word_matches(src.text, "ignored_columns", false) {
        if !src.is_code(off) {
            continue;
        }
        let from = off + "ignored_columns".len();
        let line_end = src
            .text
            .get(from..)
            .and_then(|s| s.find('\n'))
            .map_or(src.text.len(), |p| from + p);
        let bracket = src
            .text
            .get(from..line_end)
            .and_then(|s| s.find(['[', '(']))
            .map(|p| from + p);
        let end = bracket
            .and_then(|b| src.close_of(b, 4000))
            .unwrap_or(line_end)
            .max(line_end);
        if has_word(src.text.get(from..end).unwrap_or(""), column, true) {
            out.push(src.line_index(off));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::code::search::Strength::Identifier;
    use crate::code::search::WriteKind::Model;
    use crate::code::search::testing::{assert_refs, assert_writes};
    use crate::code::search::{Marker, find};

    #[test]
    fn rails_model_ignored_columns_marker() {
        let path = "app/models/order.rb";
        let text = "class Order < ApplicationRecord\n  self.ignored_columns += %w[\n    legacy\n    total\n  ]\n  self.table_name = \"orders\"\nend\n";
        let found = find(path, text, "orders", Some("total"), &[]);
        let marker = Marker {
            path: path.into(),
            line: 2,
            text: "self.ignored_columns += %w[".into(),
        };
        assert_eq!(found.markers, vec![marker]);
        assert_refs(
            path,
            text,
            &[("orders", Some("total"), &[(4, 5, Identifier, false)])],
        );
        assert_writes(path, text, "orders", &[(1, Model, None)]);
        let other = find(path, text, "orders", Some("legacy_total"), &[]);
        assert_eq!(other.markers, vec![]);
    }

    #[test]
    fn configured_marker_on_the_line_above() {
        let text = "struct Order {\n    // gonogo:dropping\n    total: i64,\n    #[deprecated] note: String,\n}\n";
        let markers = vec!["gonogo:dropping".to_string(), "#[deprecated".to_string()];
        let found = find("src/o.rs", text, "orders", Some("total"), &markers);
        let marker = Marker {
            path: "src/o.rs".into(),
            line: 2,
            text: "// gonogo:dropping".into(),
        };
        assert_eq!(found.markers, vec![marker]);
        let found = find("src/o.rs", text, "orders", Some("note"), &markers);
        let lines: Vec<u32> = found.markers.iter().map(|m| m.line).collect();
        assert_eq!(lines, vec![4]);
    }
}
