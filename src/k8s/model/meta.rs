//! What every object has (kind, name, namespace, labels, annotations, the `gonogo.dev/ignore`
//! annotation as data), label selectors and references by kind and name.

use super::Field;
use crate::report::Location;
use crate::yaml::Pos;
use std::collections::BTreeMap;

pub use crate::report::{IGNORE_ANNOTATION, IgnoreAnnotation};

/// What every object has.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    pub kind: String,
    pub api_version: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The file, relative to the project root (`<stdin>` for standard input).
    pub file: String,
    /// Where the document starts (its first line of content).
    pub pos: Pos,
    pub labels: Labels,
    pub annotations: BTreeMap<String, Field<String>>,
    /// The object's `gonogo.dev/ignore` annotation (and, for workloads, its pod template's).
    pub ignore: IgnoreAnnotation,
}

impl Meta {
    /// `Deployment/shop-api`
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// A location in this object's file.
    pub fn at(&self, pos: Pos) -> Location {
        Location::new(&self.file, pos.line, pos.column)
    }

    /// The object's own location (its first line), for findings about a missing field.
    pub fn location(&self) -> Location {
        self.at(self.pos)
    }

    /// Objects without a namespace are applied into whatever namespace the deploy targets
    /// (`helm template`, `kubectl apply -n`), so they match any namespace.
    pub fn same_namespace(&self, other: &Meta) -> bool {
        match (&self.namespace, &other.namespace) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    pub values: Vec<String>,
}

/// String-to-string maps (labels, selectors), sorted by key. A small sorted vector rather than
/// a `BTreeMap`: most hold one to three entries, and a map's first node costs ~0.5 KB, which a
/// stream of 100,000 workloads pays three times per workload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    pub fn insert(&mut self, key: String, value: String) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            Ok(index) => self.0[index].1 = value,
            Err(index) => self.0.insert(index, (key, value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|index| &self.0[index].1)
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl FromIterator<(String, String)> for Labels {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut labels = Labels::default();
        for (k, v) in iter {
            labels.insert(k, v);
        }
        labels
    }
}

/// A label selector (`matchLabels` and `matchExpressions`, or a Service's plain map).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSelector {
    pub match_labels: Labels,
    pub match_expressions: Vec<SelectorRequirement>,
    pub pos: Pos,
}

impl LabelSelector {
    /// Kubernetes semantics: every label and every requirement must hold; an empty selector
    /// selects everything (policy/v1 PDB), an unknown operator selects nothing.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|req| {
                let value = labels.get(&req.key);
                match &req.operator {
                    SelectorOperator::In => value.is_some_and(|v| req.values.contains(v)),
                    SelectorOperator::NotIn => value.is_none_or(|v| !req.values.contains(v)),
                    SelectorOperator::Exists => value.is_some(),
                    SelectorOperator::DoesNotExist => value.is_none(),
                    SelectorOperator::Unknown(_) => false,
                }
            })
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
}

/// A reference by kind and name (`scaleTargetRef`, `targetRef`, `workloadRef`).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRef {
    pub api_version: Option<String>,
    pub kind: String,
    pub name: String,
    pub pos: Pos,
}
