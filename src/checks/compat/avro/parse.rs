//! An `.avsc` file read into named types, records, fields and defaults, with positions.

use super::*;

/// One file's schema and where its named types are defined.
#[derive(Debug)]
pub struct File {
    pub(super) path: String,
    pub(super) root: Schema,
    pub(super) named: BTreeMap<String, Named>,
    pub(super) unknown: Vec<(String, Pos)>,
}

#[derive(Debug, Clone)]
pub(super) enum Schema {
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
pub(super) struct Decimal {
    pub(super) precision: i64,
    pub(super) scale: i64,
}

#[derive(Debug, Clone)]
pub(super) struct Named {
    pub(super) full_name: String,
    pub(super) aliases: Vec<String>,
    pub(super) pos: Pos,
    pub(super) kind: NamedKind,
}

#[derive(Debug, Clone)]
pub(super) enum NamedKind {
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
pub(super) struct Field {
    pub(super) name: String,
    pub(super) aliases: Vec<String>,
    pub(super) schema: Schema,
    pub(super) has_default: bool,
    pub(super) pos: Pos,
}

pub(super) fn read(version: &Version, path: &str) -> Result<File, SchemaError> {
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

pub(super) fn collect_refs(schema: &Schema, out: &mut Vec<(String, Pos)>) {
    match schema {
        Schema::Ref(name, pos) => out.push((name.clone(), *pos)),
        Schema::Array(s) | Schema::Map(s) => collect_refs(s, out),
        Schema::Union(branches, _) => branches.iter().for_each(|b| collect_refs(b, out)),
        _ => {}
    }
}

pub(super) struct Parser<'a> {
    pub(super) path: &'a str,
    pub(super) named: BTreeMap<String, Named>,
    pub(super) depth: usize,
}

impl Parser<'_> {
    pub(super) fn error(&self, pos: Pos, message: impl Into<String>) -> SchemaError {
        SchemaError::new(Location::new(self.path, pos.line, pos.column), message)
    }

    pub(super) fn schema(&mut self, node: &Node, namespace: &str) -> Result<Schema, SchemaError> {
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

    pub(super) fn reference(&self, name: &str, namespace: &str, pos: Pos) -> Schema {
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

    pub(super) fn complex(&mut self, node: &Node, namespace: &str) -> Result<Schema, SchemaError> {
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

    pub(super) fn named_type(
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

pub(super) fn full_name(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}.{name}")
    }
}

pub(super) fn short(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

pub(super) fn strings(node: Option<&Node>) -> Vec<String> {
    node.map(|n| {
        n.items()
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

pub(super) fn decimal_of(node: &Node) -> Option<Decimal> {
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
