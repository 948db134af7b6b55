//! Comparing two JSON-Schema-like schemas (JSON Schema draft-04 to 2020-12, OpenAPI 3.x schema
//! objects, Swagger 2.0 schemas and non-body parameters): shared by `openapi` and `jsonschema`.
//!
//! A change either *narrows* what a schema accepts (the new version rejects some data the old
//! one accepted), *widens* it (the old version rejects some data the new one produces), or both.
//! Who suffers depends on the flow: narrowing a request breaks clients that are not updated yet
//! (updated pods reject them), widening a response breaks them (they receive what they do not
//! know), and a message (an event in a topic) breaks on both: updated consumers read old events,
//! old consumers read new events. Each rule names the kind of change; [`Differ::emit`] turns the
//! change's nature and the flow into the direction that breaks, or into an `info` finding when
//! nobody does.
//!
//! Schemas are read from [`Docs`]: a file and every file its `$ref`s reach in one version,
//! loaded up front so that comparing is pure. `$ref` cycles are cut by remembering which pairs
//! of schema nodes were already compared (which also reports a shared definition once).

use super::model::{Breaks, Flow, SchemaError, Version, breaking};
use crate::checks::Rule;
use crate::declare_rule;
use crate::report::{Finding, Location};
use crate::yaml::{Node, Pos, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// More files than any real spec splits into: a guard against generated ref mazes.
const MAX_FILES: usize = 256;
/// `$ref` → `$ref` → … hops before a chain counts as a cycle.
const MAX_REF_HOPS: usize = 32;
/// Nesting depth of compared schemas; deeper structures are not compared further.
const MAX_DEPTH: usize = 64;
/// Schema nodes merged into one view (allOf members, ref targets).
const MAX_MERGED: usize = 256;

declare_rule! {
    /// ## What it catches
    /// The type a field accepts changed: narrowed (`number` → `integer`, a type added where any
    /// value was allowed, `["string", "null"]` → `string`), widened (`integer` → `number`, a field
    /// made nullable) or changed outright (`object` → `array`). Also a `oneOf`/`anyOf`
    /// alternative removed (narrowed) or added (widened).
    ///
    /// ## Why it matters during a deploy
    /// Old and new pods serve side by side. A narrowed request type makes updated pods reject
    /// requests from clients that are not updated yet; a widened response or event type hands
    /// old readers values they cannot parse (a `null` where they expect a string).
    ///
    /// ## Example
    /// ```yaml
    /// # old                      # new
    /// amount: {type: integer}    amount: {type: string}
    /// ```
    ///
    /// ## Do this instead
    /// Add a new field with the new type, write both for a release, move readers over, then
    /// remove the old field. Widen requests before responses: accept first, send later.
    pub TYPE_CHANGED = ("compat/type-changed", Fail, "a field's type was narrowed, widened or changed");
}

declare_rule! {
    /// ## What it catches
    /// A property that did not exist before is added as `required`.
    ///
    /// ## Why it matters during a deploy
    /// Writers that are not updated yet (clients of the old API, producers of events already in
    /// a topic) do not send it, so updated pods or consumers reject their data. In a response
    /// it is harmless and not reported.
    ///
    /// ## Example
    /// ```yaml
    /// # old                          # new
    /// required: [sku]                required: [sku, currency]
    /// properties:                    properties:
    ///   sku: {type: string}            sku: {type: string}
    ///                                  currency: {type: string}
    /// ```
    ///
    /// ## Do this instead
    /// Add the property as optional with a server-side default; make it required in a later
    /// deploy, once every writer sends it.
    pub REQUIRED_PROPERTY_ADDED = ("compat/required-property-added", Fail, "a new property is required from writers that do not send it");
}

declare_rule! {
    /// ## What it catches
    /// An existing optional property is added to `required`.
    ///
    /// ## Why it matters during a deploy
    /// Writers that are not updated yet may omit it; updated pods (or consumers) now reject
    /// their requests (or events). In a response it only strengthens a promise: not reported.
    ///
    /// ## Example
    /// ```yaml
    /// # old                 # new
    /// required: [sku]       required: [sku, note]
    /// ```
    ///
    /// ## Do this instead
    /// Keep it optional and default it where it is read; require it only after every writer
    /// is known to send it.
    pub PROPERTY_MADE_REQUIRED = ("compat/property-made-required", Fail, "an optional property became required");
}

declare_rule! {
    /// ## What it catches
    /// A required property of a response or message is no longer required.
    ///
    /// ## Why it matters during a deploy
    /// Readers that are not updated yet rely on it being present; updated pods (or producers)
    /// may now leave it out, and old readers fail on the missing field. In a request it is a
    /// relaxation (reported as `compat/request-widened`).
    ///
    /// ## Example
    /// ```yaml
    /// # old                              # new
    /// required: [name, status, peers]    required: [status]
    /// ```
    ///
    /// ## Do this instead
    /// Keep sending the property (deprecate it in its description) until every reader
    /// tolerates its absence, then make it optional.
    pub PROPERTY_MADE_OPTIONAL = ("compat/property-made-optional", Fail, "a property readers rely on is no longer required");
}

declare_rule! {
    /// ## What it catches
    /// A property removed from a response; or from a request or message whose model rejects
    /// unknown properties (`additionalProperties: false`); or a required property removed from
    /// a message.
    ///
    /// ## Why it matters during a deploy
    /// Readers that are not updated yet still read the property from what updated pods send;
    /// writers that are not updated yet still send it, and a closed model now rejects it.
    ///
    /// ## Example
    /// ```yaml
    /// # old (response)                  # new
    /// properties:                       properties:
    ///   Size: {type: integer}             Size: {type: integer}
    ///   VirtualSize: {type: integer}
    /// ```
    ///
    /// ## Do this instead
    /// Deprecate first and keep sending the property until no reader uses it; remove it in a
    /// later deploy. In a closed request model, stop rejecting it before clients stop sending.
    pub PROPERTY_REMOVED = ("compat/property-removed", Fail, "a property readers still read, or writers still send, was removed");
}

declare_rule! {
    /// ## What it catches
    /// A property removed from a request or message schema that still accepts unknown
    /// properties. Data that carries it still validates, but the new version no longer gives
    /// it a meaning.
    ///
    /// ## Why it matters during a deploy
    /// Clients (or producers) that are not updated yet keep sending the property and expect it
    /// to do something; updated pods silently ignore it. Nothing is rejected, so this warns.
    ///
    /// ## Example
    /// ```yaml
    /// # old (request body)           # new
    /// properties:                    properties:
    ///   name: {type: string}           name: {type: string}
    ///   editorconfig: {type: boolean}
    /// ```
    ///
    /// ## Do this instead
    /// Deprecate the property in its description first and check that no writer depends on
    /// it; then remove it.
    pub PROPERTY_UNDECLARED = ("compat/property-undeclared", Warn, "a property writers may still send is no longer declared");
}

declare_rule! {
    /// ## What it catches
    /// An optional property added to a schema that accepts unknown properties (or a required
    /// one added to a response).
    ///
    /// ## Why it matters during a deploy
    /// It does not break anything: old readers ignore what they do not know, and writers that
    /// are not updated yet may leave it out. It is listed so a reviewer sees the contract grow.
    ///
    /// ## Example
    /// ```yaml
    /// # old                      # new
    /// properties:                properties:
    ///   id: {type: string}         id: {type: string}
    ///                              note: {type: string}
    /// ```
    ///
    /// ## Do this instead
    /// Nothing to do; make sure the code treats the property as possibly absent.
    pub PROPERTY_ADDED = ("compat/property-added", Info, "an optional property was added");
}

declare_rule! {
    /// ## What it catches
    /// A property added to a model that rejected unknown properties before
    /// (`additionalProperties: false` in the old schema).
    ///
    /// ## Why it matters during a deploy
    /// Readers that are not updated yet validate with the old, closed model: a response or event
    /// that carries the new property fails their validation.
    ///
    /// ## Example
    /// ```yaml
    /// # old                          # new
    /// additionalProperties: false    additionalProperties: false
    /// properties:                    properties:
    ///   id: {type: string}             id: {type: string}
    ///                                  tag: {type: string}
    /// ```
    ///
    /// ## Do this instead
    /// Open the model first (or deploy the readers first), then start writing the property.
    pub PROPERTY_ADDED_TO_CLOSED_MODEL = ("compat/property-added-to-closed-model", Fail, "a property was added to a model old readers keep closed");
}

declare_rule! {
    /// ## What it catches
    /// `additionalProperties` changed: a model closed (`false`), opened, or its schema for
    /// undeclared properties changed.
    ///
    /// ## Why it matters during a deploy
    /// Closing a request or message model makes updated readers reject data with extra keys that
    /// the old version accepted; opening a response or message model lets updated writers send
    /// keys that old readers' closed models reject.
    ///
    /// ## Example
    /// ```yaml
    /// # old                       # new
    /// type: object                type: object
    ///                             additionalProperties: false
    /// ```
    ///
    /// ## Do this instead
    /// Close a model only after checking that no writer sends extra keys (log them first);
    /// open one only after every reader accepts extra keys.
    pub ADDITIONAL_PROPERTIES_CHANGED = ("compat/additional-properties-changed", Fail, "additionalProperties was tightened or loosened");
}

declare_rule! {
    /// ## What it catches
    /// A value removed from an `enum` of a request or message field.
    ///
    /// ## Why it matters during a deploy
    /// Writers that are not updated yet still send the value; updated pods or consumers reject
    /// it (a renamed value is a removal plus an addition). In a response, removing a value
    /// is safe and not reported.
    ///
    /// ## Example
    /// ```yaml
    /// # old                                   # new
    /// enum: [password, refresh_token, oauth_pkce]    enum: [password, refresh_token, pkce]
    /// ```
    ///
    /// ## Do this instead
    /// Keep accepting the old value (map it to the new one) until no writer sends it.
    pub ENUM_VALUE_REMOVED = ("compat/enum-value-removed", Fail, "an enum value writers may still send was removed");
}

declare_rule! {
    /// ## What it catches
    /// A value added to an `enum` of a response or message field.
    ///
    /// ## Why it matters during a deploy
    /// Readers that are not updated yet switch over the values they know; updated pods (or
    /// producers) now send one they do not, and strict deserializers fail. Adding a value to a
    /// request enum is safe (reported as `compat/request-widened`).
    ///
    /// ## Example
    /// ```yaml
    /// # old                            # new
    /// enum: [pending, paid]            enum: [pending, paid, refunded]
    /// ```
    ///
    /// ## Do this instead
    /// Deploy readers that tolerate unknown values first (a fallback branch), then send the
    /// new value.
    pub ENUM_VALUE_ADDED = ("compat/enum-value-added", Fail, "an enum value readers do not know was added");
}

declare_rule! {
    /// ## What it catches
    /// A validation constraint tightened on a request or message field: `maxLength`,
    /// `maxItems`, `maximum` decreased; `minLength`, `minItems`, `minimum` increased; a
    /// `pattern`, `format`, `multipleOf`, `uniqueItems` or `enum` restriction added or changed.
    ///
    /// ## Why it matters during a deploy
    /// Writers that are not updated yet send values the old version accepted; updated pods
    /// or consumers now reject them. Tightening a response is safe and not reported.
    ///
    /// ## Example
    /// ```yaml
    /// # old                           # new
    /// name: {type: string, maxLength: 64}    name: {type: string, maxLength: 32}
    /// ```
    ///
    /// ## Do this instead
    /// Tighten in two steps: first make writers comply (and measure that they do), then
    /// enforce the constraint.
    pub CONSTRAINT_TIGHTENED = ("compat/constraint-tightened", Fail, "a validation constraint was tightened");
}

declare_rule! {
    /// ## What it catches
    /// A validation constraint loosened on a response or message field: `maxLength` increased,
    /// `minimum` decreased, a `pattern`, `format` or `enum` restriction removed.
    ///
    /// ## Why it matters during a deploy
    /// Readers that are not updated yet still validate (or size buffers, or parse formats) by
    /// the old constraint; updated pods or producers now send values outside it. Loosening a
    /// request is safe (reported as `compat/request-widened`).
    ///
    /// ## Example
    /// ```yaml
    /// # old (response)                       # new
    /// code: {type: string, maxLength: 8}     code: {type: string, maxLength: 16}
    /// ```
    ///
    /// ## Do this instead
    /// Loosen readers first, then let writers use the wider range.
    pub CONSTRAINT_LOOSENED = ("compat/constraint-loosened", Fail, "a validation constraint readers rely on was loosened");
}

declare_rule! {
    /// ## What it catches
    /// A request that now accepts more than before: an enum value added, a type widened, a
    /// constraint loosened, a property no longer required.
    ///
    /// ## Why it matters during a deploy
    /// Nothing breaks for clients that are not updated yet. But an updated client that uses the
    /// new freedom gets rejected by old pods until the rollout completes: ship clients that
    /// rely on it after the deploy, not with it.
    ///
    /// ## Example
    /// ```yaml
    /// # old (request)               # new
    /// enum: [card, invoice]         enum: [card, invoice, wallet]
    /// ```
    ///
    /// ## Do this instead
    /// Nothing to do; release clients that use it once every pod runs the new version.
    pub REQUEST_WIDENED = ("compat/request-widened", Info, "a request accepts more than before (compatible)");
}

/// The schema-level rules, in `explain` order.
pub static RULES: &[&Rule] = &[
    &TYPE_CHANGED,
    &REQUIRED_PROPERTY_ADDED,
    &PROPERTY_MADE_REQUIRED,
    &PROPERTY_MADE_OPTIONAL,
    &PROPERTY_REMOVED,
    &PROPERTY_UNDECLARED,
    &PROPERTY_ADDED,
    &PROPERTY_ADDED_TO_CLOSED_MODEL,
    &ADDITIONAL_PROPERTIES_CHANGED,
    &ENUM_VALUE_REMOVED,
    &ENUM_VALUE_ADDED,
    &CONSTRAINT_TIGHTENED,
    &CONSTRAINT_LOOSENED,
    &REQUEST_WIDENED,
];

// ---------------------------------------------------------------------------------------------
// Documents and `$ref`s

/// A schema file and every file its `$ref`s reach, in one version, parsed with positions.
pub struct Docs {
    pub label: String,
    files: BTreeMap<String, Node>,
}

/// A schema node and the file it is in.
#[derive(Debug, Clone, Copy)]
pub struct Sref<'a> {
    pub doc: &'a str,
    pub node: &'a Node,
}

impl Sref<'_> {
    pub fn location(&self) -> Location {
        here(self.doc, self.node.pos)
    }

    pub fn key_location(&self, key: &str) -> Location {
        let pos = self.node.entry(key).map_or(self.node.pos, |(k, _)| k.pos);
        here(self.doc, pos)
    }
}

pub fn here(doc: &str, pos: Pos) -> Location {
    Location::new(doc, pos.line.max(1), pos.column.max(1))
}

impl Docs {
    /// Read and parse `path` in `version`, then every file reachable through `$ref`s.
    pub fn load(version: &Version, path: &str) -> Result<Docs, SchemaError> {
        let mut docs = Docs {
            label: version.label.clone(),
            files: BTreeMap::new(),
        };
        let mut queue: Vec<(String, Option<Location>)> = vec![(path.to_string(), None)];
        while let Some((file, referred_at)) = queue.pop() {
            if docs.files.contains_key(&file) {
                continue;
            }
            let at = referred_at.clone().unwrap_or_else(|| Location::file(&file));
            if docs.files.len() >= MAX_FILES {
                return Err(SchemaError::new(
                    at,
                    format!("`$ref`s reach more than {MAX_FILES} files"),
                ));
            }
            let text = version.read(&file).map_err(|e| {
                SchemaError::new(
                    at.clone(),
                    format!("cannot read {file} ({}): {e}", docs.label),
                )
            })?;
            let Some(text) = text else {
                let message = match referred_at {
                    Some(_) => format!("`$ref` to {file}, which does not exist ({})", docs.label),
                    None => format!("{file} does not exist ({})", docs.label),
                };
                return Err(SchemaError::new(at, message));
            };
            let node = parse(&file, &text, &docs.label)?;
            let mut refs = Vec::new();
            collect_file_refs(&node, &mut refs);
            for (target, pos) in refs {
                queue.push((join_path(&file, &target), Some(here(&file, pos))));
            }
            docs.files.insert(file, node);
        }
        Ok(docs)
    }

    /// A document held in memory (unit tests).
    #[cfg(test)]
    pub fn from_node(path: &str, node: Node) -> Docs {
        Docs {
            label: "test".to_string(),
            files: BTreeMap::from([(path.to_string(), node)]),
        }
    }

    /// The root node of a loaded file.
    pub fn root(&self, path: &str) -> Option<Sref<'_>> {
        self.files.get_key_value(path).map(|(doc, node)| Sref {
            doc: doc.as_str(),
            node,
        })
    }

    /// Follow `$ref`s until a node that is not a reference (siblings of `$ref` are ignored,
    /// as OpenAPI 3.0 and Swagger 2.0 say). An external URL stays as it is.
    pub fn resolve<'a>(&'a self, mut at: Sref<'a>) -> Result<Sref<'a>, SchemaError> {
        for _ in 0..MAX_REF_HOPS {
            let Some(reference) = ref_of(at.node) else {
                return Ok(at);
            };
            match self.target(at, reference)? {
                Some(next) => at = next,
                None => return Ok(at),
            }
        }
        Err(SchemaError::new(
            at.location(),
            format!("`$ref` chain longer than {MAX_REF_HOPS} hops (a cycle of references?)"),
        ))
    }

    /// Where `reference` (the value of a `$ref` in `from`) points; `None` for references gonogo
    /// does not follow (URLs, `$id` anchors): they compare as opaque.
    pub fn target<'a>(
        &'a self,
        from: Sref<'a>,
        reference: &str,
    ) -> Result<Option<Sref<'a>>, SchemaError> {
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        if is_external(file) {
            return Ok(None);
        }
        let file = if file.is_empty() {
            from.doc.to_string()
        } else {
            join_path(from.doc, file)
        };
        let Some(root) = self.root(&file) else {
            return Ok(None);
        };
        if fragment.is_empty() {
            return Ok(Some(root));
        }
        let Some(pointer) = fragment.strip_prefix('/') else {
            return Ok(None);
        };
        let mut node = root.node;
        for raw in pointer.split('/') {
            let segment = crate::percent::decode(raw)
                .replace("~1", "/")
                .replace("~0", "~");
            let next = match &node.value {
                Value::Seq(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => node.get(&segment),
            };
            node = next.ok_or_else(|| {
                SchemaError::new(
                    from.key_location("$ref"),
                    format!(
                        "`$ref: {reference}` leads nowhere: no `{segment}` in {file} ({})",
                        self.label
                    ),
                )
            })?;
        }
        Ok(Some(Sref {
            doc: root.doc,
            node,
        }))
    }
}

fn parse(file: &str, text: &str, label: &str) -> Result<Node, SchemaError> {
    match crate::yaml::parse_single(text) {
        Ok(Some(node)) => Ok(node),
        Ok(None) => Err(SchemaError::new(
            Location::new(file, 1, 1),
            format!("empty file ({label})"),
        )),
        Err(err) => Err(SchemaError::new(
            here(file, err.pos),
            format!("not valid YAML or JSON ({label}): {}", err.message),
        )),
    }
}

pub fn ref_of(node: &Node) -> Option<&str> {
    node.get("$ref").and_then(Node::as_str)
}

fn is_external(file: &str) -> bool {
    file.contains("://") || file.starts_with("urn:")
}

/// Every `$ref` to another file, with the position of its value.
fn collect_file_refs(node: &Node, out: &mut Vec<(String, Pos)>) {
    match &node.value {
        Value::Map(entries) => {
            for (key, value) in entries {
                if key.as_str() == Some("$ref")
                    && let Some(reference) = value.as_str()
                {
                    let file = reference.split('#').next().unwrap_or_default();
                    if !file.is_empty() && !is_external(file) {
                        out.push((crate::percent::decode(file), value.pos));
                    }
                } else {
                    collect_file_refs(value, out);
                }
            }
        }
        Value::Seq(items) => items.iter().for_each(|item| collect_file_refs(item, out)),
        _ => {}
    }
}

/// `relative`, read from the directory of `from`, as a normalised path (`/` separators).
pub fn join_path(from: &str, relative: &str) -> String {
    let relative = crate::percent::decode(relative);
    let mut parts: Vec<&str> = if relative.starts_with('/') {
        Vec::new()
    } else {
        let mut dir: Vec<&str> = from.split('/').collect();
        dir.pop();
        dir
    };
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

// ---------------------------------------------------------------------------------------------
// One schema, with allOf members and `$ref` targets merged

#[derive(Debug, Clone, Copy)]
struct Here<'a> {
    doc: &'a str,
    pos: Pos,
}

impl Here<'_> {
    fn location(self) -> Location {
        here(self.doc, self.pos)
    }
}

#[derive(Debug)]
struct Prop<'a> {
    key: Here<'a>,
    schemas: Vec<Sref<'a>>,
}

#[derive(Debug)]
enum Additional<'a> {
    Allowed(bool, Here<'a>),
    Schema(Vec<Sref<'a>>, Here<'a>),
}

#[derive(Debug, Clone, PartialEq)]
enum Limit {
    Num(f64),
    Flag(bool),
    Text(String),
}

#[derive(Debug, Default)]
struct View<'a> {
    /// The first node with schema keywords: where a change without its own keyword is shown.
    at: Option<Here<'a>>,
    types: Option<(BTreeSet<String>, Option<Here<'a>>)>,
    nullable: bool,
    properties: BTreeMap<String, Prop<'a>>,
    required: BTreeMap<String, Here<'a>>,
    additional: Option<Additional<'a>>,
    enums: Option<(Vec<(String, Here<'a>)>, Here<'a>)>,
    limits: BTreeMap<&'static str, (Limit, Here<'a>)>,
    items: Vec<Sref<'a>>,
    tuple: Vec<Sref<'a>>,
    variants: Vec<Sref<'a>>,
    variants_at: Option<Here<'a>>,
}

/// How a bound narrows what is accepted.
#[derive(Clone, Copy)]
enum Bound {
    /// Smaller is narrower.
    Upper,
    /// Larger is narrower.
    Lower,
    /// `true` is narrower.
    Flag,
    /// Present is narrower; a change is both ways.
    Text,
    Format,
    MultipleOf,
}

const LIMITS: &[(&str, Bound)] = &[
    ("maxLength", Bound::Upper),
    ("maxItems", Bound::Upper),
    ("maxProperties", Bound::Upper),
    ("maximum", Bound::Upper),
    ("exclusiveMaximum", Bound::Upper),
    ("minLength", Bound::Lower),
    ("minItems", Bound::Lower),
    ("minProperties", Bound::Lower),
    ("minimum", Bound::Lower),
    ("exclusiveMinimum", Bound::Lower),
    ("uniqueItems", Bound::Flag),
    ("pattern", Bound::Text),
    ("format", Bound::Format),
    ("multipleOf", Bound::MultipleOf),
];

/// Format pairs where the second accepts everything the first does.
const WIDER_FORMATS: &[(&str, &str)] = &[
    ("int32", "int64"),
    ("float", "double"),
    ("uri", "uri-reference"),
    ("uri", "iri"),
    ("iri", "iri-reference"),
    ("uri-reference", "iri-reference"),
    ("email", "idn-email"),
    ("hostname", "idn-hostname"),
];

/// Keys that describe rather than constrain: ignored when matching alternatives.
fn is_annotation(key: &str) -> bool {
    matches!(
        key,
        "description"
            | "title"
            | "example"
            | "examples"
            | "default"
            | "$comment"
            | "deprecated"
            | "externalDocs"
            | "markdownDescription"
            | "xml"
            | "$id"
            | "$schema"
            | "readOnly"
            | "writeOnly"
    ) || key.starts_with("x-")
}

fn build<'a>(docs: &'a Docs, nodes: &[Sref<'a>], errors: &mut Vec<SchemaError>) -> View<'a> {
    let mut view = View::default();
    let mut stack: Vec<Sref<'a>> = nodes.iter().rev().copied().collect();
    let mut seen: HashSet<*const Node> = HashSet::new();
    while let Some(at) = stack.pop() {
        if !seen.insert(at.node) || seen.len() > MAX_MERGED {
            continue;
        }
        absorb(&mut view, at);
        if let Some(reference) = ref_of(at.node) {
            match docs.target(at, reference) {
                Ok(Some(target)) => stack.push(target),
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        if let Some(members) = at.node.get("allOf") {
            for member in members.items().iter().rev() {
                stack.push(Sref {
                    doc: at.doc,
                    node: member,
                });
            }
        }
    }
    if view.types.is_none() {
        let inferred = if !view.properties.is_empty() || view.additional.is_some() {
            Some("object")
        } else if !view.items.is_empty() || !view.tuple.is_empty() {
            Some("array")
        } else {
            None
        };
        view.types = inferred.map(|t| (BTreeSet::from([t.to_string()]), None));
    }
    if view.nullable
        && let Some((types, _)) = &mut view.types
    {
        types.insert("null".to_string());
    }
    view
}

fn absorb<'a>(view: &mut View<'a>, at: Sref<'a>) {
    let node = at.node;
    let entries = node.entries();
    let mark = |pos: Pos| Here { doc: at.doc, pos };
    if view.at.is_none() && entries.iter().any(|(k, _)| k.as_str() != Some("$ref")) {
        view.at = Some(mark(node.pos));
    }
    for (key, value) in entries {
        let Some(name) = key.as_str() else { continue };
        let key_at = mark(key.pos);
        match name {
            "type" => {
                let mut types: BTreeSet<String> = match &value.value {
                    Value::Str(t) => BTreeSet::from([t.clone()]),
                    Value::Seq(items) => items.iter().filter_map(Node::as_key).collect(),
                    _ => continue,
                };
                match &mut view.types {
                    // allOf members each constrain: only what every member allows remains.
                    Some((existing, _)) => {
                        existing.retain(|t| covers(&types, t));
                        types.retain(|t| covers(existing, t));
                        existing.extend(types);
                    }
                    None => view.types = Some((types, Some(key_at))),
                }
            }
            "nullable" | "x-nullable" if value.value == Value::Bool(true) => view.nullable = true,
            "properties" => {
                for (prop_key, prop) in value.entries() {
                    let Some(prop_name) = prop_key.as_key() else {
                        continue;
                    };
                    view.properties
                        .entry(prop_name)
                        .or_insert_with(|| Prop {
                            key: mark(prop_key.pos),
                            schemas: Vec::new(),
                        })
                        .schemas
                        .push(Sref {
                            doc: at.doc,
                            node: prop,
                        });
                }
            }
            "required" => {
                for item in value.items() {
                    if let Some(required) = item.as_key() {
                        view.required.entry(required).or_insert(mark(item.pos));
                    }
                }
            }
            "additionalProperties" => match &value.value {
                Value::Bool(false) => view.additional = Some(Additional::Allowed(false, key_at)),
                Value::Bool(true) => {
                    view.additional
                        .get_or_insert(Additional::Allowed(true, key_at));
                }
                Value::Map(_) => match &mut view.additional {
                    Some(Additional::Schema(schemas, _)) => schemas.push(Sref {
                        doc: at.doc,
                        node: value,
                    }),
                    Some(Additional::Allowed(false, _)) => {}
                    _ => {
                        view.additional = Some(Additional::Schema(
                            vec![Sref {
                                doc: at.doc,
                                node: value,
                            }],
                            key_at,
                        ))
                    }
                },
                _ => {}
            },
            "enum" | "const" if view.enums.is_none() => {
                let values: Vec<(String, Here<'a>)> = match &value.value {
                    Value::Seq(items) if name == "enum" => items
                        .iter()
                        .map(|item| (canonical(item), mark(item.pos)))
                        .collect(),
                    _ if name == "const" => vec![(canonical(value), mark(value.pos))],
                    _ => continue,
                };
                view.enums = Some((values, key_at));
            }
            "items" => match &value.value {
                Value::Seq(items) if view.tuple.is_empty() => {
                    view.tuple = items
                        .iter()
                        .map(|node| Sref { doc: at.doc, node })
                        .collect()
                }
                Value::Map(_) => view.items.push(Sref {
                    doc: at.doc,
                    node: value,
                }),
                _ => {}
            },
            "prefixItems" if view.tuple.is_empty() => {
                view.tuple = value
                    .items()
                    .iter()
                    .map(|node| Sref { doc: at.doc, node })
                    .collect()
            }
            "oneOf" | "anyOf" if view.variants.is_empty() => {
                view.variants = value
                    .items()
                    .iter()
                    .map(|node| Sref { doc: at.doc, node })
                    .collect();
                view.variants_at = Some(key_at);
            }
            _ => {
                if let Some((limit_name, bound)) = LIMITS.iter().find(|(l, _)| *l == name) {
                    let limit = match (&value.value, bound) {
                        (Value::Int(i), _) => Limit::Num(*i as f64),
                        (Value::Float(f), _) => Limit::Num(*f),
                        (Value::Bool(b), _) => Limit::Flag(*b),
                        (Value::Str(s), Bound::Text | Bound::Format) => Limit::Text(s.clone()),
                        _ => continue,
                    };
                    view.limits.entry(limit_name).or_insert((limit, key_at));
                }
            }
        }
    }
}

fn covers(types: &BTreeSet<String>, t: &str) -> bool {
    types.contains(t) || (t == "integer" && types.contains("number"))
}

/// A node as text without its annotations, keys sorted: equal texts accept the same data.
pub fn canonical(node: &Node) -> String {
    let mut out = String::new();
    write_canonical(node, &mut out, 0);
    out
}

fn write_canonical(node: &Node, out: &mut String, depth: usize) {
    if depth > MAX_DEPTH {
        out.push('…');
        return;
    }
    match &node.value {
        Value::Map(entries) => {
            let mut sorted: Vec<(String, &Node)> = entries
                .iter()
                .filter_map(|(k, v)| k.as_key().map(|k| (k, v)))
                .filter(|(k, _)| !is_annotation(k))
                .collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (key, value) in sorted {
                out.push_str(&key);
                out.push(':');
                write_canonical(value, out, depth + 1);
                out.push(',');
            }
            out.push('}');
        }
        Value::Seq(items) => {
            out.push('[');
            for item in items {
                write_canonical(item, out, depth + 1);
                out.push(',');
            }
            out.push(']');
        }
        Value::Str(s) => out.push_str(s),
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(&b.to_string()),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&f.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Comparing

/// Whether a change accepts less, more, or different data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nature {
    Narrowing,
    Widening,
    Both,
}

/// Where a schema sits (for messages: "POST /orders request body") and which way its data
/// flows.
#[derive(Debug, Clone)]
pub struct Place {
    pub context: String,
    pub flow: Flow,
}

/// Compares schemas of two versions and collects findings and unreadable references.
pub struct Differ<'a> {
    pub old: &'a Docs,
    pub new: &'a Docs,
    seen: HashSet<(u8, Vec<usize>, Vec<usize>)>,
    pub findings: Vec<Finding>,
    pub errors: Vec<SchemaError>,
}

fn field_name(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("`{field}` ")
    }
}

fn whole(field: &str) -> String {
    if field.is_empty() {
        "the schema".to_string()
    } else {
        format!("`{field}`")
    }
}

fn child(field: &str, name: &str) -> String {
    if field.is_empty() {
        name.to_string()
    } else {
        format!("{field}.{name}")
    }
}

fn show_types(types: &BTreeSet<String>) -> String {
    types.iter().cloned().collect::<Vec<_>>().join(" or ")
}

fn show_limit(limit: &Limit) -> String {
    match limit {
        Limit::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
        Limit::Num(n) => n.to_string(),
        Limit::Flag(b) => b.to_string(),
        Limit::Text(t) => format!("`{t}`"),
    }
}

impl<'a> Differ<'a> {
    pub fn new(old: &'a Docs, new: &'a Docs) -> Differ<'a> {
        Differ {
            old,
            new,
            seen: HashSet::new(),
            findings: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// A node that is only a `$ref` (plus annotations) stands for its target, so a definition
    /// reached along different paths is compared (and reported) once.
    fn targets(&mut self, docs: &'a Docs, nodes: &[Sref<'a>]) -> Vec<Sref<'a>> {
        nodes
            .iter()
            .map(|s| {
                let pure_ref = ref_of(s.node).is_some()
                    && s.node
                        .entries()
                        .iter()
                        .all(|(k, _)| k.as_str().is_some_and(|k| k == "$ref" || is_annotation(k)));
                if !pure_ref {
                    return *s;
                }
                match docs.resolve(*s) {
                    Ok(target) => target,
                    Err(e) => {
                        self.errors.push(e);
                        *s
                    }
                }
            })
            .collect()
    }

    /// The findings, one per rule and location: a change in a schema shared by several
    /// operations is reported where it is, naming the first use and counting the others.
    pub fn finish(&mut self) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        let mut index: BTreeMap<(String, Option<Location>), (usize, usize)> = BTreeMap::new();
        for finding in std::mem::take(&mut self.findings) {
            let key = (finding.rule.clone(), finding.location.clone());
            match index.get_mut(&key) {
                Some((_, more)) => *more += 1,
                None => {
                    index.insert(key, (out.len(), 0));
                    out.push(finding);
                }
            }
        }
        for (at, more) in index.values() {
            if *more > 0 {
                let uses = if *more == 1 { "use" } else { "uses" };
                out[*at]
                    .message
                    .push_str(&format!(" (and {more} more {uses} of this schema)"));
            }
        }
        out
    }

    /// Push a finding of `rule` for a change of this nature, in the direction the flow makes
    /// it break; nothing when it breaks nobody (a narrowed response), `info` for a widened
    /// request.
    pub fn emit(
        &mut self,
        place: &Place,
        rule: &'static Rule,
        nature: Nature,
        at: Location,
        detail: impl std::fmt::Display,
    ) {
        let what = format!("{}: {detail}", place.context);
        let breaks = match (place.flow, nature) {
            (_, Nature::Both) => Breaks::Both,
            (Flow::Response, Nature::Narrowing) => return,
            (Flow::Request, Nature::Widening) => {
                self.findings.push(
                    REQUEST_WIDENED
                        .finding(format!(
                            "{what}: compatible; clients that use it get rejected by old pods until the rollout completes"
                        ))
                        .at(at),
                );
                return;
            }
            (_, Nature::Narrowing) => Breaks::NewReadsOld,
            (_, Nature::Widening) => Breaks::OldReadsNew,
        };
        self.findings
            .push(breaking(rule, what, breaks, place.flow, at));
    }

    /// Compare the schema made of `old` nodes (merged, as allOf) with the one made of `new`.
    pub fn schemas(&mut self, place: &Place, field: &str, old: &[Sref<'a>], new: &[Sref<'a>]) {
        self.compare(place, field, old, new, 0);
    }

    fn compare(
        &mut self,
        place: &Place,
        field: &str,
        old: &[Sref<'a>],
        new: &[Sref<'a>],
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let flow = match place.flow {
            Flow::Request => 0,
            Flow::Response => 1,
            Flow::Message => 2,
        };
        let ptrs = |nodes: &[Sref<'a>]| -> Vec<usize> {
            nodes
                .iter()
                .map(|s| s.node as *const Node as usize)
                .collect()
        };
        let old = &self.targets(self.old, old);
        let new = &self.targets(self.new, new);
        if !self.seen.insert((flow, ptrs(old), ptrs(new))) {
            return;
        }
        let o = build(self.old, old, &mut self.errors);
        let n = build(self.new, new, &mut self.errors);
        let new_at =
            n.at.or(new.first().map(|s| Here {
                doc: s.doc,
                pos: s.node.pos,
            }))
            .map(Here::location);
        let Some(new_at) = new_at else { return };
        let disjoint = self.types(place, field, &o, &n, &new_at);
        self.enums(place, field, &o, &n, &new_at);
        self.limits(place, field, &o, &n, &new_at);
        if disjoint {
            return;
        }
        self.properties(place, field, &o, &n, depth);
        self.additional(place, field, &o, &n, &new_at, depth);
        if !o.items.is_empty() && !n.items.is_empty() {
            self.compare(place, &format!("{field}[]"), &o.items, &n.items, depth + 1);
        }
        for (i, (a, b)) in o.tuple.iter().zip(&n.tuple).enumerate() {
            self.compare(place, &format!("{field}[{i}]"), &[*a], &[*b], depth + 1);
        }
        self.variants(place, field, &o, &n, depth);
    }

    /// Report a type change; whether the old and new types share nothing (then their
    /// structure is not compared further: it is a different thing).
    fn types(
        &mut self,
        place: &Place,
        field: &str,
        o: &View<'a>,
        n: &View<'a>,
        new_at: &Location,
    ) -> bool {
        let at = n
            .types
            .as_ref()
            .and_then(|(_, here)| *here)
            .map_or_else(|| new_at.clone(), Here::location);
        let name = field_name(field);
        match (&o.types, &n.types) {
            (None, None) => false,
            (Some((old, _)), None) => {
                self.emit(
                    place,
                    &TYPE_CHANGED,
                    Nature::Widening,
                    at,
                    format!("{name}type no longer restricted (was {})", show_types(old)),
                );
                false
            }
            (None, Some((new, _))) => {
                self.emit(
                    place,
                    &TYPE_CHANGED,
                    Nature::Narrowing,
                    at,
                    format!("{name}now restricted to type {}", show_types(new)),
                );
                false
            }
            (Some((old, _)), Some((new, _))) => {
                let lost: BTreeSet<String> =
                    old.iter().filter(|t| !covers(new, t)).cloned().collect();
                let gained: BTreeSet<String> =
                    new.iter().filter(|t| !covers(old, t)).cloned().collect();
                let nature = match (lost.is_empty(), gained.is_empty()) {
                    (true, true) => return false,
                    (false, true) => Nature::Narrowing,
                    (true, false) => Nature::Widening,
                    (false, false) => Nature::Both,
                };
                let only_null = |set: &BTreeSet<String>| set.len() == 1 && set.contains("null");
                let detail = if lost.is_empty() && only_null(&gained) {
                    format!("{name}made nullable (was {})", show_types(old))
                } else if gained.is_empty() && only_null(&lost) {
                    format!("{name}no longer nullable")
                } else {
                    format!(
                        "{name}type changed from {} to {}",
                        show_types(old),
                        show_types(new)
                    )
                };
                self.emit(place, &TYPE_CHANGED, nature, at, detail);
                let overlap = old
                    .iter()
                    .any(|t| covers(new, t) || (t == "number" && new.contains("integer")));
                !overlap
            }
        }
    }

    fn enums(&mut self, place: &Place, field: &str, o: &View<'a>, n: &View<'a>, new_at: &Location) {
        let name = field_name(field);
        let list = |values: &[&(String, Here<'a>)]| {
            values
                .iter()
                .map(|(v, _)| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match (&o.enums, &n.enums) {
            (None, None) => {}
            (Some((old, _)), None) => self.emit(
                place,
                &CONSTRAINT_LOOSENED,
                Nature::Widening,
                new_at.clone(),
                format!(
                    "{name}no longer restricted to the values {}",
                    list(&old.iter().collect::<Vec<_>>())
                ),
            ),
            (None, Some((new, at))) => self.emit(
                place,
                &CONSTRAINT_TIGHTENED,
                Nature::Narrowing,
                at.location(),
                format!(
                    "{name}now restricted to the values {}",
                    list(&new.iter().collect::<Vec<_>>())
                ),
            ),
            (Some((old, _)), Some((new, _))) => {
                let removed: Vec<&(String, Here<'a>)> = old
                    .iter()
                    .filter(|(v, _)| !new.iter().any(|(w, _)| w == v))
                    .collect();
                let added: Vec<&(String, Here<'a>)> = new
                    .iter()
                    .filter(|(v, _)| !old.iter().any(|(w, _)| w == v))
                    .collect();
                let plural = |values: &[&(String, Here<'a>)]| {
                    if values.len() == 1 { "value" } else { "values" }
                };
                if let Some((_, first)) = removed.first() {
                    self.emit(
                        place,
                        &ENUM_VALUE_REMOVED,
                        Nature::Narrowing,
                        first.location(),
                        format!("{name}enum {} {} removed", plural(&removed), list(&removed)),
                    );
                }
                if let Some((_, first)) = added.first() {
                    self.emit(
                        place,
                        &ENUM_VALUE_ADDED,
                        Nature::Widening,
                        first.location(),
                        format!("{name}enum {} {} added", plural(&added), list(&added)),
                    );
                }
            }
        }
    }

    fn limits(
        &mut self,
        place: &Place,
        field: &str,
        o: &View<'a>,
        n: &View<'a>,
        new_at: &Location,
    ) {
        let name = field_name(field);
        for (key, bound) in LIMITS {
            let (old, new) = (o.limits.get(key), n.limits.get(key));
            let change = match (old, new) {
                (None, None) => continue,
                (Some((a, _)), Some((b, _))) if a == b => continue,
                (None, Some((b, at))) => {
                    let trivial = matches!(
                        (bound, b),
                        (Bound::Lower, Limit::Num(v)) if *v == 0.0 && key.starts_with("min") && *key != "minimum"
                    ) || *b == Limit::Flag(false);
                    if trivial {
                        continue;
                    }
                    let detail = match b {
                        Limit::Flag(_) => format!("{name}{key} added"),
                        _ => format!("{name}{key} {} added", show_limit(b)),
                    };
                    (Nature::Narrowing, at.location(), detail)
                }
                (Some((a, _)), None) => {
                    if *a == Limit::Flag(false) {
                        continue;
                    }
                    (
                        Nature::Widening,
                        new_at.clone(),
                        format!("{name}{key} {} removed", show_limit(a)),
                    )
                }
                (Some((a, _)), Some((b, at))) => {
                    let nature = match (bound, a, b) {
                        (Bound::Upper, Limit::Num(x), Limit::Num(y)) => {
                            if y < x {
                                Nature::Narrowing
                            } else {
                                Nature::Widening
                            }
                        }
                        (Bound::Lower, Limit::Num(x), Limit::Num(y)) => {
                            if y > x {
                                Nature::Narrowing
                            } else {
                                Nature::Widening
                            }
                        }
                        (_, Limit::Flag(x), Limit::Flag(y)) => {
                            // draft-04 `exclusiveMaximum: true` and `uniqueItems: true` narrow.
                            if *y && !*x {
                                Nature::Narrowing
                            } else {
                                Nature::Widening
                            }
                        }
                        (Bound::Format, Limit::Text(x), Limit::Text(y)) => {
                            if WIDER_FORMATS.contains(&(x.as_str(), y.as_str())) {
                                Nature::Widening
                            } else if WIDER_FORMATS.contains(&(y.as_str(), x.as_str())) {
                                Nature::Narrowing
                            } else {
                                Nature::Both
                            }
                        }
                        (Bound::MultipleOf, Limit::Num(x), Limit::Num(y))
                            if *x != 0.0 && *y != 0.0 =>
                        {
                            if (y / x).fract() == 0.0 {
                                Nature::Narrowing
                            } else if (x / y).fract() == 0.0 {
                                Nature::Widening
                            } else {
                                Nature::Both
                            }
                        }
                        _ => Nature::Both,
                    };
                    let verb = match (nature, bound) {
                        (Nature::Both, _) | (_, Bound::Text | Bound::Format | Bound::Flag) => {
                            "changed"
                        }
                        (Nature::Narrowing, Bound::Upper) | (Nature::Widening, Bound::Lower) => {
                            "decreased"
                        }
                        _ => "increased",
                    };
                    (
                        nature,
                        at.location(),
                        format!(
                            "{name}{key} {verb} from {} to {}",
                            show_limit(a),
                            show_limit(b)
                        ),
                    )
                }
            };
            let (nature, at, detail) = change;
            let rule = if nature == Nature::Widening {
                &CONSTRAINT_LOOSENED
            } else {
                &CONSTRAINT_TIGHTENED
            };
            self.emit(place, rule, nature, at, detail);
        }
    }

    fn properties(&mut self, place: &Place, field: &str, o: &View<'a>, n: &View<'a>, depth: usize) {
        let closed =
            |view: &View<'a>| matches!(view.additional, Some(Additional::Allowed(false, _)));
        for (name, old_prop) in &o.properties {
            let path = child(field, name);
            match n.properties.get(name) {
                Some(new_prop) => self.compare(
                    place,
                    &path,
                    &old_prop.schemas,
                    &new_prop.schemas,
                    depth + 1,
                ),
                None => {
                    let was_required = o.required.contains_key(name);
                    let at = old_prop.key.location();
                    let nature = match place.flow {
                        Flow::Response => Some(Nature::Widening),
                        _ if closed(n) && was_required && place.flow == Flow::Message => {
                            Some(Nature::Both)
                        }
                        _ if closed(n) => Some(Nature::Narrowing),
                        Flow::Message if was_required => Some(Nature::Widening),
                        _ => None,
                    };
                    match nature {
                        Some(nature) => self.emit(
                            place,
                            &PROPERTY_REMOVED,
                            nature,
                            at,
                            format!("property `{path}` removed"),
                        ),
                        None => {
                            let who = if place.flow == Flow::Request {
                                "updated pods ignore it when clients that are not updated yet send it"
                            } else {
                                "updated consumers ignore it in events the old version publishes"
                            };
                            self.findings.push(
                                PROPERTY_UNDECLARED
                                    .finding(format!(
                                        "{}: property `{path}` no longer declared (unknown properties are still accepted): {who}",
                                        place.context
                                    ))
                                    .at(at),
                            );
                        }
                    }
                }
            }
        }
        for (name, new_prop) in &n.properties {
            if o.properties.contains_key(name) {
                continue;
            }
            let path = child(field, name);
            let at = new_prop.key.location();
            let required = n.required.contains_key(name) && place.flow != Flow::Response;
            match (required, closed(o)) {
                (true, old_closed) => self.emit(
                    place,
                    &REQUIRED_PROPERTY_ADDED,
                    if old_closed {
                        Nature::Both
                    } else {
                        Nature::Narrowing
                    },
                    at,
                    format!("required property `{path}` added"),
                ),
                (false, true) => self.emit(
                    place,
                    &PROPERTY_ADDED_TO_CLOSED_MODEL,
                    Nature::Widening,
                    at,
                    format!("property `{path}` added to a model that rejected unknown properties"),
                ),
                (false, false) => self.findings.push(
                    PROPERTY_ADDED
                        .finding(format!(
                            "{}: optional property `{path}` added: compatible",
                            place.context
                        ))
                        .at(at),
                ),
            }
        }
        for (name, at) in &n.required {
            let newly_declared =
                n.properties.contains_key(name) && !o.properties.contains_key(name);
            if o.required.contains_key(name) || newly_declared {
                continue;
            }
            let path = child(field, name);
            let (rule, detail) = if o.properties.contains_key(name) {
                (
                    &PROPERTY_MADE_REQUIRED,
                    format!("property `{path}` made required"),
                )
            } else {
                (
                    &REQUIRED_PROPERTY_ADDED,
                    format!("property `{path}` now required"),
                )
            };
            self.emit(place, rule, Nature::Narrowing, at.location(), detail);
        }
        for name in o.required.keys() {
            let removed = o.properties.contains_key(name) && !n.properties.contains_key(name);
            if n.required.contains_key(name) || removed {
                continue;
            }
            let path = child(field, name);
            let at = n
                .properties
                .get(name)
                .map(|p| p.key)
                .or(n.at)
                .map_or_else(|| o.required[name].location(), Here::location);
            self.emit(
                place,
                &PROPERTY_MADE_OPTIONAL,
                Nature::Widening,
                at,
                format!("property `{path}` no longer required"),
            );
        }
    }

    fn additional(
        &mut self,
        place: &Place,
        field: &str,
        o: &View<'a>,
        n: &View<'a>,
        new_at: &Location,
        depth: usize,
    ) {
        use Additional::{Allowed, Schema};
        let name = field_name(field);
        let at = match &n.additional {
            Some(Allowed(_, here) | Schema(_, here)) => here.location(),
            None => new_at.clone(),
        };
        let open = |a: &Option<Additional>| matches!(a, None | Some(Allowed(true, _)));
        let (nature, detail) = match (&o.additional, &n.additional) {
            (Some(Schema(a, _)), Some(Schema(b, _))) => {
                return self.compare(place, &format!("{field}.*"), a, b, depth + 1);
            }
            (old, Some(Allowed(false, _))) if !matches!(old, Some(Allowed(false, _))) => (
                Nature::Narrowing,
                format!(
                    "{name}no longer accepts undeclared properties (additionalProperties: false)"
                ),
            ),
            (Some(Allowed(false, _)), new) if !matches!(new, Some(Allowed(false, _))) => (
                Nature::Widening,
                format!("{name}now accepts undeclared properties"),
            ),
            (old, Some(Schema(..))) if open(old) => (
                Nature::Narrowing,
                format!("{name}undeclared properties now restricted by a schema"),
            ),
            (Some(Schema(..)), new) if open(new) => (
                Nature::Widening,
                format!("{name}undeclared properties no longer restricted by a schema"),
            ),
            _ => return,
        };
        self.emit(place, &ADDITIONAL_PROPERTIES_CHANGED, nature, at, detail);
    }

    /// `oneOf` / `anyOf`: alternatives equal up to annotations match in any order; the rest
    /// are compared in order when both sides keep the same number, else reported as
    /// alternatives removed (narrowing) or added (widening).
    fn variants(&mut self, place: &Place, field: &str, o: &View<'a>, n: &View<'a>, depth: usize) {
        if o.variants.is_empty() || n.variants.is_empty() {
            return;
        }
        let mut new_left: Vec<(String, Sref<'a>)> =
            n.variants.iter().map(|s| (canonical(s.node), *s)).collect();
        let mut old_left = Vec::new();
        for s in &o.variants {
            let text = canonical(s.node);
            match new_left.iter().position(|(t, _)| *t == text) {
                Some(i) => {
                    new_left.remove(i);
                }
                None => old_left.push(*s),
            }
        }
        if old_left.len() == new_left.len() {
            for (a, (_, b)) in old_left.iter().zip(&new_left) {
                self.compare(place, field, &[*a], &[*b], depth + 1);
            }
            return;
        }
        if let Some(first) = old_left.first() {
            self.emit(
                place,
                &TYPE_CHANGED,
                Nature::Narrowing,
                first.location(),
                format!(
                    "{} of the oneOf/anyOf alternatives of {} removed",
                    old_left.len(),
                    whole(field)
                ),
            );
        }
        if let Some((_, first)) = new_left.first() {
            self.emit(
                place,
                &TYPE_CHANGED,
                Nature::Widening,
                first.location(),
                format!(
                    "{} oneOf/anyOf alternatives added to {}",
                    new_left.len(),
                    whole(field)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(text: &str) -> Docs {
        Docs::from_node("s.yaml", crate::yaml::parse_single(text).unwrap().unwrap())
    }

    fn diff(old: &str, new: &str, flow: Flow) -> Vec<Finding> {
        let (old, new) = (docs(old), docs(new));
        let mut differ = Differ::new(&old, &new);
        let place = Place {
            context: "body".to_string(),
            flow,
        };
        let (a, b) = (old.root("s.yaml").unwrap(), new.root("s.yaml").unwrap());
        differ.schemas(&place, "", &[a], &[b]);
        assert!(differ.errors.is_empty(), "{:?}", differ.errors);
        differ.findings
    }

    fn rules(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.rule.as_str()).collect()
    }

    #[test]
    fn type_narrowing_breaks_requests_and_widening_breaks_responses() {
        let (int, num) = ("type: integer\n", "type: number\n");
        let request = diff(num, int, Flow::Request);
        assert_eq!(rules(&request), ["compat/type-changed"]);
        assert!(
            request[0]
                .message
                .contains("updated pods will reject requests")
        );
        assert!(diff(num, int, Flow::Response).is_empty());
        let response = diff(int, num, Flow::Response);
        assert!(
            response[0]
                .message
                .contains("clients that are not updated yet cannot read")
        );
        assert_eq!(
            rules(&diff(int, num, Flow::Request)),
            ["compat/request-widened"]
        );
        let both = diff("type: object\n", "type: array\n", Flow::Message);
        assert!(both[0].message.contains(", and "), "{both:?}");
    }

    #[test]
    fn nullable_spellings_are_one_type() {
        let old = "type: string\n";
        for new in [
            "type: string\nnullable: true\n",
            "type: string\nx-nullable: true\n",
            "type: [string, 'null']\n",
        ] {
            let found = diff(old, new, Flow::Response);
            assert_eq!(rules(&found), ["compat/type-changed"], "{new}");
            assert!(found[0].message.contains("made nullable"), "{found:?}");
        }
    }

    #[test]
    fn required_and_properties_by_flow() {
        let old = "type: object\nproperties:\n  a: {type: string}\n";
        let new = "type: object\nrequired: [a, b]\nproperties:\n  a: {type: string}\n  b: {type: string}\n";
        let found = diff(old, new, Flow::Request);
        assert_eq!(
            rules(&found),
            [
                "compat/required-property-added",
                "compat/property-made-required"
            ]
        );
        assert_eq!(found[0].location, Some(Location::new("s.yaml", 5, 3)));
        assert_eq!(
            rules(&diff(old, new, Flow::Response)),
            ["compat/property-added"]
        );
        let removed = diff(new, old, Flow::Response);
        assert_eq!(
            rules(&removed),
            ["compat/property-removed", "compat/property-made-optional"]
        );
        assert_eq!(removed[0].location, Some(Location::new("s.yaml", 5, 3)));
        assert_eq!(
            rules(&diff(new, old, Flow::Request))[0],
            "compat/property-undeclared"
        );
    }

    #[test]
    fn constraints_and_enums() {
        let tighter = diff(
            "type: string\nmaxLength: 64\n",
            "type: string\nmaxLength: 32\npattern: '^a'\n",
            Flow::Request,
        );
        assert_eq!(
            rules(&tighter),
            ["compat/constraint-tightened", "compat/constraint-tightened"]
        );
        assert!(
            tighter[0]
                .message
                .contains("maxLength decreased from 64 to 32")
        );
        let enums = diff("enum: [a, b]\n", "enum: [a, c]\n", Flow::Message);
        assert_eq!(
            rules(&enums),
            ["compat/enum-value-removed", "compat/enum-value-added"]
        );
        assert_eq!(
            enums[0].location,
            Some(Location::new("s.yaml", 1, 11)),
            "old file position"
        );
        assert!(
            diff("format: uri-reference\n", "format: uri\n", Flow::Message)[0]
                .message
                .contains("updated consumers cannot read events already in the topic")
        );
    }

    #[test]
    fn refs_all_of_and_cycles() {
        let old = "$ref: '#/definitions/a'\ndefinitions:\n  a:\n    allOf:\n      - {$ref: '#/definitions/b'}\n      - properties: {x: {$ref: '#/definitions/a'}}\n  b:\n    properties: {id: {type: string}}\n";
        assert!(diff(old, old, Flow::Message).is_empty());
        let new = old.replace("id: {type: string}", "id: {type: integer}");
        assert_eq!(
            rules(&diff(old, &new, Flow::Message)),
            ["compat/type-changed"]
        );
    }

    #[test]
    fn reordered_alternatives_are_equal() {
        let old = "oneOf:\n  - {enum: [es5], description: a}\n  - {enum: [all]}\n";
        let new = "oneOf:\n  - {enum: [all], description: b}\n  - {enum: [es5]}\n";
        assert!(diff(old, new, Flow::Message).is_empty());
    }

    #[test]
    fn paths_join_relative_to_the_referring_file() {
        assert_eq!(
            join_path("api/openapi.yaml", "schemas/a.yaml"),
            "api/schemas/a.yaml"
        );
        assert_eq!(
            join_path("api/v1/x.yaml", "../common.yaml"),
            "api/common.yaml"
        );
        assert_eq!(join_path("x.yaml", "./a%20b.yaml"), "a b.yaml");
    }
}
