//! The lenient field reader: typed fields out of the generic YAML tree, each with its position,
//! a field of the wrong type recorded as a [`Problem`] instead of failing; and the fields every
//! object shares (metadata, selectors, references).

use super::*;
use crate::yaml::{Node, Pos, Value};
use std::collections::BTreeMap;

/// Reads typed fields out of one object, recording problems instead of failing.
pub(super) struct Reader<'a> {
    pub(super) file: &'a str,
    pub(super) object: String,
    pub(super) ignore: IgnoreAnnotation,
    pub(super) problems: &'a mut Vec<Problem>,
}

/// What an out-of-range count or number of seconds is told it should be.
pub(super) const EXPECTED_INT32: &str = "a whole number from 0 to 2147483647";

/// Within a non-negative Kubernetes int32 (see [`Reader::int`]).
pub(super) fn is_int32(n: i64) -> bool {
    (0..=i64::from(i32::MAX)).contains(&n)
}

/// The type a scalar field should have: how the problem describes it, and how to read it.
pub(super) struct Expected<T> {
    pub(super) what: &'static str,
    pub(super) read: fn(&Value) -> Option<T>,
}

pub(super) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

impl Reader<'_> {
    pub(super) fn problem(
        &mut self,
        pos: Pos,
        path: &str,
        expected: &str,
        found: &Node,
        concern: Concern,
    ) {
        let found = match &found.value {
            Value::Str(s) => format!("the string \"{}\"", s.chars().take(40).collect::<String>()),
            Value::Int(i) => format!("the number {i}"),
            Value::Float(f) => format!("the number {f}"),
            Value::Bool(b) => format!("`{b}`"),
            _ => found.kind_name().to_string(),
        };
        self.problems.push(Problem {
            file: self.file.to_string(),
            pos,
            object: self.object.clone(),
            message: format!(
                "`{path}` of {} is {found}; expected {expected}",
                self.object
            ),
            concern,
            ignore: self.ignore.clone(),
        });
    }

    /// A present, non-null entry.
    pub(super) fn entry<'n>(&self, parent: &'n Node, key: &str) -> Option<(&'n Node, &'n Node)> {
        parent.entry(key).filter(|(_, v)| !v.is_null())
    }

    pub(super) fn map<'n>(
        &mut self,
        parent: &'n Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> Option<&'n Node> {
        let (k, v) = self.entry(parent, key)?;
        if matches!(v.value, Value::Map(_)) {
            Some(v)
        } else {
            self.problem(k.pos, &join(prefix, key), "a mapping", v, concern);
            None
        }
    }

    pub(super) fn seq<'n>(
        &mut self,
        parent: &'n Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> &'n [Node] {
        let Some((k, v)) = self.entry(parent, key) else {
            return &[];
        };
        if matches!(v.value, Value::Seq(_)) {
            v.items()
        } else {
            self.problem(k.pos, &join(prefix, key), "a list", v, concern);
            &[]
        }
    }

    /// A scalar field of the type `expected` describes; anything else is a problem that says
    /// what was expected.
    pub(super) fn scalar<T>(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
        concern: Concern,
        expected: Expected<T>,
    ) -> Option<Field<T>> {
        let (k, v) = self.entry(parent, key)?;
        match (expected.read)(&v.value) {
            Some(value) => Some(Field { value, pos: k.pos }),
            None => {
                self.problem(k.pos, &join(prefix, key), expected.what, v, concern);
                None
            }
        }
    }

    /// A count, a port or a number of seconds. Every one gonogo reads is a non-negative int32
    /// in its API (terminationGracePeriodSeconds is an int64, but 2^31 s is 68 years), so a
    /// value outside that range is reported as invalid where it is written, and the rules'
    /// arithmetic on these numbers (periodSeconds x failureThreshold, a grace period plus a
    /// preStop sleep) stays far from i64 overflow.
    pub(super) fn int(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> Option<Field<i64>> {
        let expected = Expected {
            what: EXPECTED_INT32,
            read: |v| match v {
                Value::Int(n) if is_int32(*n) => Some(*n),
                _ => None,
            },
        };
        self.scalar(parent, prefix, key, concern, expected)
    }

    pub(super) fn bool(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> Option<Field<bool>> {
        let expected = Expected {
            what: "true or false",
            read: |v| match v {
                Value::Bool(b) => Some(*b),
                _ => None,
            },
        };
        self.scalar(parent, prefix, key, concern, expected)
    }

    pub(super) fn string(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> Option<Field<String>> {
        let expected = Expected {
            what: "a string",
            read: |v| match v {
                Value::Str(text) => Some(text.clone()),
                _ => None,
            },
        };
        self.scalar(parent, prefix, key, concern, expected)
    }

    pub(super) fn strings(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> Option<Field<Vec<String>>> {
        let (k, v) = self.entry(parent, key)?;
        let Value::Seq(items) = &v.value else {
            self.problem(k.pos, &join(prefix, key), "a list of strings", v, concern);
            return None;
        };
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            match item.as_key() {
                Some(text) if !matches!(item.value, Value::Map(_) | Value::Seq(_)) => {
                    values.push(text)
                }
                _ => {
                    self.problem(
                        item.pos,
                        &join(prefix, key),
                        "a list of strings",
                        item,
                        concern,
                    );
                    return None;
                }
            }
        }
        Some(Field {
            value: values,
            pos: k.pos,
        })
    }

    pub(super) fn int_or_percent(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
    ) -> Option<Field<IntOrPercent>> {
        let (k, v) = self.entry(parent, key)?;
        let parsed = match &v.value {
            Value::Int(value) if is_int32(*value) => Some(IntOrPercent::Int(*value)),
            Value::Str(text) => text
                .trim()
                .strip_suffix('%')
                .and_then(|n| n.trim().parse::<i64>().ok())
                .filter(|n| is_int32(*n))
                .map(IntOrPercent::Percent),
            _ => None,
        };
        match parsed {
            Some(value) => Some(Field { value, pos: k.pos }),
            None => {
                self.problem(
                    k.pos,
                    &join(prefix, key),
                    "a whole number from 0 to 2147483647 or a percentage like 25%",
                    v,
                    Concern::Rollout,
                );
                None
            }
        }
    }

    /// A mapping of strings (labels, annotations, a Service selector) and its key's position.
    pub(super) fn string_map(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> Option<(Labels, Pos)> {
        let (k, _) = self.entry(parent, key)?;
        let node = self.map(parent, prefix, key, concern)?;
        let mut out = Labels::default();
        for (name, value) in node.entries() {
            let name = name.as_key().unwrap_or_default();
            match &value.value {
                Value::Str(text) => {
                    out.insert(name, text.clone());
                }
                _ => self.problem(
                    value.pos,
                    &join(&join(prefix, key), &name),
                    "a string",
                    value,
                    concern,
                ),
            }
        }
        Some((out, k.pos))
    }

    pub(super) fn meta(&mut self, root: &Node, kind: &str, api_version: &str) -> Meta {
        let metadata = root.get("metadata");
        let name = metadata
            .and_then(|m| m.get("name"))
            .and_then(Node::as_key)
            .or_else(|| {
                metadata
                    .and_then(|m| m.get("generateName"))
                    .and_then(Node::as_key)
            })
            .unwrap_or_else(|| "(unnamed)".to_string());
        self.object = format!("{kind}/{name}");
        let empty = Node {
            value: Value::Map(Vec::new()),
            pos: root.pos,
        };
        let metadata = metadata
            .filter(|m| matches!(m.value, Value::Map(_)))
            .unwrap_or(&empty);
        let labels = self
            .string_map(metadata, "metadata", "labels", Concern::Rollout)
            .map(|(l, _)| l)
            .unwrap_or_default();
        let annotations = self.annotations(metadata, "metadata");
        let mut ignore = IgnoreAnnotation {
            object: self.object.clone(),
            ..IgnoreAnnotation::default()
        };
        if let Some(field) = annotations.get(IGNORE_ANNOTATION) {
            ignore.add(&field.value, field.pos);
        }
        self.ignore = ignore.clone();
        Meta {
            kind: kind.to_string(),
            api_version: api_version.to_string(),
            name,
            namespace: metadata.get("namespace").and_then(Node::as_key),
            file: self.file.to_string(),
            pos: root.pos,
            labels,
            annotations,
            ignore,
        }
    }

    pub(super) fn annotations(
        &mut self,
        metadata: &Node,
        prefix: &str,
    ) -> BTreeMap<String, Field<String>> {
        let mut out = BTreeMap::new();
        let Some(node) = self.map(metadata, prefix, "annotations", Concern::Rollout) else {
            return out;
        };
        for (key, value) in node.entries() {
            let name = key.as_key().unwrap_or_default();
            match &value.value {
                Value::Str(text) => {
                    out.insert(
                        name,
                        Field {
                            value: text.clone(),
                            pos: key.pos,
                        },
                    );
                }
                _ => self.problem(
                    key.pos,
                    &format!("{prefix}.annotations.{name}"),
                    "a string (quote it)",
                    value,
                    Concern::Rollout,
                ),
            }
        }
        out
    }

    pub(super) fn selector(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
    ) -> Option<LabelSelector> {
        let (k, _) = self.entry(parent, key)?;
        let pos = k.pos;
        let node = self.map(parent, prefix, key, Concern::Rollout)?;
        let path = join(prefix, key);
        let match_labels = self
            .string_map(node, &path, "matchLabels", Concern::Rollout)
            .map(|(l, _)| l)
            .unwrap_or_default();
        let mut match_expressions = Vec::new();
        for expression in self.seq(node, &path, "matchExpressions", Concern::Rollout) {
            let operator = match expression
                .get("operator")
                .and_then(Node::as_str)
                .unwrap_or("")
            {
                "In" => SelectorOperator::In,
                "NotIn" => SelectorOperator::NotIn,
                "Exists" => SelectorOperator::Exists,
                "DoesNotExist" => SelectorOperator::DoesNotExist,
                other => SelectorOperator::Unknown(other.to_string()),
            };
            match_expressions.push(SelectorRequirement {
                key: expression
                    .get("key")
                    .and_then(Node::as_key)
                    .unwrap_or_default(),
                operator,
                values: expression
                    .get("values")
                    .map(Node::items)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(Node::as_key)
                    .collect(),
            });
        }
        Some(LabelSelector {
            match_labels,
            match_expressions,
            pos,
        })
    }

    pub(super) fn target_ref(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
    ) -> Option<TargetRef> {
        let (k, _) = self.entry(parent, key)?;
        let pos = k.pos;
        let node = self.map(parent, prefix, key, Concern::Rollout)?;
        Some(TargetRef {
            api_version: node.get("apiVersion").and_then(Node::as_key),
            kind: node.get("kind").and_then(Node::as_key).unwrap_or_default(),
            name: node.get("name").and_then(Node::as_key).unwrap_or_default(),
            pos,
        })
    }
}
