//! Avro: the specification's schema-resolution rules, applied in both directions: the new
//! schema as reader of data the deployed version wrote, and the deployed schema as reader of
//! data the new version writes. Every problem is reported with its path (`Order.items[].price`),
//! not only the first (the `apache-avro` crate stops at the first and treats missing enum
//! symbols as partial compatibility).
//!
//! `.avsc` files are JSON, read as YAML through `crate::yaml` so every node has a line and
//! column. A file may hold one schema, a union (a JSON array), or a list of named schemas
//! (also an array, resolved like a union: every writer branch needs a reader branch).

use super::model::{Breaks, Comparison, Flow, Pair, SchemaError, Version, breaking};
use crate::checks::Rule;
use crate::declare_rule;
use crate::report::{Finding, Location, Severity};
use crate::yaml::{Node, Pos, Value};
use std::collections::{BTreeMap, HashSet};

declare_rule! {
    /// ## What it catches
    /// A record field in the new schema that the deployed schema does not have, without a
    /// `default`.
    ///
    /// ## Why it matters during a deploy
    /// Avro data carries no field names: a reader fills a field the writer did not write from
    /// the reader's `default`, and fails without one. The new version cannot read any record
    /// the old version wrote (everything already in the topic, and what old producers still
    /// publish during the rollout).
    ///
    /// ## Example
    /// ```json
    /// old: {"name": "id", "type": "string"}
    /// new: {"name": "id", "type": "string"}, {"name": "time", "type": "long"}
    /// ```
    ///
    /// ## Do this instead
    /// Give the new field a default: `{"name": "time", "type": ["null", "long"], "default": null}`
    /// or `{"name": "time", "type": "long", "default": 0}`.
    pub FIELD_ADDED_WITHOUT_DEFAULT = ("compat/avro-field-added-without-default", Fail, "a field was added without a default");
}

declare_rule! {
    /// ## What it catches
    /// A record field of the deployed schema that the new schema no longer writes, when the
    /// deployed schema has no `default` for it.
    ///
    /// ## Why it matters during a deploy
    /// The old version, reading a record the new version wrote, finds the field missing and has
    /// no default to fill in: old consumers cannot read what the new version publishes.
    ///
    /// ## Example
    /// ```json
    /// old: {"name": "coupon", "type": "string"}
    /// new: (field gone)
    /// ```
    ///
    /// ## Do this instead
    /// First deploy a version whose schema gives the field a default, then remove it.
    pub FIELD_REMOVED_WITHOUT_DEFAULT = ("compat/avro-field-removed-without-default", Fail, "a field without a default was removed");
}

declare_rule! {
    /// ## What it catches
    /// A type change beyond the specification's promotions: int → long, float or double;
    /// long → float or double; float → double; string ↔ bytes. Anything else (including the
    /// reverse of a promotion, e.g. long → int) cannot be read. A primitive turned into a record,
    /// array, map or the reverse too.
    ///
    /// ## Why it matters during a deploy
    /// The reader decodes the writer's bytes with the wrong type: decoding fails. The finding
    /// says which side: a widening (int → long) breaks only old readers of new data.
    ///
    /// ## Example
    /// ```json
    /// old: {"name": "price", "type": "long"}
    /// new: {"name": "price", "type": "int"}
    /// ```
    ///
    /// ## Do this instead
    /// Add a new field with the new type (with a default), write both, then retire the old one.
    pub TYPE_CHANGED = ("compat/avro-type-changed", Fail, "a type changed beyond the allowed promotions");
}

declare_rule! {
    /// ## What it catches
    /// An enum symbol that a writer can write and the reader does not have, when the reader's
    /// enum has no `default`: a symbol removed (the new version cannot read old data that has
    /// it) or added (old readers cannot read new data that has it).
    ///
    /// ## Why it matters during a deploy
    /// Resolution fails on the unknown symbol: the whole record cannot be read.
    ///
    /// ## Example
    /// ```json
    /// old: {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}
    /// new: {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "REFUNDED"]}
    /// ```
    ///
    /// ## Do this instead
    /// Give the enum a `default` symbol before adding symbols (deploy that first, so old readers
    /// have it), and never remove symbols old data may still contain.
    pub ENUM_SYMBOL_MISSING = ("compat/avro-enum-symbol-missing", Fail, "an enum symbol is missing on the reading side and there is no default");
}

declare_rule! {
    /// ## What it catches
    /// An enum symbol unknown to the reader that resolves to the reader's enum `default`.
    ///
    /// ## Why it matters during a deploy
    /// Nothing fails, but the reader sees the default instead of the symbol the writer meant.
    ///
    /// ## Example
    /// ```json
    /// new: {"type": "enum", "name": "Status", "symbols": ["UNKNOWN", "NEW", "REFUNDED"], "default": "UNKNOWN"}
    /// ```
    ///
    /// ## Do this instead
    /// Nothing to fix if the default is handled.
    pub ENUM_SYMBOL_DEFAULTED = ("compat/avro-enum-symbol-defaulted", Info, "an unknown enum symbol is read as the enum's default");
}

declare_rule! {
    /// ## What it catches
    /// A union branch the writer can write that matches no branch of the reader's union (or
    /// the reader's single type, when a field became a union on the writing side only).
    ///
    /// ## Why it matters during a deploy
    /// A value written in that branch cannot be read: e.g. a field changed from `["null",
    /// "string"]` to `"string"` cannot read the nulls the old version wrote.
    ///
    /// ## Example
    /// ```json
    /// old: {"name": "note", "type": ["null", "string"], "default": null}
    /// new: {"name": "note", "type": "string"}
    /// ```
    ///
    /// ## Do this instead
    /// Only add branches to unions a reader already has; remove a branch after no data with it
    /// remains.
    pub UNION_BRANCH_MISSING = ("compat/avro-union-branch-missing", Fail, "a union branch has no match on the reading side");
}

declare_rule! {
    /// ## What it catches
    /// A record, enum or fixed whose name changed without the reader listing the other name in
    /// `aliases`.
    ///
    /// ## Why it matters during a deploy
    /// Named types resolve by name: a reader does not match a writer's type of another name.
    ///
    /// ## Example
    /// ```json
    /// old: {"type": "record", "name": "Order", …}
    /// new: {"type": "record", "name": "Purchase", …}
    /// ```
    ///
    /// ## Do this instead
    /// Add the old name to the new type's `aliases` (`"aliases": ["Order"]`); keep the new name
    /// out of old readers' way by deploying readers first.
    pub NAME_CHANGED = ("compat/avro-name-changed", Fail, "a named type was renamed without an alias");
}

declare_rule! {
    /// ## What it catches
    /// A `fixed` whose `size` changed.
    ///
    /// ## Why it matters during a deploy
    /// A fixed is exactly `size` bytes with no length prefix: a different size misreads
    /// everything after it. Both directions break.
    ///
    /// ## Example
    /// ```json
    /// old: {"type": "fixed", "name": "Hash", "size": 16}   new: … "size": 32
    /// ```
    ///
    /// ## Do this instead
    /// Add a new field with a new fixed type.
    pub FIXED_SIZE_CHANGED = ("compat/avro-fixed-size-changed", Fail, "a fixed type's size changed");
}

declare_rule! {
    /// ## What it catches
    /// A `decimal` logical type whose `precision` or `scale` changed.
    ///
    /// ## Why it matters during a deploy
    /// A decimal is an unscaled integer: the scale is not in the data. A reader with another
    /// scale reads 12.34 as 1.234 or 123.4, silently; the specification says such schemas do not
    /// match. Both directions break.
    ///
    /// ## Example
    /// ```json
    /// old: {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}
    /// new: {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 3}
    /// ```
    ///
    /// ## Do this instead
    /// Add a new field with the new scale and migrate.
    pub DECIMAL_CHANGED = ("compat/avro-decimal-changed", Fail, "a decimal's precision or scale changed");
}

declare_rule! {
    /// ## What it catches
    /// A named type that the schema file uses but does not define (it lives in another file).
    ///
    /// ## Why it matters during a deploy
    /// gonogo compares such types by name only: changes inside them go unnoticed here (they are
    /// found when that file is configured too).
    ///
    /// ## Example
    /// ```json
    /// {"name": "privacy", "type": "test.PrivacyImport"}
    /// ```
    ///
    /// ## Do this instead
    /// Configure the file that defines the type as well.
    pub UNKNOWN_TYPE = ("compat/avro-unknown-type", Info, "a named type is defined in another file; compared by name only");
}

pub static RULES: &[&Rule] = &[
    &FIELD_ADDED_WITHOUT_DEFAULT,
    &FIELD_REMOVED_WITHOUT_DEFAULT,
    &TYPE_CHANGED,
    &ENUM_SYMBOL_MISSING,
    &ENUM_SYMBOL_DEFAULTED,
    &UNION_BRANCH_MISSING,
    &NAME_CHANGED,
    &FIXED_SIZE_CHANGED,
    &DECIMAL_CHANGED,
    &UNKNOWN_TYPE,
];

pub fn compare(pairs: &[Pair], old: &Version, new: &Version) -> Comparison {
    let mut comparison = Comparison::default();
    for pair in pairs {
        let old_schema = read(old, &pair.old_path);
        let new_schema = read(new, &pair.new_path);
        match (old_schema, new_schema) {
            (Ok(o), Ok(n)) => comparison.findings.extend(compare_files(&o, &n)),
            (o, n) => comparison.errors.extend(o.err().into_iter().chain(n.err())),
        }
    }
    comparison.findings.sort_by(|a, b| {
        (&a.location, &a.rule, &a.message).cmp(&(&b.location, &b.rule, &b.message))
    });
    comparison.findings.dedup();
    comparison
}

/// One file's schema and where its named types are defined.
#[derive(Debug)]
pub struct File {
    path: String,
    root: Schema,
    named: BTreeMap<String, Named>,
    unknown: Vec<(String, Pos)>,
}

#[derive(Debug, Clone)]
enum Schema {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes(Option<Decimal>),
    String,
    Array(Box<Schema>),
    Map(Box<Schema>),
    Union(Vec<Schema>, Pos),
    /// A named type, by full name (its definition is in `File::named`).
    Ref(String, Pos),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal {
    precision: i64,
    scale: i64,
}

#[derive(Debug, Clone)]
struct Named {
    full_name: String,
    aliases: Vec<String>,
    pos: Pos,
    kind: NamedKind,
}

#[derive(Debug, Clone)]
enum NamedKind {
    Record(Vec<Field>),
    Enum {
        symbols: Vec<String>,
        default: Option<String>,
    },
    Fixed {
        size: i64,
        decimal: Option<Decimal>,
    },
    /// Used but defined in another file.
    Unknown,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    aliases: Vec<String>,
    schema: Schema,
    has_default: bool,
    pos: Pos,
}

fn read(version: &Version, path: &str) -> Result<File, SchemaError> {
    let text = match version.read(path) {
        Ok(Some(text)) => text,
        Ok(None) => {
            return Err(SchemaError::new(
                Location::file(path),
                format!("file not found in {}", version.label),
            ));
        }
        Err(err) => return Err(SchemaError::new(Location::file(path), err)),
    };
    parse(path, &text)
}

/// Parse an `.avsc` text into a [`File`].
pub fn parse(path: &str, text: &str) -> Result<File, SchemaError> {
    let node = crate::yaml::parse_single(text)
        .map_err(|e| SchemaError::new(Location::new(path, e.pos.line, e.pos.column), e.message))?
        .ok_or_else(|| SchemaError::new(Location::file(path), "empty schema file"))?;
    let mut parser = Parser {
        path,
        named: BTreeMap::new(),
        depth: 0,
    };
    let root = parser.schema(&node, "")?;
    let mut unknown = Vec::new();
    // References to types this file never defines: compared by name.
    let mut refs = Vec::new();
    collect_refs(&root, &mut refs);
    for named in parser.named.values() {
        if let NamedKind::Record(fields) = &named.kind {
            for f in fields {
                collect_refs(&f.schema, &mut refs);
            }
        }
    }
    for (name, pos) in refs {
        if !parser.named.contains_key(&name) {
            unknown.push((name.clone(), pos));
            parser.named.insert(
                name.clone(),
                Named {
                    full_name: name,
                    aliases: Vec::new(),
                    pos,
                    kind: NamedKind::Unknown,
                },
            );
        }
    }
    Ok(File {
        path: path.to_string(),
        root,
        named: parser.named,
        unknown,
    })
}

fn collect_refs(schema: &Schema, out: &mut Vec<(String, Pos)>) {
    match schema {
        Schema::Ref(name, pos) => out.push((name.clone(), *pos)),
        Schema::Array(s) | Schema::Map(s) => collect_refs(s, out),
        Schema::Union(branches, _) => branches.iter().for_each(|b| collect_refs(b, out)),
        _ => {}
    }
}

struct Parser<'a> {
    path: &'a str,
    named: BTreeMap<String, Named>,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, pos: Pos, message: impl Into<String>) -> SchemaError {
        SchemaError::new(Location::new(self.path, pos.line, pos.column), message)
    }

    fn schema(&mut self, node: &Node, namespace: &str) -> Result<Schema, SchemaError> {
        // Deeply nested input is hostile or broken; stop before the stack does.
        if self.depth > 200 {
            return Err(self.error(node.pos, "schema nested more than 200 levels deep"));
        }
        self.depth += 1;
        let result = match &node.value {
            Value::Str(name) => Ok(self.reference(name, namespace, node.pos)),
            Value::Seq(items) => {
                let branches = items
                    .iter()
                    .map(|item| self.schema(item, namespace))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Schema::Union(branches, node.pos))
            }
            Value::Map(_) => self.complex(node, namespace),
            _ => Err(self.error(
                node.pos,
                format!(
                    "expected a schema (a type name, an object or a union), found {}",
                    node.kind_name()
                ),
            )),
        };
        self.depth -= 1;
        result
    }

    fn reference(&self, name: &str, namespace: &str, pos: Pos) -> Schema {
        match name {
            "null" => Schema::Null,
            "boolean" => Schema::Boolean,
            "int" => Schema::Int,
            "long" => Schema::Long,
            "float" => Schema::Float,
            "double" => Schema::Double,
            "bytes" => Schema::Bytes(None),
            "string" => Schema::String,
            _ => {
                let qualified = full_name(name, namespace);
                // An unqualified name that is not defined in the enclosing namespace may be
                // in the null namespace.
                if !self.named.contains_key(&qualified) && self.named.contains_key(name) {
                    Schema::Ref(name.to_string(), pos)
                } else {
                    Schema::Ref(qualified, pos)
                }
            }
        }
    }

    fn complex(&mut self, node: &Node, namespace: &str) -> Result<Schema, SchemaError> {
        let type_node = node
            .get("type")
            .ok_or_else(|| self.error(node.pos, "schema object without \"type\""))?;
        let Some(kind) = type_node.as_str() else {
            // {"type": {"type": "array", …}} or {"type": [..]}: the type is itself a schema.
            return self.schema(type_node, namespace);
        };
        let decimal = decimal_of(node);
        match kind {
            "record" | "error" => self.named_type(node, namespace, |p, ns| {
                let fields = node
                    .get("fields")
                    .ok_or_else(|| p.error(node.pos, "record without \"fields\""))?;
                let mut out = Vec::new();
                for f in fields.items() {
                    let name = f
                        .get("name")
                        .and_then(Node::as_str)
                        .ok_or_else(|| p.error(f.pos, "field without a \"name\""))?;
                    let t = f.get("type").ok_or_else(|| {
                        p.error(f.pos, format!("field `{name}` without a \"type\""))
                    })?;
                    let schema = p.schema(t, ns)?;
                    out.push(Field {
                        name: name.to_string(),
                        aliases: strings(f.get("aliases")),
                        schema,
                        has_default: f.get("default").is_some(),
                        pos: f.pos,
                    });
                }
                Ok(NamedKind::Record(out))
            }),
            "enum" => self.named_type(node, namespace, |_, _| {
                Ok(NamedKind::Enum {
                    symbols: strings(node.get("symbols")),
                    default: node
                        .get("default")
                        .and_then(Node::as_str)
                        .map(str::to_string),
                })
            }),
            "fixed" => self.named_type(node, namespace, |p, _| {
                let size = match node.get("size").map(|s| &s.value) {
                    Some(Value::Int(size)) => *size,
                    _ => return Err(p.error(node.pos, "fixed without an integer \"size\"")),
                };
                Ok(NamedKind::Fixed { size, decimal })
            }),
            "array" => {
                let items = node
                    .get("items")
                    .ok_or_else(|| self.error(node.pos, "array without \"items\""))?;
                Ok(Schema::Array(Box::new(self.schema(items, namespace)?)))
            }
            "map" => {
                let values = node
                    .get("values")
                    .ok_or_else(|| self.error(node.pos, "map without \"values\""))?;
                Ok(Schema::Map(Box::new(self.schema(values, namespace)?)))
            }
            "bytes" => Ok(Schema::Bytes(decimal)),
            // A primitive with attributes (`logicalType`, custom properties): the primitive.
            other => Ok(self.reference(other, namespace, type_node.pos)),
        }
    }

    fn named_type(
        &mut self,
        node: &Node,
        namespace: &str,
        body: impl FnOnce(&mut Self, &str) -> Result<NamedKind, SchemaError>,
    ) -> Result<Schema, SchemaError> {
        let name = node
            .get("name")
            .and_then(Node::as_str)
            .ok_or_else(|| self.error(node.pos, "named type without a \"name\""))?;
        let namespace = match node.get("namespace").and_then(Node::as_str) {
            Some(ns) if !name.contains('.') => ns.to_string(),
            _ => name
                .rsplit_once('.')
                .map(|(ns, _)| ns.to_string())
                .unwrap_or_else(|| namespace.to_string()),
        };
        let full = full_name(name, &namespace);
        let aliases = strings(node.get("aliases"))
            .iter()
            .map(|a| full_name(a, &namespace))
            .collect();
        // Register before the body, so a recursive reference resolves.
        self.named.insert(
            full.clone(),
            Named {
                full_name: full.clone(),
                aliases,
                pos: node.pos,
                kind: NamedKind::Unknown,
            },
        );
        let kind = body(self, &namespace)?;
        if let Some(named) = self.named.get_mut(&full) {
            named.kind = kind;
        }
        Ok(Schema::Ref(full, node.pos))
    }
}

fn full_name(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}.{name}")
    }
}

fn short(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

fn strings(node: Option<&Node>) -> Vec<String> {
    node.map(|n| {
        n.items()
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

fn decimal_of(node: &Node) -> Option<Decimal> {
    if node.get("logicalType").and_then(Node::as_str) != Some("decimal") {
        return None;
    }
    let int = |key: &str| match node.get(key).map(|n| &n.value) {
        Some(Value::Int(v)) => Some(*v),
        _ => None,
    };
    Some(Decimal {
        precision: int("precision").unwrap_or(0),
        scale: int("scale").unwrap_or(0),
    })
}

/// One way a reader fails on a writer's data.
#[derive(Debug, Clone)]
struct Problem {
    rule: &'static Rule,
    /// What identifies the problem across both directions: the path, plus the symbol for
    /// enums (a removed and an added symbol are two problems).
    key: String,
    what: String,
    /// Where to point: in the new file when the element exists there, else in the old one.
    at: Location,
}

struct Resolver<'a> {
    writer: &'a File,
    reader: &'a File,
    /// Whether the reader is the new schema (then new positions are the reader's).
    reader_is_new: bool,
    problems: Vec<Problem>,
    seen: HashSet<(String, String)>,
    /// The field being resolved (reader's, writer's position): where a problem inside an
    /// unnamed type (a primitive, an array) points.
    context: (Option<Pos>, Option<Pos>),
}

impl Resolver<'_> {
    fn at(&self, reader_pos: Option<Pos>, writer_pos: Option<Pos>) -> Location {
        let (reader_pos, writer_pos) = match (reader_pos, writer_pos) {
            (None, None) => self.context,
            given => given,
        };
        let (new_file, new_pos, old_file, old_pos) = if self.reader_is_new {
            (self.reader, reader_pos, self.writer, writer_pos)
        } else {
            (self.writer, writer_pos, self.reader, reader_pos)
        };
        match (new_pos, old_pos) {
            (Some(p), _) => Location::new(&new_file.path, p.line, p.column),
            (None, Some(p)) => Location::new(&old_file.path, p.line, p.column),
            (None, None) => Location::file(&new_file.path),
        }
    }

    fn problem(&mut self, rule: &'static Rule, key: &str, what: String, at: Location) {
        self.problems.push(Problem {
            rule,
            key: key.to_string(),
            what,
            at,
        });
    }

    fn named<'f>(file: &'f File, schema: &Schema) -> Option<&'f Named> {
        match schema {
            Schema::Ref(name, _) => file.named.get(name),
            _ => None,
        }
    }

    /// Can a reader with schema `r` read data written with `w`? `path` names the place.
    fn resolve(&mut self, w: &Schema, r: &Schema, path: &str) {
        match (w, r) {
            (Schema::Union(wb, _), _) => {
                for branch in wb {
                    let candidates: Vec<&Schema> = match r {
                        Schema::Union(rb, _) => rb.iter().collect(),
                        other => vec![other],
                    };
                    match candidates.iter().find(|c| self.matches(branch, c)) {
                        Some(c) => self.resolve(branch, c, path),
                        None => {
                            let at = self.at(pos_of(r), pos_of(w));
                            self.problem(
                                &UNION_BRANCH_MISSING,
                                path,
                                format!(
                                    "`{path}`: the writer's union branch {} has no match in the reader's {}",
                                    self.describe_w(branch),
                                    self.describe_r(r)
                                ),
                                at,
                            );
                        }
                    }
                }
            }
            (_, Schema::Union(rb, _)) => match rb.iter().find(|c| self.matches(w, c)) {
                Some(c) => self.resolve(w, c, path),
                None => {
                    let at = self.at(pos_of(r), pos_of(w));
                    self.problem(
                        &UNION_BRANCH_MISSING,
                        path,
                        format!(
                            "`{path}`: {} matches no branch of the reader's {}",
                            self.describe_w(w),
                            self.describe_r(r)
                        ),
                        at,
                    );
                }
            },
            (Schema::Array(wi), Schema::Array(ri)) => self.resolve(wi, ri, &format!("{path}[]")),
            (Schema::Map(wv), Schema::Map(rv)) => self.resolve(wv, rv, &format!("{path}{{}}")),
            (Schema::Ref(..), Schema::Ref(..)) => self.named_pair(w, r, path),
            (Schema::Bytes(Some(wd)), Schema::Bytes(Some(rd))) if wd != rd => {
                self.decimal_problem(path, *wd, *rd, pos_of(r), pos_of(w))
            }
            _ if promotable(w, r) => {}
            _ => {
                let at = self.at(pos_of(r), pos_of(w));
                self.problem(
                    &TYPE_CHANGED,
                    path,
                    format!(
                        "`{path}`: {} cannot be read as {}",
                        self.describe_w(w),
                        self.describe_r(r)
                    ),
                    at,
                );
            }
        }
    }

    fn decimal_problem(
        &mut self,
        path: &str,
        w: Decimal,
        r: Decimal,
        rp: Option<Pos>,
        wp: Option<Pos>,
    ) {
        let at = self.at(rp, wp);
        self.problem(
            &DECIMAL_CHANGED,
            path,
            format!(
                "`{path}`: decimal({}, {}) written, decimal({}, {}) read",
                w.precision, w.scale, r.precision, r.scale
            ),
            at,
        );
    }

    /// The specification's branch selection: the first reader branch that matches.
    fn matches(&self, w: &Schema, r: &Schema) -> bool {
        match (w, r) {
            (Schema::Ref(..), Schema::Ref(..)) => {
                match (Self::named(self.writer, w), Self::named(self.reader, r)) {
                    (Some(wn), Some(rn)) => same_kind(wn, rn) && names_match(wn, rn),
                    _ => false,
                }
            }
            (Schema::Array(_), Schema::Array(_)) | (Schema::Map(_), Schema::Map(_)) => true,
            (Schema::Null, Schema::Null) => true,
            _ => promotable(w, r),
        }
    }

    fn named_pair(&mut self, w: &Schema, r: &Schema, path: &str) {
        let (Some(wn), Some(rn)) = (Self::named(self.writer, w), Self::named(self.reader, r))
        else {
            return;
        };
        if !self
            .seen
            .insert((wn.full_name.clone(), rn.full_name.clone()))
        {
            return; // recursive type: already being compared
        }
        let at = self.at(Some(rn.pos), Some(wn.pos));
        if matches!(wn.kind, NamedKind::Unknown) || matches!(rn.kind, NamedKind::Unknown) {
            if wn.full_name != rn.full_name && !names_match(wn, rn) {
                self.problem(
                    &NAME_CHANGED,
                    path,
                    format!(
                        "`{path}`: type `{}` is now `{}`",
                        wn.full_name, rn.full_name
                    ),
                    at,
                );
            }
            return;
        }
        if !same_kind(wn, rn) {
            self.problem(
                &TYPE_CHANGED,
                path,
                format!(
                    "`{path}`: {} cannot be read as {}",
                    kind_name(wn),
                    kind_name(rn)
                ),
                at,
            );
            return;
        }
        if !names_match(wn, rn) {
            self.problem(
                &NAME_CHANGED,
                path,
                format!(
                    "`{path}`: {} `{}` is read as `{}`, which does not list it in \"aliases\"",
                    kind_name(wn),
                    wn.full_name,
                    rn.full_name
                ),
                at.clone(),
            );
        }
        match (&wn.kind, &rn.kind) {
            (NamedKind::Record(wf), NamedKind::Record(rf)) => {
                let (wf, rf) = (wf.clone(), rf.clone());
                self.record(&wf, &rf, path);
            }
            (
                NamedKind::Enum { symbols: ws, .. },
                NamedKind::Enum {
                    symbols: rs,
                    default,
                },
            ) => {
                for symbol in ws.iter().filter(|s| !rs.contains(s)) {
                    let (rule, what) = match default {
                        Some(d) => (
                            &ENUM_SYMBOL_DEFAULTED,
                            format!("is read as the default `{d}`"),
                        ),
                        None => (
                            &ENUM_SYMBOL_MISSING,
                            "is unknown to the reader, which has no default".to_string(),
                        ),
                    };
                    self.problem(
                        rule,
                        &format!("{path} {symbol}"),
                        format!(
                            "`{path}`: symbol `{symbol}` of enum `{}` {what}",
                            rn.full_name
                        ),
                        at.clone(),
                    );
                }
            }
            (
                NamedKind::Fixed {
                    size: wsz,
                    decimal: wd,
                },
                NamedKind::Fixed {
                    size: rsz,
                    decimal: rd,
                },
            ) => {
                if wsz != rsz {
                    self.problem(
                        &FIXED_SIZE_CHANGED,
                        path,
                        format!(
                            "`{path}`: fixed `{}` has size {wsz} written, {rsz} read",
                            rn.full_name
                        ),
                        at.clone(),
                    );
                }
                if let (Some(wd), Some(rd)) = (wd, rd)
                    && wd != rd
                {
                    self.decimal_problem(path, *wd, *rd, Some(rn.pos), Some(wn.pos));
                }
            }
            _ => {}
        }
    }

    fn record(&mut self, writer_fields: &[Field], reader_fields: &[Field], path: &str) {
        for rf in reader_fields {
            let matched = writer_fields
                .iter()
                .find(|wf| wf.name == rf.name)
                .or_else(|| {
                    writer_fields
                        .iter()
                        .find(|wf| rf.aliases.contains(&wf.name))
                });
            let field_path = format!("{path}.{}", rf.name);
            match matched {
                Some(wf) => {
                    let (ws, rs) = (wf.schema.clone(), rf.schema.clone());
                    let outer = self.context;
                    self.context = (Some(rf.pos), Some(wf.pos));
                    self.resolve(&ws, &rs, &field_path);
                    self.context = outer;
                }
                None if rf.has_default => {}
                None => {
                    // The reader has a field the writer never writes, and no default.
                    let (rule, what) = if self.reader_is_new {
                        (&FIELD_ADDED_WITHOUT_DEFAULT, "added without a default")
                    } else {
                        (
                            &FIELD_REMOVED_WITHOUT_DEFAULT,
                            "removed, and the deployed schema has no default for it",
                        )
                    };
                    let at = if self.reader_is_new {
                        self.at(Some(rf.pos), None)
                    } else {
                        Location::new(&self.reader.path, rf.pos.line, rf.pos.column)
                    };
                    self.problem(
                        rule,
                        &field_path,
                        format!("field `{field_path}` {what}"),
                        at,
                    );
                }
            }
        }
    }

    fn describe_w(&self, s: &Schema) -> String {
        describe(self.writer, s)
    }

    fn describe_r(&self, s: &Schema) -> String {
        describe(self.reader, s)
    }
}

fn pos_of(s: &Schema) -> Option<Pos> {
    match s {
        Schema::Union(_, p) | Schema::Ref(_, p) => Some(*p),
        _ => None,
    }
}

fn same_kind(a: &Named, b: &Named) -> bool {
    matches!(
        (&a.kind, &b.kind),
        (NamedKind::Record(_), NamedKind::Record(_))
            | (NamedKind::Enum { .. }, NamedKind::Enum { .. })
            | (NamedKind::Fixed { .. }, NamedKind::Fixed { .. })
            | (NamedKind::Unknown, _)
            | (_, NamedKind::Unknown)
    )
}

/// The writer's type matches the reader's when the unqualified names are equal (the
/// specification), or the reader lists the writer's name among its aliases.
fn names_match(writer: &Named, reader: &Named) -> bool {
    short(&writer.full_name) == short(&reader.full_name)
        || reader
            .aliases
            .iter()
            .any(|a| a == &writer.full_name || short(a) == short(&writer.full_name))
}

fn kind_name(n: &Named) -> &'static str {
    match n.kind {
        NamedKind::Record(_) => "record",
        NamedKind::Enum { .. } => "enum",
        NamedKind::Fixed { .. } => "fixed",
        NamedKind::Unknown => "type",
    }
}

fn describe(file: &File, s: &Schema) -> String {
    match s {
        Schema::Null => "null".into(),
        Schema::Boolean => "boolean".into(),
        Schema::Int => "int".into(),
        Schema::Long => "long".into(),
        Schema::Float => "float".into(),
        Schema::Double => "double".into(),
        Schema::Bytes(None) => "bytes".into(),
        Schema::Bytes(Some(d)) => format!("decimal({}, {})", d.precision, d.scale),
        Schema::String => "string".into(),
        Schema::Array(i) => format!("array<{}>", describe(file, i)),
        Schema::Map(v) => format!("map<{}>", describe(file, v)),
        Schema::Union(b, _) => format!(
            "union [{}]",
            b.iter()
                .map(|x| describe(file, x))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Schema::Ref(name, _) => match file.named.get(name) {
            Some(n) => format!("{} `{name}`", kind_name(n)),
            None => format!("`{name}`"),
        },
    }
}

/// The specification's promotions, plus identity of primitives.
fn promotable(w: &Schema, r: &Schema) -> bool {
    use Schema::*;
    matches!(
        (w, r),
        (Null, Null)
            | (Boolean, Boolean)
            | (Int, Int | Long | Float | Double)
            | (Long, Long | Float | Double)
            | (Float, Float | Double)
            | (Double, Double)
            | (String, String | Bytes(None))
            | (Bytes(_), Bytes(_))
            | (Bytes(None), String)
    )
}

/// Both directions for one pair of files.
fn compare_files(old: &File, new: &File) -> Vec<Finding> {
    let run = |writer: &File, reader: &File, reader_is_new: bool| {
        let mut r = Resolver {
            writer,
            reader,
            reader_is_new,
            problems: Vec::new(),
            seen: HashSet::new(),
            context: (None, None),
        };
        let top = top_path(reader);
        r.resolve(&writer.root, &reader.root, &top);
        r.problems
    };
    let new_reads_old = run(old, new, true);
    let old_reads_new = run(new, old, false);
    let mut findings = Vec::new();
    // Info problems do not break: they say who sees what instead of a consequence.
    let (new_reads_old, notes_new): (Vec<Problem>, Vec<Problem>) = new_reads_old
        .into_iter()
        .partition(|p| p.rule.default_severity != Severity::Info);
    let (old_reads_new, notes_old): (Vec<Problem>, Vec<Problem>) = old_reads_new
        .into_iter()
        .partition(|p| p.rule.default_severity != Severity::Info);
    for (notes, who) in [
        (notes_new, "updated consumers"),
        (notes_old, "old consumers"),
    ] {
        for p in notes {
            findings.push(p.rule.finding(format!("{} (for {who})", p.what)).at(p.at));
        }
    }
    // A problem found in both directions at the same place is one finding that breaks both.
    for p in &new_reads_old {
        let both = old_reads_new
            .iter()
            .any(|q| q.rule.id == p.rule.id && q.key == p.key);
        let breaks = if both {
            Breaks::Both
        } else {
            Breaks::NewReadsOld
        };
        findings.push(breaking(
            p.rule,
            &p.what,
            breaks,
            Flow::Message,
            p.at.clone(),
        ));
    }
    for p in &old_reads_new {
        if !new_reads_old
            .iter()
            .any(|q| q.rule.id == p.rule.id && q.key == p.key)
        {
            findings.push(breaking(
                p.rule,
                &p.what,
                Breaks::OldReadsNew,
                Flow::Message,
                p.at.clone(),
            ));
        }
    }
    for (name, pos) in &new.unknown {
        findings.push(
            UNKNOWN_TYPE
                .finding(format!(
                    "type `{name}` is not defined in this file: compared by name only"
                ))
                .at(Location::new(&new.path, pos.line, pos.column)),
        );
    }
    findings
}

fn top_path(file: &File) -> String {
    match &file.root {
        Schema::Ref(name, _) => short(name).to_string(),
        _ => "(root)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> File {
        parse("s.avsc", text).unwrap()
    }

    fn rules(old: &str, new: &str) -> Vec<String> {
        let mut r: Vec<String> = compare_files(&file(old), &file(new))
            .iter()
            .map(|f| format!("{} {}", f.rule, f.message.split(':').next().unwrap_or("")))
            .collect();
        r.sort();
        r
    }

    #[test]
    fn promotions_follow_the_specification() {
        assert!(promotable(&Schema::Int, &Schema::Long));
        assert!(promotable(&Schema::Long, &Schema::Double));
        assert!(!promotable(&Schema::Long, &Schema::Int));
        assert!(promotable(&Schema::String, &Schema::Bytes(None)));
        assert!(promotable(&Schema::Bytes(None), &Schema::String));
        assert!(!promotable(&Schema::Double, &Schema::Float));
    }

    #[test]
    fn widening_breaks_only_old_readers() {
        let old = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#;
        let new = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"long"}]}"#;
        let findings = compare_files(&file(old), &file(new));
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("old consumers cannot read"));
        assert!(!findings[0].message.contains("updated consumers"));
    }

    #[test]
    fn aliases_match_renamed_records_and_fields() {
        let old = r#"{"type":"record","name":"Order","fields":[{"name":"total","type":"long"}]}"#;
        let new = r#"{"type":"record","name":"Purchase","aliases":["Order"],"fields":[{"name":"amount","aliases":["total"],"type":"long"}]}"#;
        // New reads old through the aliases; old (without aliases) cannot read new.
        let r = rules(old, new);
        assert!(r.iter().all(|x| !x.contains("updated consumers")), "{r:?}");
        assert!(
            r.iter().any(|x| x.starts_with("compat/avro-name-changed")),
            "{r:?}"
        );
    }

    #[test]
    fn namespaces_qualify_references() {
        let f = file(
            r#"{"type":"record","name":"R","namespace":"a.b","fields":[{"name":"x","type":{"type":"enum","name":"E","symbols":["A"]}},{"name":"y","type":"E"}]}"#,
        );
        assert!(f.named.contains_key("a.b.R"));
        assert!(f.named.contains_key("a.b.E"));
        assert!(f.unknown.is_empty(), "{:?}", f.unknown);
    }
}
