//! The Avro comparer of `compat`: its fixture pairs (each in its rule's folder under
//! tests/fixtures/compat/, which rule_fixtures.rs checks and snapshots) raise exactly their
//! rules in both directions of schema resolution, and the real-world pairs of ../shared/corpus/pairs/avro
//! with their documented changes asserted and their findings in a snapshot.

use crate::common;

use common::compat::{blocking, render};
use gonogo::checks::compat::avro;
use gonogo::checks::compat::model::{Comparison, Pair, Version};
use gonogo::report::Severity;
use std::path::{Path, PathBuf};

/// Where a fixture named here (and in the snapshot) lives in the one layout: `<rule>-fail` is
/// `compat/avro-<rule>/fail`, the others are named one by one.
fn fixture_path(name: &str) -> PathBuf {
    let relative = match name {
        "nested-paths" => "avro-type-changed/fail-nested-paths".to_string(),
        "recursive" => "quiet/avro-recursive".to_string(),
        "top-level-union" => "avro-union-branch-missing/fail-top-level-union".to_string(),
        "unknown-type-info" => "avro-unknown-type/fail".to_string(),
        "broken-file" => "broken/avro".to_string(),
        _ => {
            let (rule, case) = name.rsplit_once('-').expect("<rule>-fail or <rule>-pass");
            format!("avro-{rule}/{case}")
        }
    };
    common::fixtures::path(&format!("compat/{relative}"))
}

/// The real-world Avro pairs, or `None` (said on stderr) where the corpus is absent.
fn corpus() -> Option<PathBuf> {
    crate::common::corpus::dir("pairs/avro")
}

fn compare_dir(dir: &Path, path: &str) -> Comparison {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let old = Version::from_files("v1", [(path, read("old.avsc"))]);
    let new = Version::from_files("working tree", [(path, read("new.avsc"))]);
    avro::compare(&[Pair::same(path)], &old, &new)
}

fn fixture(name: &str) -> Comparison {
    compare_dir(&fixture_path(name), "schemas/order.avsc")
}

fn info(comparison: &Comparison) -> Vec<&str> {
    let mut r: Vec<&str> = comparison
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Info)
        .map(|f| f.rule.as_str())
        .collect();
    r.sort();
    r
}

const NEW_READS_OLD: &str = "updated consumers cannot read events already in the topic";
const OLD_READS_NEW: &str = "old consumers cannot read events the new version publishes";

/// (fixture, blocking rules (sorted), info rules (sorted)).
const CASES: &[(&str, &[&str], &[&str])] = &[
    (
        "field-added-without-default-fail",
        &["compat/avro-field-added-without-default"],
        &[],
    ),
    ("field-added-without-default-pass", &[], &[]),
    (
        "field-removed-without-default-fail",
        &["compat/avro-field-removed-without-default"],
        &[],
    ),
    ("field-removed-without-default-pass", &[], &[]),
    (
        "type-changed-fail",
        &["compat/avro-type-changed", "compat/avro-type-changed"],
        &[],
    ),
    ("type-changed-pass", &[], &[]),
    (
        "enum-symbol-missing-fail",
        &[
            "compat/avro-enum-symbol-missing",
            "compat/avro-enum-symbol-missing",
        ],
        &[],
    ),
    (
        "enum-symbol-missing-pass",
        &[],
        &["compat/avro-enum-symbol-defaulted"],
    ),
    (
        "union-branch-missing-fail",
        &["compat/avro-union-branch-missing"],
        &[],
    ),
    ("union-branch-missing-pass", &[], &[]),
    ("name-changed-fail", &["compat/avro-name-changed"], &[]),
    // The nested record moves to another namespace: not a rename for schema resolution, but
    // a new full name for Java specific records.
    ("name-changed-pass", &["compat/avro-namespace-changed"], &[]),
    (
        "fixed-size-changed-fail",
        &["compat/avro-fixed-size-changed"],
        &[],
    ),
    ("fixed-size-changed-pass", &[], &[]),
    (
        "decimal-changed-fail",
        &["compat/avro-decimal-changed"],
        &[],
    ),
    ("decimal-changed-pass", &[], &[]),
    (
        "nested-paths",
        &[
            "compat/avro-field-added-without-default",
            "compat/avro-type-changed",
            "compat/avro-type-changed",
        ],
        &[],
    ),
    ("recursive", &[], &[]),
    ("unknown-type-info", &[], &["compat/avro-unknown-type"]),
    (
        "top-level-union",
        &["compat/avro-union-branch-missing"],
        &[],
    ),
];

#[test]
fn every_fixture_pair_raises_exactly_its_rules() {
    let mut failures = Vec::new();
    for (name, blocking_expected, info_expected) in CASES {
        let comparison = fixture(name);
        assert!(
            comparison.errors.is_empty(),
            "{name}: {}",
            render(&comparison)
        );
        if blocking(&comparison) != *blocking_expected || info(&comparison) != *info_expected {
            failures.push(format!("{name}:\n{}", render(&comparison)));
        }
        for finding in &comparison.findings {
            let at = finding.location.as_ref().expect("a location");
            assert_eq!(at.path, "schemas/order.avsc");
            assert!(at.line.is_some(), "{name}: {at}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn each_finding_names_the_side_that_breaks_and_its_path() {
    let added = fixture("field-added-without-default-fail");
    let f = &added.findings[0];
    assert!(f.message.contains("`Order.time`") && f.message.contains(NEW_READS_OLD));
    assert!(!f.message.contains(OLD_READS_NEW));
    assert_eq!(
        f.location.as_ref().unwrap().line,
        Some(10),
        "{}",
        render(&added)
    );

    let removed = fixture("field-removed-without-default-fail");
    let f = &removed.findings[0];
    assert!(f.message.contains("`Order.coupon`") && f.message.contains(OLD_READS_NEW));
    assert!(!f.message.contains(NEW_READS_OLD));

    // long → int breaks new readers; int → long breaks old readers.
    let types = render(&fixture("type-changed-fail"));
    assert!(
        types.contains("`Order.price`: long cannot be read as int: updated consumers"),
        "{types}"
    );
    assert!(
        types.contains("`Order.qty`: long cannot be read as int: old consumers"),
        "{types}"
    );

    // A removed symbol breaks new readers, an added one old readers.
    let symbols = render(&fixture("enum-symbol-missing-fail"));
    assert!(symbols.contains("symbol `VOID` of enum `shop.Status` is unknown to the reader, which has no default: updated consumers"), "{symbols}");
    assert!(symbols.contains("symbol `REFUNDED` of enum `shop.Status` is unknown to the reader, which has no default: old consumers"), "{symbols}");

    let nested = render(&fixture("nested-paths"));
    assert!(nested.contains("`Order.items[].price`"), "{nested}");
    assert!(nested.contains("`Order.tags{}`"), "{nested}");
    assert!(
        nested.contains("field `Order.items[].sku` added without a default"),
        "{nested}"
    );

    // Decimal and fixed changes break both directions.
    for name in ["decimal-changed-fail", "fixed-size-changed-fail"] {
        let c = fixture(name);
        assert!(
            c.findings[0].message.contains(NEW_READS_OLD)
                && c.findings[0].message.contains(OLD_READS_NEW),
            "{name}"
        );
    }
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let Some(corpus) = corpus() else {
        return;
    };
    let c = compare_dir(
        &corpus.join("avro-interop-add-logical-time-fields"),
        "interop.avsc",
    );
    assert_eq!(
        blocking(&c),
        vec!["compat/avro-field-added-without-default"; 6],
        "{}",
        render(&c)
    );
}

#[test]
fn broken_files_are_errors_with_positions() {
    let c = fixture("broken-file");
    assert_eq!(c.errors.len(), 1, "{}", render(&c));
    assert_eq!(
        c.errors[0].to_string(),
        "schemas/order.avsc:5:5: field `id` without a \"type\""
    );
    for text in [
        "",
        "[",
        "{\"type\": 3}",
        "{\"type\": \"fixed\", \"name\": \"F\"}",
        "[[[[[[[[[[[[[]]]]]]]]]]]]]",
        "\"Missing\"",
    ] {
        let old = Version::from_files("v1", [("a.avsc", text)]);
        let new = Version::from_files("wt", [("a.avsc", "\"string\"")]);
        let _ = avro::compare(&[Pair::same("a.avsc")], &old, &new);
        let _ = avro::compare(&[Pair::same("a.avsc")], &new, &old);
    }
    let deep = format!("{}\"int\"{}", "[".repeat(500), "]".repeat(500));
    let v = Version::from_files("v1", [("a.avsc", deep)]);
    assert!(
        !avro::compare(&[Pair::same("a.avsc")], &v, &v)
            .errors
            .is_empty()
    );
}

#[test]
fn real_world_pairs_match_their_documented_changes() {
    let Some(corpus) = corpus() else {
        return;
    };
    let run = |name: &str| {
        let c = compare_dir(&corpus.join(name), &format!("{name}.avsc"));
        assert!(c.errors.is_empty(), "{name}: {}", render(&c));
        c
    };
    let c = run("avro-user-add-time");
    assert_eq!(blocking(&c), ["compat/avro-field-added-without-default"]);
    assert!(
        c.findings
            .iter()
            .any(|f| f.message.contains("`SchemaUser.time`") && f.message.contains(NEW_READS_OLD))
    );
    // test.PrivacyImport and test.PrivacyDirectImport live in other files.
    assert!(info(&c).contains(&"compat/avro-unknown-type"));

    let c = run("avro-custom-conversion-add-fields");
    assert_eq!(
        blocking(&c),
        ["compat/avro-field-added-without-default"],
        "{}",
        render(&c)
    );
    assert!(render(&c).contains("nonNullFixedSizeString"));
    assert!(!render(&c).contains("`CustomConversionWithLogicalTypes.nullableFixedSizeString`"));

    let c = run("avro-optional-getters-add-nullable-array");
    assert_eq!(blocking(&c), ["compat/avro-field-added-without-default"]);
    assert!(render(&c).contains("nullable_array"));

    assert!(blocking(&run("avro-player-doc-only")).is_empty());
    // classField had `"default": null`: the old schema fills it in when reading new data.
    assert!(blocking(&run("avro-interop-remove-classfield")).is_empty());
    assert_eq!(
        blocking(&run("avro-interop-add-logical-time-fields")).len(),
        6
    );
}

#[test]
fn fixture_and_real_world_findings_snapshot() {
    let Some(corpus) = corpus() else {
        return;
    };
    let mut out = String::new();
    for (name, _, _) in CASES {
        out.push_str(&format!("== fixture {name}\n{}", render(&fixture(name))));
    }
    let mut names: Vec<String> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    for name in names {
        let c = compare_dir(&corpus.join(&name), &format!("{name}.avsc"));
        out.push_str(&format!("== corpus {name}\n{}", render(&c)));
    }
    insta::assert_snapshot!("avro_findings", out);
}
