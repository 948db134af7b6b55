//! A generic YAML tree that remembers where every node is, read once per document through
//! serde-saphyr (`Spanned`), so findings point at the user's own lines. Kubernetes manifests,
//! and OpenAPI and JSON Schema files (JSON is read as the YAML it is) use it.
//!
//! A stream is split into documents at `---` / `...` lines before parsing. YAML forbids a
//! document marker at the start of a line anywhere inside a document (even in a quoted or block
//! scalar), so the split is exact; it lets each document be parsed, checked and dropped on its
//! own (memory stays proportional to the largest document, not the stream), gives every
//! document its starting line, and keeps serde-saphyr's per-stream budget (1,024 documents by
//! default) from rejecting a large `helm template` output.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A 1-based line and column in a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub fn new(line: u32, column: u32) -> Self {
        Pos { line, column }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One YAML node and where it is. Aliases carry the position where they are used.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order; keys keep their own positions (findings point at `maxSurge:`).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The entry of a mapping whose key is `key`: (key node, value node).
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_key().as_deref() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// Follow a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar as text, the way Kubernetes would read a string-ish key (`80: x` → "80").
    pub fn as_key(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Null => Some(String::new()),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// What kind of node this is, for messages ("expected a number, found a mapping").
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a number",
            Value::Float(_) => "a decimal number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    fn shift(&mut self, lines: u32) {
        self.pos.line += lines;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.shift(lines)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.shift(lines);
                v.shift(lines);
            }),
            _ => {}
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            value: spanned.value,
            pos: Pos::new(
                spanned.referenced.line() as u32,
                spanned.referenced.column() as u32,
            ),
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(i64::try_from(v).map_or_else(|_| Value::Str(v.to_string()), Value::Int))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
                Ok(i64::try_from(v).map_or_else(|_| Value::Str(v.to_string()), Value::Int))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
                Ok(i64::try_from(v).map_or_else(|_| Value::Str(v.to_string()), Value::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
                Ok(Value::Str(v))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
                Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Node>()? {
                    items.push(item);
                }
                Ok(Value::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Node, Node>()? {
                    entries.push(entry);
                }
                Ok(Value::Map(entries))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// One document of a stream, as text, with the line its first line has in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawDocument<'a> {
    pub text: &'a str,
    /// 1-based line of `text`'s first line in the file.
    pub first_line: u32,
}

fn is_document_start(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

fn is_document_end(line: &str) -> bool {
    line.strip_prefix("...")
        .is_some_and(|rest| rest.trim_end().is_empty() || rest.starts_with([' ', '\t', '#']))
}

/// Whether a line holds document content (not blank, a comment or a directive).
fn is_content(line: &str) -> bool {
    let trimmed = line.trim_start();
    !(trimmed.is_empty() || trimmed.starts_with('#') || line.starts_with('%'))
}

/// Where a document of a stream ends, decided one line at a time, so a stream can be split as
/// it is read (standard input is never held whole) and a text can be split in place.
#[derive(Debug, Default)]
pub struct Splitter {
    /// A `---` or content belongs to the current document.
    started: bool,
    has_content: bool,
}

/// The current document ends at this line: it is the first line of the next document
/// (`---`) or the last line of this one (`...`). `has_content` is false for a document of
/// only comments and directives, which is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    Before { has_content: bool },
    After { has_content: bool },
}

impl Splitter {
    /// Feed the next line, without its line ending.
    pub fn line(&mut self, bare: &str) -> Option<Cut> {
        if is_document_start(bare) {
            let cut = self.started.then_some(Cut::Before {
                has_content: self.has_content,
            });
            self.started = true;
            // `--- {a: 1}` or `--- !!map`: content on the marker line itself.
            self.has_content = is_content(bare[3..].trim_start());
            cut
        } else if is_document_end(bare) {
            let cut = Cut::After {
                has_content: self.has_content,
            };
            self.started = false;
            self.has_content = false;
            Some(cut)
        } else {
            if is_content(bare) {
                self.started = true;
                self.has_content = true;
            }
            None
        }
    }

    /// Whether the document still open at the end of the stream has content.
    pub fn has_content(&self) -> bool {
        self.has_content
    }
}

/// Split a YAML stream into documents. Documents without content (only comments) are dropped.
pub fn split_documents(text: &str) -> Vec<RawDocument<'_>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut documents = Vec::new();
    let mut splitter = Splitter::default();
    let mut start = 0usize; // byte offset of the current document
    let mut start_line = 1u32;
    let mut offset = 0usize;
    let mut push = |from: usize, to: usize, line: u32, has_content: bool| {
        if has_content {
            documents.push(RawDocument {
                text: &text[from..to],
                first_line: line,
            });
        }
    };
    for (line_number, line) in (1u32..).zip(text.split_inclusive('\n')) {
        match splitter.line(line.trim_end_matches(['\n', '\r'])) {
            Some(Cut::Before { has_content }) => {
                push(start, offset, start_line, has_content);
                start = offset;
                start_line = line_number;
            }
            Some(Cut::After { has_content }) => {
                push(start, offset + line.len(), start_line, has_content);
                start = offset + line.len();
                start_line = line_number + 1;
            }
            None => {}
        }
        offset += line.len();
    }
    push(start, text.len(), start_line, splitter.has_content());
    documents
}

/// A document that is not valid YAML: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parse one document. `Ok(None)` for a null document.
pub fn parse_document(document: &RawDocument<'_>) -> Result<Option<Node>, SyntaxError> {
    let options = serde_saphyr::options! { with_snippet: false };
    match serde_saphyr::from_str_with_options::<Node>(document.text, options) {
        Ok(mut node) => {
            node.shift(document.first_line - 1);
            Ok((!node.is_null()).then_some(node))
        }
        Err(err) => {
            let (line, column) = err
                .location()
                .map(|l| (l.line() as u32, l.column() as u32))
                .filter(|(line, _)| *line > 0)
                .unwrap_or((1, 1));
            let raw = err.without_snippet().to_string();
            Err(SyntaxError {
                pos: Pos::new(line + document.first_line - 1, column.max(1)),
                message: plain_message(strip_position_suffix(&raw)),
            })
        }
    }
}

/// Parse a file that holds one document (an OpenAPI spec, a JSON Schema). A stream of several
/// documents is an error at the second one; `Ok(None)` for an empty file.
pub fn parse_single(text: &str) -> Result<Option<Node>, SyntaxError> {
    let documents = split_documents(text);
    match documents.as_slice() {
        [] => Ok(None),
        [only] => parse_document(only),
        [_, second, ..] => Err(SyntaxError {
            pos: Pos::new(second.first_line, 1),
            message: "a second YAML document; expected one document in this file".to_string(),
        }),
    }
}

/// Parser wording a manifest author can act on.
fn plain_message(message: &str) -> String {
    match message.split_once(", set DuplicateKeyPolicy") {
        Some((head, _)) => head.replace("duplicate mapping key", "duplicate key"),
        None => message.to_string(),
    }
}

/// serde-saphyr appends " at line L, column C"; the position is reported separately.
fn strip_position_suffix(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(index) if message[index..].contains(", column ") => &message[..index],
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(text: &str) -> Vec<Result<Option<Node>, SyntaxError>> {
        split_documents(text).iter().map(parse_document).collect()
    }

    fn only(text: &str) -> Node {
        let mut docs = parse_all(text);
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0).unwrap().unwrap()
    }

    #[test]
    fn positions_of_keys_and_values() {
        let node = only(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 3\n  strategy:\n    type: Recreate\n",
        );
        assert_eq!(node.pos, Pos::new(1, 1));
        let (key, value) = node.get("spec").unwrap().entry("replicas").unwrap();
        assert_eq!(key.pos, Pos::new(4, 3));
        assert_eq!(value.pos, Pos::new(4, 13));
        assert_eq!(value.value, Value::Int(3));
        let kind = node.path(&["spec", "strategy", "type"]).unwrap();
        assert_eq!(
            (kind.as_str(), kind.pos),
            (Some("Recreate"), Pos::new(6, 11))
        );
    }

    #[test]
    fn multi_document_streams_keep_file_lines() {
        let text = "# leading comment\n---\na: 1\n---\n# only a comment\n---\nb:\n  c: x\n...\n---\nd: [1, 2]\n";
        let docs: Vec<Node> = parse_all(text)
            .into_iter()
            .map(|d| d.unwrap().unwrap())
            .collect();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].pos.line, 3);
        assert_eq!(docs[1].path(&["b", "c"]).unwrap().pos, Pos::new(8, 6));
        assert_eq!(docs[2].pos.line, 11);
        assert_eq!(docs[2].get("d").unwrap().items()[1].pos, Pos::new(11, 8));
    }

    #[test]
    fn document_markers_only_at_column_one() {
        let text = "a: |\n  ---\n  text\nb: \"x --- y\"\n";
        let node = only(text);
        assert_eq!(node.get("a").unwrap().as_str(), Some("---\ntext\n"));
        assert_eq!(split_documents("--- {a: 1}\n--- {b: 2}\n").len(), 2);
        assert_eq!(split_documents("%YAML 1.2\n---\na: 1\n").len(), 1);
        assert!(split_documents("# nothing\n---\n\n").is_empty());
    }

    #[test]
    fn invalid_yaml_names_the_line_in_the_file() {
        let text = "a: 1\n---\nkind: Rollout\nspec:\n  x: 1\n  {{- if .Values.y }}\n";
        let docs = parse_all(text);
        assert!(docs[0].is_ok());
        let err = docs[1].clone().unwrap_err();
        assert_eq!(err.pos.line, 6, "{err:?}");
        assert!(!err.message.contains(" at line "), "{err:?}");
        let dup = parse_all("a: 1\na: 2\n").remove(0).unwrap_err();
        assert_eq!(dup.pos.line, 2, "{dup:?}");
        assert_eq!(dup.message, "duplicate key: a");
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text =
            "base: &base\n  replicas: 3\n  name: x\nother:\n  <<: *base\n  name: z\nref: *base\n";
        let node = only(text);
        let other = node.get("other").unwrap();
        assert_eq!(other.get("replicas").unwrap().value, Value::Int(3));
        assert_eq!(other.get("name").unwrap().as_str(), Some("z"));
        let alias = node.get("ref").unwrap();
        assert_eq!(alias.get("replicas").unwrap().value, Value::Int(3));
        assert_eq!(alias.pos.line, 7, "an alias is reported where it is used");
    }

    #[test]
    fn scalars_keep_their_types() {
        let node = only("a: 25%\nb: 1\nc: \"1\"\nd: true\ne: ~\nf: 1.5\n80: port\n");
        assert_eq!(node.get("a").unwrap().value, Value::Str("25%".into()));
        assert_eq!(node.get("b").unwrap().value, Value::Int(1));
        assert_eq!(node.get("c").unwrap().value, Value::Str("1".into()));
        assert_eq!(node.get("d").unwrap().value, Value::Bool(true));
        assert!(node.get("e").unwrap().is_null());
        assert_eq!(node.get("f").unwrap().value, Value::Float(1.5));
        assert_eq!(node.get("80").unwrap().as_str(), Some("port"));
    }
}
