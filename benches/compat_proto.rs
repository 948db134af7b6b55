//! Cost of the Protobuf side of `compat` as the tree grows: a generated service tree of n, 2n,
//! 4n and 8n files (n = 51, the size of the real service tree of issue 24), deployed version
//! and new version, compared in memory. Each file looks like a real API file: a package per
//! service area, a shared `common` package imported everywhere, well-known types, an import of
//! a neighbouring file, messages with scalar, enum, message, repeated, map and oneof fields,
//! an enum, a service, comments, and (one file in four) edition 2023 with features. The new
//! version adds a field in one file in eight and changes nothing else, as a typical release.
//!
//! Run with `cargo bench --bench compat_proto`; the per-file time should stay flat. Figures
//! are in README.md (Speed).

use gonogo::checks::compat::model::{Pair, Version};
use gonogo::checks::compat::proto;
use gonogo::config::ProtoLevel;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const N: usize = 51;

fn common_file() -> String {
    "syntax = \"proto3\";\n\npackage acme.common.v1;\n\nimport \"google/protobuf/timestamp.proto\";\n\n\
     // Who did something, and when.\nmessage Audit {\n  string actor = 1;\n  google.protobuf.Timestamp at = 2;\n}\n\n\
     message Money {\n  string currency_code = 1;\n  int64 units = 2;\n  int32 nanos = 3;\n}\n\n\
     message PageRequest {\n  int32 page_size = 1;\n  string page_token = 2;\n}\n"
        .to_string()
}

/// One service area file; `changed` adds a field (what a typical release does).
fn area_file(i: usize, changed: bool) -> String {
    let editions = i % 4 == 3;
    let mut s = String::new();
    if editions {
        s.push_str("edition = \"2023\";\n\n");
    } else {
        s.push_str("syntax = \"proto3\";\n\n");
    }
    s.push_str(&format!("package acme.area{i}.v1;\n\n"));
    if editions {
        s.push_str("option features.field_presence = IMPLICIT;\n\n");
    }
    s.push_str("import \"acme/common/v1/common.proto\";\n");
    s.push_str("import \"google/protobuf/timestamp.proto\";\n");
    s.push_str("import \"google/protobuf/field_mask.proto\";\n");
    if i > 0 {
        s.push_str(&format!(
            "import \"acme/area{0}/v1/area{0}.proto\";\n",
            i - 1
        ));
    }
    s.push('\n');
    s.push_str(&format!(
        "// The state of a thing of area {i}.\nenum State{i} {{\n  STATE{i}_UNSPECIFIED = 0;\n  STATE{i}_ACTIVE = 1;\n  STATE{i}_SUSPENDED = 2;\n  STATE{i}_DELETED = 3;\n}}\n\n"
    ));
    for m in 0..8 {
        s.push_str(&format!(
            "// Thing {m} of area {i}.\nmessage Thing{i}x{m} {{\n"
        ));
        s.push_str("  string id = 1;\n  string display_name = 2;\n");
        s.push_str(&format!("  State{i} state = 3;\n"));
        s.push_str("  acme.common.v1.Audit created = 4;\n");
        s.push_str("  google.protobuf.Timestamp update_time = 5;\n");
        s.push_str("  repeated string tags = 6;\n");
        s.push_str("  map<string, string> labels = 7;\n");
        s.push_str("  acme.common.v1.Money price = 8;\n");
        s.push_str("  oneof target {\n    string url = 9;\n    int64 ref = 10;\n  }\n");
        if i > 0 && m == 0 {
            s.push_str(&format!(
                "  acme.area{0}.v1.Thing{0}x1 parent = 11;\n",
                i - 1
            ));
        }
        s.push_str("  reserved 20 to 25;\n  reserved \"legacy\";\n");
        if changed && m == 7 {
            s.push_str("  string note = 12;\n");
        }
        s.push_str("}\n\n");
    }
    s.push_str(&format!(
        "message List{i}Request {{\n  acme.common.v1.PageRequest page = 1;\n  string filter = 2;\n}}\n\n\
         message List{i}Response {{\n  repeated Thing{i}x0 items = 1;\n  string next_page_token = 2;\n}}\n\n\
         message Update{i}Request {{\n  Thing{i}x0 thing = 1;\n  google.protobuf.FieldMask update_mask = 2;\n}}\n\n"
    ));
    s.push_str(&format!(
        "service Area{i}Service {{\n  rpc List(List{i}Request) returns (List{i}Response);\n  rpc Get(Thing{i}x1) returns (Thing{i}x0);\n  rpc Update(Update{i}Request) returns (Thing{i}x0);\n  rpc Watch(Thing{i}x1) returns (stream Thing{i}x0);\n}}\n"
    ));
    s
}

fn tree(files: usize, new: bool) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert(
        "proto/acme/common/v1/common.proto".to_string(),
        common_file(),
    );
    for i in 0..files - 1 {
        out.insert(
            format!("proto/acme/area{i}/v1/area{i}.proto"),
            area_file(i, new && i % 8 == 0),
        );
    }
    out
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    println!("files (per side) | lines per side | median compare | per file | findings");
    for factor in [1, 2, 4, 8] {
        let files = N * factor;
        let (old_tree, new_tree) = (tree(files, false), tree(files, true));
        let lines: usize = old_tree.values().map(|t| t.lines().count()).sum();
        let pairs: Vec<Pair> = old_tree
            .keys()
            .map(|p| Pair {
                old_path: p.clone(),
                new_path: p.clone(),
            })
            .collect();
        let runs = if files > 200 { 3 } else { 5 };
        let mut samples = Vec::new();
        let mut findings = 0;
        for _ in 0..runs {
            // A fresh Version each run: nothing read or parsed is carried over.
            let old = Version::from_files("base", old_tree.clone());
            let new = Version::from_files("head", new_tree.clone());
            let started = Instant::now();
            let comparison = proto::compare(&pairs, &old, &new, ProtoLevel::WireJson);
            samples.push(started.elapsed());
            assert!(
                comparison.errors.is_empty(),
                "the generated tree compiles: {:?}",
                comparison.errors
            );
            findings = comparison.findings.len();
        }
        let time = median(samples);
        println!(
            "{files} | {lines} | {:.1} ms | {:.2} ms | {findings}",
            time.as_secs_f64() * 1000.0,
            time.as_secs_f64() * 1000.0 / files as f64
        );
    }
}
