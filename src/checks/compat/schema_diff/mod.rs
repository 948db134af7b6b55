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

mod docs;
mod rules;
mod view;

pub use docs::{Docs, Sref, here, join_path, ref_of};
pub use rules::*;
use view::*;

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
            Flow::Message | Flow::Rpc | Flow::Stored => 2,
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
        self.default(place, field, &o, &n);
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

    /// A request's `default` changed: not a change of what is accepted, so not through
    /// [`Differ::emit`]. OpenAPI 3 (Schema Object, Parameter Object): the default is "the value
    /// the server will use if none is provided", so during the rollout a client that omits
    /// the value gets the old default from old pods and the new one from updated pods.
    fn default(&mut self, place: &Place, field: &str, o: &View<'a>, n: &View<'a>) {
        if place.flow != Flow::Request {
            return;
        }
        let (Some((old, _)), Some((new, at))) = (&o.default, &n.default) else {
            return;
        };
        if old == new {
            return;
        }
        let name = field_name(field);
        self.findings.push(
            REQUEST_DEFAULT_CHANGED
                .finding(format!(
                    "{}: {name}default changed from {old} to {new}: until the rollout completes, a client that omits it gets {old} from old pods and {new} from updated pods, and afterwards {new} where it relied on {old}",
                    place.context
                ))
                .at(at.location())
                .with_fix(format!(
                    "keep the default {old} and let clients that want {new} send it; or have every client send the value explicitly before the default changes"
                )),
        );
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
mod tests;
