#![no_main]
//! cargo-fuzz entry for the `jsonschema` target; the target itself is in ../targets.rs.

#[allow(dead_code)]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::json_schemas(data));
