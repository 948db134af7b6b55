//! What a changed type means for the bytes on the wire and in JSON: a field's cardinality, which
//! scalar kinds read each other's encoding at each compatibility level, and the words for a
//! changed field, enum or message type. Pure functions over descriptors; [`super::Diff`] decides
//! which rule a change breaks.

use crate::config::ProtoLevel;
use prost_reflect::{Cardinality, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};
use std::collections::HashSet;

/// How many values a field holds, in the terms that change its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Card {
    /// `optional`, proto3 implicit presence or a oneof member: the presence flavours encode
    /// the same way, so switching between them is not a change.
    Single,
    Required,
    Repeated,
    Map,
}

impl Card {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Card::Single => "a single value",
            Card::Required => "required",
            Card::Repeated => "repeated",
            Card::Map => "a map",
        }
    }
}

pub(super) fn cardinality(field: &FieldDescriptor) -> Card {
    if field.is_map() {
        Card::Map
    } else {
        match field.cardinality() {
            Cardinality::Optional => Card::Single,
            Cardinality::Required => Card::Required,
            Cardinality::Repeated => Card::Repeated,
        }
    }
}

/// Whether `new` is `old` moved, alone, out of no oneof into a oneof the old message did not
/// have. The protobuf language guide ("Updating A Message Type", oneof compatibility): "you can
/// safely move a single field into a new oneof", since no old message can set two of its
/// members; both the wire format (same number and type) and the JSON name are unchanged.
/// Several existing fields moved into one new oneof, or any field moved into an existing one,
/// are not safe: a message that set two of them keeps only one.
pub(super) fn alone_into_new_oneof(
    old_message: &MessageDescriptor,
    old: &FieldDescriptor,
    new: &FieldDescriptor,
) -> bool {
    if oneof_name(old).is_some() {
        return false;
    }
    let Some(oneof) = new.containing_oneof().filter(|o| !o.is_synthetic()) else {
        return false;
    };
    let existed = old_message
        .oneofs()
        .any(|o| !o.is_synthetic() && o.name() == oneof.name());
    let members_that_existed = oneof
        .fields()
        .filter(|f| old_message.get_field(f.number()).is_some())
        .count();
    !existed && members_that_existed == 1
}

/// The real oneof a field belongs to; a proto3 `optional` field's synthetic oneof is presence,
/// not a oneof.
pub(super) fn oneof_name(field: &FieldDescriptor) -> Option<String> {
    field
        .containing_oneof()
        .filter(|o| !o.is_synthetic())
        .map(|o| o.name().to_string())
}

pub(super) fn names_of(e: &EnumDescriptor, number: i32) -> Vec<String> {
    e.values()
        .filter(|v| v.number() == number)
        .map(|v| v.name().to_string())
        .collect()
}

pub(super) fn default_text(field: &FieldDescriptor) -> String {
    match field.field_descriptor_proto().default_value.as_deref() {
        Some(text) => format!("`{text}`"),
        None => "the type's zero value".to_string(),
    }
}

pub(super) fn same_kind_family(a: &Kind, b: &Kind) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// The protobuf name of a scalar kind, or the full name of a message or enum.
pub fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Double => "double".into(),
        Kind::Float => "float".into(),
        Kind::Int32 => "int32".into(),
        Kind::Int64 => "int64".into(),
        Kind::Uint32 => "uint32".into(),
        Kind::Uint64 => "uint64".into(),
        Kind::Sint32 => "sint32".into(),
        Kind::Sint64 => "sint64".into(),
        Kind::Fixed32 => "fixed32".into(),
        Kind::Fixed64 => "fixed64".into(),
        Kind::Sfixed32 => "sfixed32".into(),
        Kind::Sfixed64 => "sfixed64".into(),
        Kind::Bool => "bool".into(),
        Kind::String => "string".into(),
        Kind::Bytes => "bytes".into(),
        Kind::Message(m) => format!("message `{}`", m.full_name()),
        Kind::Enum(e) => format!("enum `{}`", e.full_name()),
    }
}

/// Scalar groups whose values read back through each other. At `wire` these are protobuf's
/// binary-compatible groups; at `wire_json` also the JSON encoding must be shared (buf's
/// FIELD_WIRE_COMPATIBLE_TYPE and FIELD_WIRE_JSON_COMPATIBLE_TYPE).
pub fn scalar_compatible(old: &Kind, new: &Kind, level: ProtoLevel) -> bool {
    use Kind::*;
    if std::mem::discriminant(old) == std::mem::discriminant(new) {
        return true;
    }
    let group = |k: &Kind| -> u8 {
        match (level, k) {
            (ProtoLevel::Wire, Int32 | Uint32 | Int64 | Uint64 | Bool) => 1,
            (ProtoLevel::WireJson, Int32 | Uint32) => 1,
            (ProtoLevel::WireJson, Int64 | Uint64) => 2,
            (_, Sint32 | Sint64) if level == ProtoLevel::Wire => 3,
            (_, Fixed32 | Sfixed32) => 4,
            (_, Fixed64 | Sfixed64) => 5,
            _ => 0,
        }
    };
    let (a, b) = (group(old), group(new));
    if a != 0 && a == b {
        return true;
    }
    // string → bytes reads every old value; bytes → string only valid UTF-8, which nothing
    // enforces, so it is a break (as in buf). JSON encodes them differently (text vs base64).
    level == ProtoLevel::Wire && matches!((old, new), (String, Bytes))
}

/// Why a field's type change breaks at `level`, or `None` when it does not.
pub(super) fn kind_change(
    old: &FieldDescriptor,
    new: &FieldDescriptor,
    level: ProtoLevel,
    seen: &mut HashSet<(String, String)>,
) -> Option<String> {
    if old.is_group() != new.is_group() {
        return Some(format!(
            "{} changed between group (delimited) and length-prefixed encoding",
            kind_name(&old.kind())
        ));
    }
    types_change(&old.kind(), &new.kind(), level, seen)
}

pub(super) fn types_change(
    old: &Kind,
    new: &Kind,
    level: ProtoLevel,
    seen: &mut HashSet<(String, String)>,
) -> Option<String> {
    let plain = || Some(format!("{} → {}", kind_name(old), kind_name(new)));
    match (old, new) {
        (Kind::Message(a), Kind::Message(b)) => message_change(a, b, level, seen),
        (Kind::Enum(a), Kind::Enum(b)) => enum_change(a, b, level)
            .map(|why| format!("{} → {} ({why})", kind_name(old), kind_name(new))),
        // An enum travels as an int32 varint: binary-compatible with the varint integers,
        // but JSON writes its name.
        (Kind::Enum(_), k) | (k, Kind::Enum(_)) => {
            let varint = matches!(k, Kind::Int32 | Kind::Uint32 | Kind::Int64 | Kind::Uint64);
            if level == ProtoLevel::Wire && varint {
                None
            } else {
                plain()
            }
        }
        (Kind::Message(_), _) | (_, Kind::Message(_)) => plain(),
        _ if scalar_compatible(old, new, level) => None,
        _ => plain(),
    }
}

/// Enums of different names read each other's numbers when every old number exists in the new
/// enum; at `wire_json` the names must match too (JSON writes names).
pub(super) fn enum_change(
    old: &EnumDescriptor,
    new: &EnumDescriptor,
    level: ProtoLevel,
) -> Option<String> {
    if old.full_name() == new.full_name() {
        return None;
    }
    for value in old.values() {
        match new.get_value(value.number()) {
            None => return Some(format!("value {} is missing", value.number())),
            Some(now) if level == ProtoLevel::WireJson && now.name() != value.name() => {
                return Some(format!(
                    "value {} is `{}` instead of `{}`",
                    value.number(),
                    now.name(),
                    value.name()
                ));
            }
            Some(_) => {}
        }
    }
    None
}

/// Messages of different names are the same data when they match field by field: the wire
/// carries numbers and JSON carries field names, never message names. A renamed message with
/// the same fields is therefore not a change.
pub fn message_change(
    old: &MessageDescriptor,
    new: &MessageDescriptor,
    level: ProtoLevel,
    seen: &mut HashSet<(String, String)>,
) -> Option<String> {
    if old.full_name() == new.full_name() {
        return None; // compared on its own, once
    }
    if !seen.insert((old.full_name().to_string(), new.full_name().to_string())) {
        return None; // recursion: assume compatible until shown otherwise
    }
    let names = format!("message `{}` → `{}`", old.full_name(), new.full_name());
    for field in old.fields() {
        let Some(now) = new.get_field(field.number()) else {
            if new.reserved_ranges().any(|r| r.contains(&field.number())) {
                continue;
            }
            return Some(format!("{names}, which has no field {}", field.number()));
        };
        if level == ProtoLevel::WireJson && field.json_name() != now.json_name() {
            return Some(format!(
                "{names}, whose field {} is `{}` instead of `{}`",
                field.number(),
                now.name(),
                field.name()
            ));
        }
        if cardinality(&field) != cardinality(&now)
            || oneof_name(&field).is_some() != oneof_name(&now).is_some()
        {
            return Some(format!(
                "{names}, whose field {} (`{}`) changed cardinality",
                field.number(),
                now.name()
            ));
        }
        if let Some(why) = kind_change(&field, &now, level, seen) {
            return Some(format!(
                "{names}, whose field {} (`{}`) changed type: {why}",
                field.number(),
                now.name()
            ));
        }
    }
    if let Some(required) = new
        .fields()
        .find(|f| f.cardinality() == Cardinality::Required && old.get_field(f.number()).is_none())
    {
        return Some(format!(
            "{names}, which requires the new field `{}`",
            required.name()
        ));
    }
    None
}
