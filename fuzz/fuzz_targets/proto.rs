#![no_main]
//! cargo-fuzz entry for the `proto` target; the target itself is in ../targets.rs.

#[allow(dead_code)]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::proto_schemas(data));
