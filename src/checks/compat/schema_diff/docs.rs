//! A schema file and every file its `$ref`s reach, in one version, parsed with positions.

use super::*;

// ---------------------------------------------------------------------------------------------
// Documents and `$ref`s

/// A schema file and every file its `$ref`s reach, in one version, parsed with positions.
pub struct Docs {
    pub label: String,
    pub(super) files: BTreeMap<String, Node>,
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

pub(super) fn parse(file: &str, text: &str, label: &str) -> Result<Node, SchemaError> {
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

pub(super) fn is_external(file: &str) -> bool {
    file.contains("://") || file.starts_with("urn:")
}

/// Every `$ref` to another file, with the position of its value.
pub(super) fn collect_file_refs(node: &Node, out: &mut Vec<(String, Pos)>) {
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
