//! The Protobuf comparer of `compat`: its fixture pairs (each in its rule's folder under
//! tests/fixtures/compat/, which rule_fixtures.rs checks and snapshots at the default level)
//! raise exactly their rules at both levels, the real-world pairs of
//! ../shared/corpus/pairs/proto (findings in a snapshot, documented changes asserted), buf's own breaking-change suite (every file
//! compiles or fails with a clean error), and the side-by-side table with `buf breaking`
//! (docs/buf-comparison.md; re-run with BUF=/path/to/buf to compare live).

use crate::common;

use crate::common::corpus;
use common::compat::{blocking, render};
use common::fixtures::{compare_proto_trees as compare_trees, proto_tree as read_tree};
use gonogo::checks::compat::model::{Comparison, Pair, Version};
use gonogo::checks::compat::proto;
use gonogo::config::ProtoLevel;
use gonogo::report::Severity;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A corpus folder; tests call `corpus::dir` first, which reports the corpus's absence.
fn shared(relative: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(relative);
    assert!(
        dir.is_dir(),
        "the shared corpus is missing at {}: this test needs the project's shared/ folder beside the repository",
        dir.display()
    );
    dir
}

/// Where a fixture named here (and in the snapshot) lives in the one layout: `<rule>-fail` is
/// `compat/proto-<rule>/fail`, the others are named one by one.
fn fixture_path(name: &str) -> PathBuf {
    let relative = match name {
        "broken-file" => "broken/proto".to_string(),
        "field-removed-rpc" => "proto-field-removed/fail-rpc".to_string(),
        "field-type-wire-only" => "proto-field-type-changed/fail-json-only".to_string(),
        "moved-between-files" => "quiet/proto-moved-between-files".to_string(),
        "quiet-additions" => "quiet/proto-additions".to_string(),
        "required-field-fail" => "proto-required-field-changed/fail".to_string(),
        "required-field-pass" => "proto-required-field-changed/pass".to_string(),
        "reserved-removed-info" => "proto-reserved-removed/fail".to_string(),
        "type-removed-info" => "proto-type-removed/fail".to_string(),
        "unresolved-import" => "proto-import-unresolved/fail".to_string(),
        _ => {
            let (rule, case) = name.rsplit_once('-').expect("<rule>-fail or <rule>-pass");
            format!("proto-{rule}/{case}")
        }
    };
    common::fixtures::path(&format!("compat/{relative}"))
}

fn fixture(name: &str, level: ProtoLevel) -> Comparison {
    common::fixtures::compat(&fixture_path(name), level)
}

fn assert_clean(comparison: &Comparison) {
    assert!(
        comparison.errors.is_empty(),
        "errors:\n{}",
        render(comparison)
    );
}

/// A corpus pair puts its files under `old/` and `new/` side by side; a real repository has
/// them at the path their imports use, which is their package as directories (buf's layout).
fn corpus_version_files(dir: &Path) -> BTreeMap<String, String> {
    read_tree(dir)
        .into_iter()
        .map(|(name, text)| {
            let package = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("package "))
                .map(|p| p.trim_end_matches(';').trim().replace('.', "/"))
                .unwrap_or_default();
            let file = name.rsplit('/').next().unwrap().to_string();
            let path = if package.is_empty() {
                file
            } else {
                format!("{package}/{file}")
            };
            (path, text)
        })
        .collect()
}

fn corpus_pair(name: &str, level: ProtoLevel) -> Comparison {
    let dir = shared("pairs/proto").join(name);
    compare_trees(
        corpus_version_files(&dir.join("old")),
        corpus_version_files(&dir.join("new")),
        level,
    )
}

fn rules_of(comparison: &Comparison, rule: &str) -> Vec<String> {
    comparison
        .findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| f.message.clone())
        .collect()
}

const W: ProtoLevel = ProtoLevel::Wire;
const J: ProtoLevel = ProtoLevel::WireJson;

/// (fixture, level, blocking rules expected (sorted), info rules expected (sorted)).
const CASES: &[(&str, ProtoLevel, &[&str], &[&str])] = &[
    (
        "field-removed-fail",
        J,
        &["compat/proto-field-removed"],
        &[],
    ),
    (
        "field-removed-fail",
        W,
        &["compat/proto-field-removed"],
        &[],
    ),
    (
        "field-removed-rpc",
        J,
        &["compat/proto-field-removed", "compat/proto-field-removed"],
        &[],
    ),
    (
        "field-removed-pass",
        J,
        &[],
        &["compat/proto-field-retired"],
    ),
    (
        "field-name-not-reserved-fail",
        J,
        &["compat/proto-field-name-not-reserved"],
        &[],
    ),
    (
        "field-name-not-reserved-fail",
        W,
        &[],
        &["compat/proto-field-retired"],
    ),
    (
        "field-number-changed-fail",
        W,
        &["compat/proto-field-number-changed"],
        &[],
    ),
    ("field-number-changed-pass", J, &[], &[]),
    (
        "field-renamed-fail",
        J,
        &["compat/proto-field-renamed"],
        &[],
    ),
    ("field-renamed-fail", W, &[], &[]),
    (
        "field-type-changed-fail",
        J,
        &[
            "compat/proto-field-type-changed",
            "compat/proto-field-type-changed",
            "compat/proto-field-type-changed",
        ],
        &[],
    ),
    (
        "field-type-changed-pass",
        J,
        &[],
        &["compat/proto-type-removed"],
    ),
    ("field-type-wire-only", W, &[], &[]),
    (
        "field-type-wire-only",
        J,
        &[
            "compat/proto-field-type-changed",
            "compat/proto-field-type-changed",
        ],
        &[],
    ),
    (
        "field-cardinality-changed-fail",
        J,
        &[
            "compat/proto-field-cardinality-changed",
            "compat/proto-field-cardinality-changed",
        ],
        &[],
    ),
    ("field-cardinality-changed-pass", J, &[], &[]),
    (
        "required-field-fail",
        J,
        &[
            "compat/proto-required-field-changed",
            "compat/proto-required-field-changed",
        ],
        &[],
    ),
    ("required-field-pass", J, &[], &[]),
    (
        "field-oneof-changed-fail",
        J,
        &[
            "compat/proto-field-oneof-changed",
            "compat/proto-field-oneof-changed",
        ],
        &[],
    ),
    ("field-oneof-changed-pass", J, &[], &[]),
    (
        "field-default-changed-fail",
        W,
        &["compat/proto-field-default-changed"],
        &[],
    ),
    ("field-default-changed-pass", J, &[], &[]),
    (
        "enum-value-removed-fail",
        W,
        &[
            "compat/proto-enum-value-removed",
            "compat/proto-enum-value-removed",
        ],
        &[],
    ),
    ("enum-value-removed-pass", J, &[], &[]),
    (
        "enum-value-name-not-reserved-fail",
        J,
        &["compat/proto-enum-value-name-not-reserved"],
        &[],
    ),
    ("enum-value-name-not-reserved-fail", W, &[], &[]),
    (
        "enum-value-renumbered-fail",
        W,
        &["compat/proto-enum-value-renumbered"],
        &[],
    ),
    ("enum-value-renumbered-pass", J, &[], &[]),
    (
        "enum-value-renamed-fail",
        J,
        &["compat/proto-enum-value-renamed"],
        &[],
    ),
    ("enum-value-renamed-fail", W, &[], &[]),
    ("enum-value-renamed-pass", J, &[], &[]),
    (
        "rpc-removed-fail",
        W,
        &["compat/proto-rpc-removed", "compat/proto-rpc-removed"],
        &[],
    ),
    ("rpc-removed-pass", J, &[], &[]),
    (
        "rpc-type-changed-fail",
        J,
        &["compat/proto-rpc-type-changed"],
        &[],
    ),
    (
        "rpc-type-changed-pass",
        J,
        &[],
        &["compat/proto-type-removed"],
    ),
    (
        "rpc-streaming-changed-fail",
        J,
        &[
            "compat/proto-rpc-streaming-changed",
            "compat/proto-rpc-streaming-changed",
        ],
        &[],
    ),
    (
        "type-removed-info",
        J,
        &[],
        &["compat/proto-type-removed", "compat/proto-type-removed"],
    ),
    (
        "reserved-removed-info",
        J,
        &[],
        &["compat/proto-reserved-removed"],
    ),
    ("quiet-additions", J, &[], &[]),
    ("moved-between-files", J, &[], &[]),
    (
        "unresolved-import",
        J,
        &["compat/proto-field-removed"],
        &[
            "compat/proto-import-unresolved",
            "compat/proto-import-unresolved",
        ],
    ),
];

#[test]
fn every_fixture_pair_raises_exactly_its_rules() {
    let mut failures = Vec::new();
    for (name, level, blocking_expected, info_expected) in CASES {
        let comparison = fixture(name, *level);
        assert_clean(&comparison);
        let mut blocking: Vec<&str> = blocking(&comparison);
        blocking.sort();
        let mut info: Vec<&str> = comparison
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Info)
            .map(|f| f.rule.as_str())
            .collect();
        info.sort();
        if blocking != *blocking_expected || info != *info_expected {
            failures.push(format!("{name} at {level:?}:\n{}", render(&comparison)));
        }
        // Every finding points at a line of a file of the pair.
        for finding in &comparison.findings {
            let at = finding.location.as_ref().expect("a location");
            assert!(at.path.starts_with("shop/v1/"), "{name}: {at}");
            assert!(at.line.is_some(), "{name}: {at}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fixture_findings_snapshot() {
    let mut out = String::new();
    for (name, level, _, _) in CASES {
        out.push_str(&format!(
            "== {name} ({level:?})\n{}",
            render(&fixture(name, *level))
        ));
    }
    insta::assert_snapshot!("fixture_findings", out);
}

#[test]
fn directions_and_locations_are_precise() {
    let removed = fixture("field-removed-fail", J);
    let f = &removed.findings[0];
    assert_eq!(
        f.location.as_ref().unwrap().to_string(),
        "shop/v1/orders.proto:4:1"
    );
    // A message no RPC carries is stored or published: its readers read the other version's data.
    assert!(
        f.message.contains(
            "readers on the new version cannot read data written by the old version (stored or already published messages), and readers still on the old version cannot read data written by the new version"
        ),
        "{}",
        f.message
    );

    // An RPC's request and response messages are said in terms of clients and servers.
    let rpc = fixture("field-removed-rpc", J);
    let message_of = |owner: &str| {
        rpc.findings
            .iter()
            .find(|f| f.message.contains(owner))
            .map(|f| f.message.clone())
            .unwrap_or_else(|| panic!("no finding on {owner}: {}", render(&rpc)))
    };
    let request = message_of("`shop.v1.GetOrderRequest`");
    assert!(
        request.contains("updated pods will reject requests from clients that are not updated yet")
            && !request.contains("topic")
            && !request.contains("stored"),
        "{request}"
    );
    let response = message_of("`shop.v1.Order`");
    assert!(
        response.contains("updated clients cannot read responses from old pods")
            && !response.contains("topic"),
        "{response}"
    );

    let enum_removed = fixture("enum-value-removed-fail", J);
    assert!(
        enum_removed
            .findings
            .iter()
            .all(|f| f.message.contains("readers on the new version")
                && !f.message.contains("readers still on the old version"))
    );

    let rpc = fixture("rpc-removed-fail", J);
    assert!(rpc.findings.iter().all(|f| {
        f.message
            .contains("updated pods will reject requests from clients that are not updated yet")
    }));
    let legacy = rpc
        .findings
        .iter()
        .find(|f| f.message.contains("shop.v1.Legacy"))
        .unwrap();
    // A removed service exists only in the old file: it is located there.
    assert_eq!(legacy.location.as_ref().unwrap().line, Some(10));

    let streaming = fixture("rpc-streaming-changed-fail", J);
    assert!(streaming.findings.iter().any(|f| {
        f.message
            .contains("clients that are not updated yet cannot read responses")
    }));

    let required = fixture("required-field-fail", J);
    assert!(
        required
            .findings
            .iter()
            .all(|f| f.message.contains("readers on the new version cannot read"))
    );
}

#[test]
fn broken_files_are_errors_with_positions_and_the_rest_is_compared() {
    let comparison = fixture("broken-file", J);
    let errors: Vec<String> = comparison.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("shop/v1/broken.proto:6:3:"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("shop/v1/unlinked.proto:5:3:"),
        "{errors:?}"
    );
    assert!(errors[1].contains("NoSuchType"), "{errors:?}");
    // The valid pair is still compared.
    assert_eq!(blocking(&comparison), ["compat/proto-field-removed"]);
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "syntax = \"proto4\";",
        "message {",
        "\u{0}\u{1}",
        "import \"a.proto\";",
        "message A { A a = 1; }",
    ] {
        let old = Version::from_files("v1", [("a.proto", text)]);
        let new = Version::from_files("wt", [("a.proto", "syntax = \"proto3\"; message A {}")]);
        let _ = proto::compare(&[Pair::same("a.proto")], &old, &new, J);
        let _ = proto::compare(&[Pair::same("a.proto")], &new, &old, J);
    }
    // An import cycle is an error, not a hang.
    let cyclic = Version::from_files(
        "v1",
        [
            ("a.proto", "syntax = \"proto3\"; import \"b.proto\";"),
            ("b.proto", "syntax = \"proto3\"; import \"a.proto\";"),
        ],
    );
    let result = proto::compare(&[Pair::same("a.proto")], &cyclic, &cyclic, J);
    assert!(!result.errors.is_empty());
    // A git error while reading is a SchemaError naming the file.
    let failing = Version::new("v1", |_| Err("git: bad object".to_string()));
    let result = proto::compare(&[Pair::same("a.proto")], &failing, &failing, J);
    assert_eq!(result.errors[0].location.path, "a.proto");
}

#[test]
fn real_world_pairs_match_their_documented_changes() {
    if corpus::dir("pairs/proto").is_none() {
        return;
    }
    let rules = |name: &str, level| {
        let c = corpus_pair(name, level);
        assert_clean(&c);
        let mut r: Vec<String> = blocking(&c).into_iter().map(String::from).collect();
        r.sort();
        (c, r)
    };
    // Additive changes: nothing at warn/fail.
    for name in [
        "grpc-health-watch",
        "grpc-health-list",
        "otel-logs-event-name",
    ] {
        assert_eq!(rules(name, J).1, Vec::<String>::new(), "{name}");
    }
    // Fields removed with number and name reserved: safe, info only.
    for name in ["grpc-rls-remove-server-path", "grpc-rls-cleanup"] {
        let (c, r) = rules(name, J);
        assert!(r.is_empty(), "{name}: {r:?}");
        assert!(
            !rules_of(&c, "compat/proto-field-retired").is_empty(),
            "{name}"
        );
    }
    // LogRecord.name removed with `reserved 4;` but not its name: a JSON break only.
    assert_eq!(
        rules("otel-logs-remove-name", J).1,
        ["compat/proto-field-name-not-reserved"]
    );
    assert!(rules("otel-logs-remove-name", W).1.is_empty());
    // Three `instrumentation_library_*` fields reserved by number only; the messages removed.
    let (c, r) = rules("otel-remove-instrumentation-library", J);
    assert_eq!(r, vec!["compat/proto-field-name-not-reserved"; 3]);
    assert_eq!(rules_of(&c, "compat/proto-type-removed").len(), 4);
    // A top-level enum no field uses: info.
    let (c, r) = rules("otel-trace-remove-enum", J);
    assert!(r.is_empty());
    assert_eq!(rules_of(&c, "compat/proto-type-removed").len(), 1);
    // int32 → uint32: the same varint on the wire and a number in JSON (buf WIRE_JSON agrees).
    assert!(rules("otel-dropped-count-uint32", J).1.is_empty());
    // Renamed fields: JSON breaks, the wire does not.
    let (c, r) = rules("otel-resource-labels-rename", J);
    assert_eq!(
        r,
        ["compat/proto-field-renamed", "compat/proto-field-renamed"]
    );
    assert!(rules_of(&c, "compat/proto-field-renamed")[0].contains("`labels` to `attributes`"));
    assert!(rules("otel-resource-labels-rename", W).1.is_empty());
    // Two enum values removed without reserving.
    let (c, r) = rules("temporal-remove-enum-values", W);
    assert_eq!(
        r,
        [
            "compat/proto-enum-value-removed",
            "compat/proto-enum-value-removed"
        ]
    );
    let removed = rules_of(&c, "compat/proto-enum-value-removed").join("\n");
    assert!(removed.contains("RESOURCE_EXHAUSTED_SCOPE_NAMESPACE_SHARD` (3)"));
    assert!(removed.contains("RESOURCE_EXHAUSTED_SCOPE_EXECUTION` (4)"));
    // Renames only: JSON names of an enum value, a oneof field and the enum values of a renamed
    // enum change; on the wire the renamed message and enum carry the same numbers.
    let (_, r) = rules("temporal-update-admitted-rename", J);
    assert_eq!(
        r,
        [
            "compat/proto-enum-value-renamed",
            "compat/proto-field-renamed",
            "compat/proto-field-type-changed"
        ]
    );
    assert!(rules("temporal-update-admitted-rename", W).1.is_empty());
}

#[test]
fn real_world_pairs_snapshot() {
    if corpus::dir("pairs/proto").is_none() {
        return;
    }
    let mut names: Vec<String> = std::fs::read_dir(shared("pairs/proto"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let mut out = String::new();
    for name in names {
        for level in [J, W] {
            out.push_str(&format!(
                "== {name} ({level:?})\n{}",
                render(&corpus_pair(&name, level))
            ));
        }
    }
    insta::assert_snapshot!("real_world_pairs", out);
}

/// buf's own breaking-change suite: `previous/<case>` against `current/<case>`.
fn buf_cases() -> Vec<String> {
    let mut cases: Vec<String> = std::fs::read_dir(shared("proto-buf-breaking/previous"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    cases.sort();
    cases
}

fn buf_case(case: &str, level: ProtoLevel) -> Comparison {
    let old = read_tree(&shared("proto-buf-breaking/previous").join(case));
    let new = read_tree(&shared("proto-buf-breaking/current").join(case));
    // Every file of either side is configured, as buf compiles whole modules.
    let mut paths: Vec<String> = old.keys().chain(new.keys()).cloned().collect();
    paths.sort();
    paths.dedup();
    let pairs: Vec<Pair> = paths.into_iter().map(Pair::same).collect();
    proto::compare(
        &pairs,
        &Version::from_files("previous", old),
        &Version::from_files("current", new),
        level,
    )
}

#[test]
fn every_buf_suite_file_compiles_or_fails_cleanly() {
    if corpus::dir("proto-buf-breaking").is_none() {
        return;
    }
    let mut errors = 0;
    for case in buf_cases() {
        for level in [J, W] {
            let comparison = buf_case(&case, level);
            for error in &comparison.errors {
                errors += 1;
                assert!(!error.message.is_empty(), "{case}: {error}");
                assert!(error.location.path.ends_with(".proto"), "{case}: {error}");
            }
        }
    }
    // Editions files (`edition = "2023"`) are beyond protox 0.10; recorded in
    // docs/buf-comparison.md.
    assert!(errors < 200, "{errors} errors");
}

/// gonogo next to `buf breaking` (WIRE_JSON) on buf's suite and the real-world pairs: per case,
/// the lines both flag, the lines only one flags, or that buf cannot compile the case. buf's
/// output is recorded by scripts/buf-compare; with BUF=/path/to/buf the record is re-made live
/// and must be unchanged. The table is docs/buf-comparison.md's source.
#[test]
fn buf_side_by_side() {
    if corpus::dir("proto-buf-breaking").is_none() {
        return;
    }
    let recorded_path = common::fixtures::path("compat/recorded/buf-wire-json.txt");
    let recorded = std::fs::read_to_string(&recorded_path).unwrap();
    if let Ok(buf) = std::env::var("BUF") {
        let live = std::env::temp_dir().join(format!("gonogo-buf-{}.txt", std::process::id()));
        let status = std::process::Command::new(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/buf-compare"),
        )
        .env("BUF", buf)
        .env("OUT", &live)
        .status()
        .expect("run scripts/buf-compare");
        assert!(status.success());
        let live_text = std::fs::read_to_string(&live).unwrap();
        let _ = std::fs::remove_file(&live);
        assert_eq!(
            live_text, recorded,
            "buf's findings changed: re-run scripts/buf-compare and review"
        );
    }
    let mut by_case: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in recorded.lines() {
        if let Some((case, rest)) = line.split_once('\t') {
            by_case
                .entry(case.to_string())
                .or_default()
                .push(rest.to_string());
        }
    }
    let mut cases: Vec<String> = buf_cases()
        .into_iter()
        .map(|c| format!("buf/{c}"))
        .collect();
    let mut pairs: Vec<String> = std::fs::read_dir(shared("pairs/proto"))
        .unwrap()
        .map(|e| format!("pairs/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    pairs.sort();
    cases.extend(pairs);
    let mut table = String::from("case | buf | gonogo | both | buf only | gonogo only\n");
    for case in cases {
        let buf_lines = by_case.remove(&case).unwrap_or_default();
        let buf_broken = buf_lines.iter().any(|l| {
            l.contains("imported file does not exist")
                || l.contains("cannot find `")
                || l.contains("syntax error")
        });
        let place = |l: &str| -> Option<String> {
            let mut parts = l.splitn(3, ':');
            Some(format!("{}:{}", parts.next()?, parts.next()?))
        };
        let buf_at: std::collections::BTreeSet<String> =
            buf_lines.iter().filter_map(|l| place(l)).collect();
        let comparison = if let Some(name) = case.strip_prefix("buf/") {
            buf_case(name, J)
        } else {
            corpus_pair(case.strip_prefix("pairs/").unwrap(), J)
        };
        let ours: std::collections::BTreeSet<String> = comparison
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warn)
            .filter_map(|f| f.location.as_ref())
            .map(|l| format!("{}:{}", l.path, l.line.unwrap_or(0)))
            .collect();
        let buf_cell = if buf_broken {
            "cannot compile".to_string()
        } else {
            format!("{} at {} lines", buf_lines.len(), buf_at.len())
        };
        let ours_cell = if comparison.errors.is_empty() {
            format!("{} lines", ours.len())
        } else {
            format!("{} lines, {} errors", ours.len(), comparison.errors.len())
        };
        let (both, buf_only, ours_only) = if buf_broken {
            (0, 0, ours.len())
        } else {
            (
                ours.intersection(&buf_at).count(),
                buf_at.difference(&ours).count(),
                ours.difference(&buf_at).count(),
            )
        };
        table.push_str(&format!(
            "{case} | {buf_cell} | {ours_cell} | {both} | {buf_only} | {ours_only}\n"
        ));
    }
    insta::assert_snapshot!("buf_side_by_side", table);
}

/// Editions files that protoc refuses are errors at their line and column, in the terms of
/// editions (the mapping layer reads them as proto3, whose messages would mislead), and the
/// other files are still compared.
#[test]
fn editions_errors_name_the_editions_rule_and_position() {
    let old = Version::from_files(
        "base",
        [
            (
                "shop/v1/a.proto",
                "edition = \"2023\";\npackage shop.v1;\nmessage A { int32 x = 1; }\n",
            ),
            (
                "shop/v1/b.proto",
                "edition = \"2023\";\npackage shop.v1;\nmessage B { int32 x = 1; }\n",
            ),
            (
                "shop/v1/c.proto",
                "edition = \"2023\";\npackage shop.v1;\nmessage C { int32 x = 1; }\n",
            ),
            (
                "shop/v1/d.proto",
                "edition = \"2023\";\npackage shop.v1;\nmessage D { int32 x = 1; }\n",
            ),
        ],
    );
    let new = Version::from_files(
        "head",
        [
            (
                "shop/v1/a.proto",
                "edition = \"2023\";\npackage shop.v1;\nmessage A {\n  required int32 x = 1;\n}\n",
            ),
            (
                "shop/v1/b.proto",
                "edition = \"2099\";\npackage shop.v1;\nmessage B { int32 x = 1; }\n",
            ),
            (
                "shop/v1/c.proto",
                "edition = \"2023\";\npackage shop.v1;\nmessage C {\n  optional int32 x = 1;\n}\n",
            ),
            // Still compared: the removed field is reported.
            (
                "shop/v1/d.proto",
                "edition = \"2023\";\npackage shop.v1;\nmessage D { int32 y = 2; }\n",
            ),
        ],
    );
    let pairs: Vec<Pair> = ["a", "b", "c", "d"]
        .iter()
        .map(|n| Pair::same(format!("shop/v1/{n}.proto")))
        .collect();
    let comparison = proto::compare(&pairs, &old, &new, J);
    let errors: Vec<String> = comparison.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[0].starts_with("shop/v1/a.proto:4:3: `required` is not allowed in editions"),
        "{errors:#?}"
    );
    assert_eq!(
        errors[1],
        "shop/v1/b.proto:1:11: edition \"2099\" is not supported: gonogo reads editions 2023 and 2024"
    );
    assert!(
        errors[2].starts_with("shop/v1/c.proto:4:3: `optional` is not allowed in editions"),
        "{errors:#?}"
    );
    let removed: Vec<String> = comparison
        .findings
        .iter()
        .filter(|f| f.rule == "compat/proto-field-removed")
        .map(|f| f.location.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(removed, ["shop/v1/d.proto:3:1"]);
}

/// An editions file compares with its proto2 original by behaviour: a migration that keeps
/// every proto2 behaviour explicitly is quiet, the defaults of edition 2023 are not.
#[test]
fn proto2_to_editions_migration_is_compared_by_behaviour() {
    let proto2 = "syntax = \"proto2\";\npackage shop.v1;\n\nenum Status {\n  STATUS_UNKNOWN = 0;\n  STATUS_PAID = 1;\n}\n\nmessage Order {\n  required string id = 1;\n  optional Status status = 2 [default = STATUS_PAID];\n  repeated int32 quantities = 3;\n  optional group Extra = 4 {\n    optional bytes blob = 1 [default = \"\\001a\"];\n  }\n}\n";
    let faithful = "edition = \"2023\";\npackage shop.v1;\n\noption features.utf8_validation = NONE;\noption features.enum_type = CLOSED;\noption features.repeated_field_encoding = EXPANDED;\noption features.json_format = LEGACY_BEST_EFFORT;\n\nenum Status {\n  STATUS_UNKNOWN = 0;\n  STATUS_PAID = 1;\n}\n\nmessage Order {\n  string id = 1 [features.field_presence = LEGACY_REQUIRED];\n  Status status = 2 [default = STATUS_PAID];\n  repeated int32 quantities = 3;\n  message Extra {\n    bytes blob = 1 [default = \"\\001a\"];\n  }\n  Extra extra = 4 [features.message_encoding = DELIMITED];\n}\n";
    let naive = "edition = \"2023\";\npackage shop.v1;\n\nenum Status {\n  STATUS_UNKNOWN = 0;\n  STATUS_PAID = 1;\n}\n\nmessage Order {\n  string id = 1;\n  Status status = 2;\n  repeated int32 quantities = 3;\n  message Extra {\n    bytes blob = 1;\n  }\n  Extra extra = 4;\n}\n";
    let pair = [Pair::same("shop/v1/orders.proto")];
    let old = Version::from_files("base", [("shop/v1/orders.proto", proto2)]);
    let quiet = proto::compare(
        &pair,
        &old,
        &Version::from_files("head", [("shop/v1/orders.proto", faithful)]),
        J,
    );
    assert_clean(&quiet);
    assert!(quiet.findings.is_empty(), "{}", render(&quiet));
    let loud = proto::compare(
        &pair,
        &old,
        &Version::from_files("head", [("shop/v1/orders.proto", naive)]),
        J,
    );
    assert_clean(&loud);
    let mut rules: Vec<&str> = loud.findings.iter().map(|f| f.rule.as_str()).collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            "compat/proto-field-default-changed",
            "compat/proto-field-default-changed",
            "compat/proto-field-type-changed",
            "compat/proto-required-field-changed",
            "compat/proto-utf8-validation-changed",
        ],
        "{}",
        render(&loud)
    );
}
