//! The comparison of two compiled versions, by fully-qualified names (a message that moved to
//! another file is the same message), fields by number, enum values by number, RPCs by name.
//! The rules and the reasons for each decision are documented in `rules.rs`.

use super::editions::{Features, Presence};
use super::load::{Loaded, span};
use super::rules::*;
use crate::checks::Rule;
use crate::checks::compat::model::{Breaks, Flow, breaking};
use crate::config::ProtoLevel;
use crate::report::{Finding, Location};
use prost_reflect::{
    Cardinality, EnumDescriptor, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor,
    ServiceDescriptor,
};
use std::collections::{BTreeSet, HashSet};

mod types;
use types::*;

pub struct Diff<'a> {
    pub old: &'a Loaded,
    pub new: &'a Loaded,
    pub level: ProtoLevel,
    pub findings: Vec<Finding>,
    /// Which messages and enums RPCs carry, for saying who breaks in their terms.
    pub usage: RpcUsage,
    /// How the message or enum being compared is used (set by `message` and `enumeration`).
    pub message_flow: Flow,
}

/// The messages and enums RPC requests and responses carry, directly or in fields (nested
/// transitively), in either version. A message no RPC carries is stored or published.
#[derive(Debug, Default)]
pub struct RpcUsage {
    requests: HashSet<String>,
    responses: HashSet<String>,
}

impl RpcUsage {
    pub fn of(versions: &[&Loaded]) -> RpcUsage {
        let mut usage = RpcUsage::default();
        for loaded in versions {
            for service in loaded.pool.services() {
                for method in service.methods() {
                    carried(&method.input(), &mut usage.requests);
                    carried(&method.output(), &mut usage.responses);
                }
            }
        }
        usage
    }

    fn flow(&self, full_name: &str) -> Flow {
        match (
            self.requests.contains(full_name),
            self.responses.contains(full_name),
        ) {
            (true, true) => Flow::Rpc,
            (true, false) => Flow::Request,
            (false, true) => Flow::Response,
            (false, false) => Flow::Stored,
        }
    }
}

/// `message` and every message and enum its fields carry, by full name.
fn carried(message: &MessageDescriptor, names: &mut HashSet<String>) {
    if !names.insert(message.full_name().to_string()) {
        return;
    }
    for field in message.fields() {
        match field.kind() {
            Kind::Message(inner) => carried(&inner, names),
            Kind::Enum(inner) => {
                names.insert(inner.full_name().to_string());
            }
            _ => {}
        }
    }
}

impl Diff<'_> {
    fn json(&self) -> bool {
        self.level == ProtoLevel::WireJson
    }

    fn report(
        &mut self,
        rule: &'static Rule,
        what: String,
        breaks: Breaks,
        flow: Flow,
        at: Location,
    ) {
        // Messages and enums are compared without knowing their use: say it in the terms of
        // how the one being compared travels (RPC request, response, or stored/published).
        let flow = if flow == Flow::Message {
            self.message_flow
        } else {
            flow
        };
        self.findings.push(breaking(rule, what, breaks, flow, at));
    }

    fn info(&mut self, rule: &'static Rule, what: String, at: Location) {
        self.findings.push(rule.finding(what).at(at));
    }

    pub fn run(&mut self) {
        let old_messages: Vec<MessageDescriptor> = self
            .old
            .pool
            .all_messages()
            .filter(|m| self.old.roots.contains(m.parent_file().name()) && !m.is_map_entry())
            .collect();
        for old in old_messages {
            match self.new.pool.get_message_by_name(old.full_name()) {
                Some(new) if !self.is_stub(&new.parent_file()) => self.message(&old, &new),
                Some(_) => {}
                None => self.type_removed(
                    "message",
                    old.full_name(),
                    old.parent_message().map(|p| p.full_name().to_string()),
                    loc(self.old, &old.parent_file(), old.path()),
                ),
            }
        }
        let old_enums: Vec<EnumDescriptor> = self
            .old
            .pool
            .all_enums()
            .filter(|e| self.old.roots.contains(e.parent_file().name()))
            .collect();
        for old in old_enums {
            match self.new.pool.get_enum_by_name(old.full_name()) {
                Some(new) => self.enumeration(&old, &new),
                None => self.type_removed(
                    "enum",
                    old.full_name(),
                    old.parent_message().map(|p| p.full_name().to_string()),
                    loc(self.old, &old.parent_file(), old.path()),
                ),
            }
        }
        let old_services: Vec<ServiceDescriptor> = self
            .old
            .pool
            .services()
            .filter(|s| self.old.roots.contains(s.parent_file().name()))
            .collect();
        for old in old_services {
            self.service(&old);
        }
    }

    fn is_stub(&self, file: &FileDescriptor) -> bool {
        Loaded::is_stub_file(file.name())
    }

    /// A removed message or enum. Only the outermost removed type is reported: its nested
    /// types go with it.
    fn type_removed(&mut self, kind: &str, name: &str, parent: Option<String>, at: Location) {
        if let Some(parent) = parent
            && self.new.pool.get_message_by_name(&parent).is_none()
        {
            return;
        }
        self.info(
            &MESSAGE_REMOVED,
            format!(
                "{kind} `{name}` removed: nothing in the wire or JSON encoding names it, so data \
                 only breaks through the fields and RPCs that used it (reported separately); code \
                 that still refers to it will not compile"
            ),
            at,
        );
    }

    fn message(&mut self, old: &MessageDescriptor, new: &MessageDescriptor) {
        self.message_flow = self.usage.flow(old.full_name());
        let new_at = loc(self.new, &new.parent_file(), new.path());
        self.json_format(
            "message",
            self.old.features.messages.get(old.full_name()),
            self.new.features.messages.get(new.full_name()),
            new.full_name(),
            syntax_note(self, &old.parent_file(), &new.parent_file()),
            &new_at,
        );
        for field in old.fields() {
            self.field_of(old, new, &field, &new_at);
        }
        // Required fields the old version does not know: old writers never send them, so the
        // new version rejects their messages.
        for field in new.fields() {
            if field.cardinality() == Cardinality::Required
                && old.get_field(field.number()).is_none()
            {
                self.report(
                    &REQUIRED_FIELD_CHANGED,
                    format!(
                        "required field `{}` ({}) added to message `{}`",
                        field.name(),
                        field.number(),
                        new.full_name()
                    ),
                    Breaks::NewReadsOld,
                    Flow::Message,
                    loc(self.new, &new.parent_file(), field.path()),
                );
            }
        }
        let old_ranges: Vec<_> = old.reserved_ranges().collect();
        let new_ranges: Vec<_> = new.reserved_ranges().collect();
        let lost: Vec<String> = old_ranges
            .iter()
            .flat_map(|r| r.clone().take(10_000))
            .filter(|n| !new_ranges.iter().any(|r| r.contains(n)) && new.get_field(*n).is_none())
            .map(|n| n.to_string())
            .take(20)
            .collect();
        let lost_names: Vec<&str> = old
            .reserved_names()
            .filter(|n| {
                !new.reserved_names().any(|m| m == *n) && new.get_field_by_name(n).is_none()
            })
            .collect();
        if !lost.is_empty() || !lost_names.is_empty() {
            self.info(
                &RESERVED_REMOVED,
                format!(
                    "message `{}` no longer reserves {}",
                    new.full_name(),
                    describe_reserved(&lost, &lost_names)
                ),
                new_at,
            );
        }
    }

    fn field_of(
        &mut self,
        old_message: &MessageDescriptor,
        new_message: &MessageDescriptor,
        old: &FieldDescriptor,
        new_at: &Location,
    ) {
        let owner = new_message.full_name();
        let by_number = new_message.get_field(old.number());
        let by_name = new_message
            .get_field_by_name(old.name())
            .filter(|f| f.number() != old.number());
        if let Some(moved) = &by_name {
            self.report(
                &FIELD_NUMBER_CHANGED,
                format!(
                    "field `{}` of message `{owner}` changed number from {} to {}",
                    old.name(),
                    old.number(),
                    moved.number()
                ),
                Breaks::Both,
                Flow::Message,
                loc(self.new, &new_message.parent_file(), moved.path()),
            );
        }
        match by_number {
            Some(new) => self.field(old_message, old, &new, by_name.is_some()),
            None if by_name.is_some() => {}
            None => self.field_removed(old, new_message, new_at),
        }
    }

    fn field_removed(
        &mut self,
        old: &FieldDescriptor,
        new_message: &MessageDescriptor,
        at: &Location,
    ) {
        let owner = new_message.full_name();
        let number_reserved = new_message
            .reserved_ranges()
            .any(|r| r.contains(&old.number()));
        let name_reserved = new_message.reserved_names().any(|n| n == old.name());
        if !number_reserved {
            let what = if self.json() && !name_reserved {
                format!(
                    "field `{}` ({}) of message `{owner}` removed without reserving its number or name",
                    old.name(),
                    old.number()
                )
            } else {
                format!(
                    "field `{}` ({}) of message `{owner}` removed without reserving its number",
                    old.name(),
                    old.number()
                )
            };
            self.report(
                &FIELD_REMOVED,
                what,
                Breaks::Both,
                Flow::Message,
                at.clone(),
            );
        } else if name_reserved || !self.json() {
            self.info(
                &FIELD_RETIRED,
                format!(
                    "field `{}` ({}) of message `{owner}` removed and reserved: old readers of new \
                     messages see its zero value",
                    old.name(),
                    old.number()
                ),
                at.clone(),
            );
        } else {
            self.report(
                &FIELD_NAME_NOT_RESERVED,
                format!(
                    "field `{}` ({}) of message `{owner}` removed with its number reserved but not \
                     its name (JSON `{}`)",
                    old.name(),
                    old.number(),
                    old.json_name()
                ),
                Breaks::NewReadsOld,
                Flow::Message,
                at.clone(),
            );
        }
    }

    /// The same field number in both versions.
    fn field(
        &mut self,
        old_message: &MessageDescriptor,
        old: &FieldDescriptor,
        new: &FieldDescriptor,
        name_moved: bool,
    ) {
        let owner = old_message.full_name();
        let at = loc(self.new, &new.parent_file(), new.path());
        let label = format!("field {} of message `{owner}`", old.number());
        if self.json()
            && !name_moved
            && (old.name() != new.name() || old.json_name() != new.json_name())
        {
            self.report(
                &FIELD_RENAMED,
                format!(
                    "{label} renamed from `{}` to `{}` (JSON name `{}` → `{}`)",
                    old.name(),
                    new.name(),
                    old.json_name(),
                    new.json_name()
                ),
                Breaks::Both,
                Flow::Message,
                at.clone(),
            );
        }
        let (old_card, new_card) = (cardinality(old), cardinality(new));
        if old_card != new_card {
            let (rule, breaks) = match (old_card, new_card) {
                (_, Card::Required) => (&REQUIRED_FIELD_CHANGED, Breaks::NewReadsOld),
                (Card::Required, _) => (&REQUIRED_FIELD_CHANGED, Breaks::OldReadsNew),
                _ => (&FIELD_CARDINALITY_CHANGED, Breaks::Both),
            };
            self.report(
                rule,
                format!(
                    "{label} (`{}`) changed from {} to {}",
                    new.name(),
                    old_card.describe(),
                    new_card.describe()
                ),
                breaks,
                Flow::Message,
                at.clone(),
            );
        }
        let (old_oneof, new_oneof) = (oneof_name(old), oneof_name(new));
        if old_oneof != new_oneof && !alone_into_new_oneof(old_message, old, new) {
            let what = match (&old_oneof, &new_oneof) {
                (None, Some(n)) => format!("moved into oneof `{n}`"),
                (Some(o), None) => format!("moved out of oneof `{o}`"),
                (Some(o), Some(n)) => format!("moved from oneof `{o}` to oneof `{n}`"),
                (None, None) => unreachable!("the oneofs differ"),
            };
            self.report(
                &FIELD_ONEOF_CHANGED,
                format!("{label} (`{}`) {what}", new.name()),
                Breaks::Both,
                Flow::Message,
                at.clone(),
            );
        }
        // A map's key and value types are compared through its entry message; for any other
        // change of cardinality into or out of a map the type comparison says nothing new.
        let map_change = (old_card == Card::Map) != (new_card == Card::Map);
        if !map_change && let Some(why) = kind_change(old, new, self.level, &mut HashSet::new()) {
            self.report(
                &FIELD_TYPE_CHANGED,
                format!("{label} (`{}`) changed type: {why}", new.name()),
                Breaks::Both,
                Flow::Message,
                at.clone(),
            );
        }
        if old_card == new_card
            && !matches!(old_card, Card::Repeated | Card::Map)
            && !matches!(old.kind(), Kind::Message(_))
            && same_kind_family(&old.kind(), &new.kind())
            && old.default_value() != new.default_value()
        {
            self.report(
                &FIELD_DEFAULT_CHANGED,
                format!(
                    "{label} (`{}`) changed its default from {} to {}",
                    new.name(),
                    default_text(old),
                    default_text(new)
                ),
                Breaks::Both,
                Flow::Message,
                at.clone(),
            );
        }
        self.field_features(old_message, old, new, &at);
    }

    /// `features.json_format` ALLOW → LEGACY_BEST_EFFORT of a message or enum (wire_json).
    fn json_format(
        &mut self,
        kind: &str,
        old: Option<&Features>,
        new: Option<&Features>,
        name: &str,
        note: String,
        at: &Location,
    ) {
        if let (Some(old), Some(new)) = (old, new)
            && self.json()
            && old.json_allowed
            && !new.json_allowed
        {
            // Nothing encodes differently today, so no "who cannot read whom" consequence.
            self.info(
                &JSON_FORMAT_CHANGED,
                format!(
                    "{kind} `{name}` no longer guarantees a JSON mapping (features.json_format \
                     ALLOW → LEGACY_BEST_EFFORT{}): protoc stops refusing fields whose JSON \
                     names collide, so a later change can add one that JSON clients misread",
                    note
                ),
                at.clone(),
            );
        }
    }

    /// The features of one field in both versions: UTF-8 validation of strings, presence of
    /// singular scalars. Packed/expanded encoding is not compared: parsers accept both for
    /// every repeated scalar (protobuf.dev/programming-guides/encoding#packed).
    fn field_features(
        &mut self,
        old_message: &MessageDescriptor,
        old: &FieldDescriptor,
        new: &FieldDescriptor,
        at: &Location,
    ) {
        let key = |f: &FieldDescriptor| format!("{}.{}", f.parent_message().full_name(), f.name());
        let (Some(before), Some(after)) = (
            self.old.features.fields.get(&key(old)).copied(),
            self.new.features.fields.get(&key(new)).copied(),
        ) else {
            return;
        };
        let label = format!(
            "field {} (`{}`) of message `{}`",
            new.number(),
            new.name(),
            old_message.full_name()
        );
        let note = syntax_note(self, &old.parent_file(), &new.parent_file());
        let strings = matches!(old.kind(), Kind::String) && matches!(new.kind(), Kind::String);
        // Only NONE → VERIFY: data already written without validation can now be refused.
        // The other way, old readers refuse only invalid UTF-8 the new version writes, and
        // Java, Go, Python and JavaScript strings cannot hold any.
        if strings && !before.verify_utf8 && after.verify_utf8 {
            self.report(
                &UTF8_VALIDATION_CHANGED,
                format!(
                    "{label} now rejects strings that are not valid UTF-8 \
                     (features.utf8_validation NONE → VERIFY{note}): a message holding one \
                     fails to parse"
                ),
                Breaks::NewReadsOld,
                Flow::Message,
                at.clone(),
            );
        }
        let singular_scalar = |f: &FieldDescriptor| {
            cardinality(f) == Card::Single
                && !matches!(f.kind(), Kind::Message(_))
                && f.containing_oneof().is_none()
        };
        let flavour = |p: Presence| match p {
            Presence::Explicit => Some("explicit"),
            Presence::Implicit => Some("implicit"),
            Presence::LegacyRequired => None,
        };
        if singular_scalar(old)
            && singular_scalar(new)
            && let (Some(was), Some(is)) = (flavour(before.presence), flavour(after.presence))
            && was != is
        {
            let consequence = if is == "implicit" {
                "the new version no longer sends zero values, so old readers see the field as unset"
            } else {
                "old writers never send zero values, so the new version sees them as unset"
            };
            self.info(
                &PRESENCE_CHANGED,
                format!("{label} changed from {was} to {is} presence{note}: {consequence}"),
                at.clone(),
            );
        }
    }

    fn enumeration(&mut self, old: &EnumDescriptor, new: &EnumDescriptor) {
        self.message_flow = self.usage.flow(old.full_name());
        let new_at = loc(self.new, &new.parent_file(), new.path());
        let (old_features, new_features) = (
            self.old.features.enums.get(old.full_name()),
            self.new.features.enums.get(new.full_name()),
        );
        self.json_format(
            "enum",
            old_features,
            new_features,
            new.full_name(),
            syntax_note(self, &old.parent_file(), &new.parent_file()),
            &new_at,
        );
        if let (Some(before), Some(after)) = (old_features, new_features)
            && !before.closed_enum
            && after.closed_enum
        {
            self.report(
                &ENUM_CLOSED,
                format!(
                    "enum `{}` became closed (features.enum_type OPEN → CLOSED{}): a number the \
                     new version does not know is moved to the unknown fields and the field reads \
                     as its default",
                    new.full_name(),
                    syntax_note(self, &old.parent_file(), &new.parent_file())
                ),
                Breaks::NewReadsOld,
                Flow::Message,
                new_at.clone(),
            );
        }
        let numbers: BTreeSet<i32> = old.values().map(|v| v.number()).collect();
        for number in numbers {
            let old_names: Vec<String> = names_of(old, number);
            let new_names: Vec<String> = names_of(new, number);
            let first = &old_names[0];
            if new_names.is_empty() {
                // Renumbered: the name lives on under another number.
                if let Some(moved) = new.get_value_by_name(first) {
                    self.report(
                        &ENUM_VALUE_CHANGED,
                        format!(
                            "enum value `{first}` of `{}` renumbered from {number} to {}",
                            old.full_name(),
                            moved.number()
                        ),
                        Breaks::Both,
                        Flow::Message,
                        loc(self.new, &new.parent_file(), moved.path()),
                    );
                    continue;
                }
                let number_reserved = new.reserved_ranges().any(|r| r.contains(&number));
                let names_reserved = old_names
                    .iter()
                    .all(|n| new.reserved_names().any(|r| r == n.as_str()));
                if !number_reserved {
                    self.report(
                        &ENUM_VALUE_REMOVED,
                        format!(
                            "enum value `{first}` ({number}) of `{}` removed without reserving {}",
                            old.full_name(),
                            if self.json() && !names_reserved {
                                "its number or name"
                            } else {
                                "its number"
                            }
                        ),
                        Breaks::NewReadsOld,
                        Flow::Message,
                        new_at.clone(),
                    );
                } else if self.json() && !names_reserved {
                    self.report(
                        &ENUM_VALUE_NAME_NOT_RESERVED,
                        format!(
                            "enum value `{first}` ({number}) of `{}` removed with its number \
                             reserved but not its name",
                            old.full_name()
                        ),
                        Breaks::NewReadsOld,
                        Flow::Message,
                        new_at.clone(),
                    );
                }
            } else if self.json() && old_names.iter().any(|n| !new_names.contains(n)) {
                let value = new.get_value(number).expect("the number has names");
                self.report(
                    &ENUM_VALUE_RENAMED,
                    format!(
                        "enum value {number} of `{}` renamed from `{}` to `{}`",
                        old.full_name(),
                        old_names.join("`, `"),
                        new_names.join("`, `")
                    ),
                    Breaks::Both,
                    Flow::Message,
                    loc(self.new, &new.parent_file(), value.path()),
                );
            }
        }
        let lost: Vec<String> = old
            .reserved_ranges()
            .flat_map(|r| r.take(10_000))
            .filter(|n| {
                !new.reserved_ranges().any(|r| r.contains(n)) && new.get_value(*n).is_none()
            })
            .map(|n| n.to_string())
            .take(20)
            .collect();
        let lost_names: Vec<&str> = old
            .reserved_names()
            .filter(|n| {
                !new.reserved_names().any(|m| m == *n) && new.get_value_by_name(n).is_none()
            })
            .collect();
        if !lost.is_empty() || !lost_names.is_empty() {
            self.info(
                &RESERVED_REMOVED,
                format!(
                    "enum `{}` no longer reserves {}",
                    new.full_name(),
                    describe_reserved(&lost, &lost_names)
                ),
                new_at,
            );
        }
    }

    fn service(&mut self, old: &ServiceDescriptor) {
        let Some(new) = self.new.pool.get_service_by_name(old.full_name()) else {
            let methods: Vec<String> = old.methods().map(|m| m.name().to_string()).collect();
            self.report(
                &RPC_REMOVED,
                format!(
                    "service `{}` removed (RPCs {})",
                    old.full_name(),
                    if methods.is_empty() {
                        "none".to_string()
                    } else {
                        format!("`{}`", methods.join("`, `"))
                    }
                ),
                Breaks::NewReadsOld,
                Flow::Request,
                loc(self.old, &old.parent_file(), old.path()),
            );
            return;
        };
        for method in old.methods() {
            let Some(now) = new.methods().find(|m| m.name() == method.name()) else {
                self.report(
                    &RPC_REMOVED,
                    format!("RPC `{}` removed", method.full_name()),
                    Breaks::NewReadsOld,
                    Flow::Request,
                    loc(self.new, &new.parent_file(), new.path()),
                );
                continue;
            };
            let at = loc(self.new, &now.parent_file(), now.path());
            for (side, before, after, flow) in [
                ("request", method.input(), now.input(), Flow::Request),
                ("response", method.output(), now.output(), Flow::Response),
            ] {
                if let Some(why) = message_change(&before, &after, self.level, &mut HashSet::new())
                {
                    self.report(
                        &RPC_TYPE_CHANGED,
                        format!("{side} type of RPC `{}` changed: {why}", method.full_name()),
                        Breaks::Both,
                        flow,
                        at.clone(),
                    );
                }
            }
            for (side, before, after, flow) in [
                (
                    "client",
                    method.is_client_streaming(),
                    now.is_client_streaming(),
                    Flow::Request,
                ),
                (
                    "server",
                    method.is_server_streaming(),
                    now.is_server_streaming(),
                    Flow::Response,
                ),
            ] {
                if before != after {
                    self.report(
                        &RPC_STREAMING_CHANGED,
                        format!(
                            "RPC `{}` changed from {side} {} to {side} {}",
                            method.full_name(),
                            streaming(before),
                            streaming(after)
                        ),
                        Breaks::Both,
                        flow,
                        at.clone(),
                    );
                }
            }
        }
    }
}

/// `, by moving from a proto3 file to a proto2 file` when the syntax of the enclosing file
/// changed, which is how most feature changes happen outside editions.
fn syntax_note(diff: &Diff, old: &FileDescriptor, new: &FileDescriptor) -> String {
    let (a, b) = (
        diff.old.syntax.get(old.name()),
        diff.new.syntax.get(new.name()),
    );
    match (a, b) {
        (Some(a), Some(b)) if a != b => format!(
            ", by moving from {} {a} file to {} {b} file",
            article(a),
            article(b)
        ),
        _ => String::new(),
    }
}

fn article(syntax: &str) -> &'static str {
    if syntax.starts_with('e') { "an" } else { "a" }
}

fn streaming(yes: bool) -> &'static str {
    if yes { "streaming" } else { "unary" }
}

fn describe_reserved(numbers: &[String], names: &[&str]) -> String {
    let mut parts = Vec::new();
    if !numbers.is_empty() {
        parts.push(format!("numbers {}", numbers.join(", ")));
    }
    if !names.is_empty() {
        parts.push(format!("names `{}`", names.join("`, `")));
    }
    format!(
        "{}: they can now be reused for different data",
        parts.join(" and ")
    )
}

/// Where an element is: its project file and the start of its declaration.
fn loc(side: &Loaded, file: &FileDescriptor, path: &[i32]) -> Location {
    let project = side
        .paths
        .get(file.name())
        .cloned()
        .unwrap_or_else(|| file.name().to_string());
    match span(file.file_descriptor_proto(), path) {
        Some((line, column)) => Location::new(project, line, column),
        None => Location::file(project),
    }
}

#[cfg(test)]
mod tests;
