//! Unit tests of the Protobuf descriptor comparison.

use super::*;

#[test]
fn varint_integers_share_the_wire_but_not_all_of_json() {
    let w = ProtoLevel::Wire;
    let j = ProtoLevel::WireJson;
    assert!(scalar_compatible(&Kind::Int32, &Kind::Uint32, w));
    assert!(scalar_compatible(&Kind::Int32, &Kind::Uint32, j));
    assert!(scalar_compatible(&Kind::Int32, &Kind::Int64, w));
    assert!(!scalar_compatible(&Kind::Int32, &Kind::Int64, j));
    assert!(scalar_compatible(&Kind::Bool, &Kind::Uint64, w));
    assert!(!scalar_compatible(&Kind::Bool, &Kind::Uint64, j));
    assert!(scalar_compatible(&Kind::Sint32, &Kind::Sint64, w));
    assert!(!scalar_compatible(&Kind::Sint32, &Kind::Sint64, j));
    assert!(!scalar_compatible(&Kind::Sint32, &Kind::Int32, w));
    assert!(scalar_compatible(&Kind::Fixed32, &Kind::Sfixed32, j));
    assert!(!scalar_compatible(&Kind::Fixed32, &Kind::Fixed64, w));
}

#[test]
fn string_reads_as_bytes_but_not_the_reverse() {
    assert!(scalar_compatible(
        &Kind::String,
        &Kind::Bytes,
        ProtoLevel::Wire
    ));
    assert!(!scalar_compatible(
        &Kind::Bytes,
        &Kind::String,
        ProtoLevel::Wire
    ));
    assert!(!scalar_compatible(
        &Kind::String,
        &Kind::Bytes,
        ProtoLevel::WireJson
    ));
}
