//! One schema as the comparison sees it: allOf members and `$ref` targets merged into a view of
//! its types, properties, bounds, enums and variants.

use super::*;

// ---------------------------------------------------------------------------------------------
// One schema, with allOf members and `$ref` targets merged

#[derive(Debug, Clone, Copy)]
pub(super) struct Here<'a> {
    pub(super) doc: &'a str,
    pub(super) pos: Pos,
}

impl Here<'_> {
    pub(super) fn location(self) -> Location {
        here(self.doc, self.pos)
    }
}

#[derive(Debug)]
pub(super) struct Prop<'a> {
    pub(super) key: Here<'a>,
    pub(super) schemas: Vec<Sref<'a>>,
}

#[derive(Debug)]
pub(super) enum Additional<'a> {
    Allowed(bool, Here<'a>),
    Schema(Vec<Sref<'a>>, Here<'a>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Limit {
    Num(f64),
    Flag(bool),
    Text(String),
}

#[derive(Debug, Default)]
pub(super) struct View<'a> {
    /// The first node with schema keywords: where a change without its own keyword is shown.
    pub(super) at: Option<Here<'a>>,
    pub(super) types: Option<(BTreeSet<String>, Option<Here<'a>>)>,
    pub(super) nullable: bool,
    pub(super) properties: BTreeMap<String, Prop<'a>>,
    pub(super) required: BTreeMap<String, Here<'a>>,
    pub(super) additional: Option<Additional<'a>>,
    pub(super) enums: Option<(Vec<(String, Here<'a>)>, Here<'a>)>,
    pub(super) limits: BTreeMap<&'static str, (Limit, Here<'a>)>,
    pub(super) items: Vec<Sref<'a>>,
    pub(super) tuple: Vec<Sref<'a>>,
    pub(super) variants: Vec<Sref<'a>>,
    pub(super) variants_at: Option<Here<'a>>,
    /// `default`, as text (strings quoted), and where its value is.
    pub(super) default: Option<(String, Here<'a>)>,
}

/// How a bound narrows what is accepted.
#[derive(Clone, Copy)]
pub(super) enum Bound {
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

pub(super) const LIMITS: &[(&str, Bound)] = &[
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
pub(super) const WIDER_FORMATS: &[(&str, &str)] = &[
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
pub(super) fn is_annotation(key: &str) -> bool {
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

pub(super) fn build<'a>(
    docs: &'a Docs,
    nodes: &[Sref<'a>],
    errors: &mut Vec<SchemaError>,
) -> View<'a> {
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

pub(super) fn absorb<'a>(view: &mut View<'a>, at: Sref<'a>) {
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
            "default" if view.default.is_none() => {
                let text = match &value.value {
                    Value::Str(text) => format!("\"{text}\""),
                    _ => canonical(value),
                };
                view.default = Some((text, mark(value.pos)));
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

pub(super) fn covers(types: &BTreeSet<String>, t: &str) -> bool {
    types.contains(t) || (t == "integer" && types.contains("number"))
}

/// A node as text without its annotations, keys sorted: equal texts accept the same data.
pub fn canonical(node: &Node) -> String {
    let mut out = String::new();
    write_canonical(node, &mut out, 0);
    out
}

pub(super) fn write_canonical(node: &Node, out: &mut String, depth: usize) {
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
