//! A fixture pair per rule: `tests/fixtures/compat/<format>/<rule name>/fail*/` must raise the
//! rule (and every line of its `expect.txt` must appear in one of its messages: the direction
//! that breaks is part of the rule), `pass*/` must not; every pair under `quiet/` (compatible
//! changes) must raise nothing at warn or fail.

use crate::common;

use common::fixtures::describe;
use gonogo::checks::Rule;
use gonogo::checks::compat::model::{Comparison, Pair, Version};
use gonogo::checks::compat::{jsonschema, openapi, schema_diff};
use gonogo::report::{Finding, Severity};
use std::path::{Path, PathBuf};

type Compare = fn(&[Pair], &Version, &Version) -> Comparison;

fn fixtures(format: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compat")
        .join(format)
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// Compare `old.<ext>` and `new.<ext>` of a case folder as one file `spec.<ext>`.
fn analyze(case: &Path, ext: &str, compare: Compare) -> Vec<Finding> {
    let read = |side: &str| {
        std::fs::read_to_string(case.join(format!("{side}.{ext}")))
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()))
    };
    let path = format!("spec.{ext}");
    let old = Version::from_files("v1", [(path.clone(), read("old"))]);
    let new = Version::from_files("working tree", [(path.clone(), read("new"))]);
    let out = compare(&[Pair::same(path)], &old, &new);
    assert!(
        out.errors.is_empty(),
        "{}: {:?}",
        case.display(),
        out.errors
    );
    out.findings
}

fn check_rules(format: &str, ext: &str, rules: &[&Rule], compare: Compare) {
    let mut problems = Vec::new();
    for rule in rules {
        let name = rule.id.strip_prefix("compat/").unwrap();
        let folder = fixtures(format).join(name);
        if !folder.is_dir() {
            problems.push(format!(
                "{}: no fixture folder {}",
                rule.id,
                folder.display()
            ));
            continue;
        }
        let (mut fails, mut passes) = (0, 0);
        for case in subdirs(&folder) {
            let case_name = case.file_name().unwrap().to_string_lossy().to_string();
            let findings = analyze(&case, ext, compare);
            let hits: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule.id).collect();
            if case_name.starts_with("fail") {
                fails += 1;
                if hits.is_empty() {
                    problems.push(format!(
                        "{}: {} raised nothing of it:\n{}",
                        rule.id,
                        case.display(),
                        describe(&findings)
                    ));
                }
                if let Ok(expect) = std::fs::read_to_string(case.join("expect.txt")) {
                    for line in expect.lines().filter(|l| !l.is_empty()) {
                        if !hits.iter().any(|f| f.message.contains(line)) {
                            problems.push(format!(
                                "{}: {} has no message with `{line}`:\n{}",
                                rule.id,
                                case.display(),
                                describe(&findings)
                            ));
                        }
                    }
                }
                for hit in &hits {
                    assert_eq!(hit.severity, rule.default_severity, "{}", case.display());
                    let at = hit.location.as_ref().expect("findings have a location");
                    assert!(at.line.is_some_and(|l| l > 1), "{}: {at}", case.display());
                }
            } else if case_name.starts_with("pass") {
                passes += 1;
                if !hits.is_empty() {
                    problems.push(format!(
                        "{}: {} should be quiet for it:\n{}",
                        rule.id,
                        case.display(),
                        describe(&findings)
                    ));
                }
            }
        }
        if fails == 0 || passes == 0 {
            problems.push(format!(
                "{}: needs fail* and pass* cases (has {fails} and {passes})",
                rule.id
            ));
        }
    }
    let quiet = fixtures(format).join("quiet");
    let cases = subdirs(&quiet);
    assert!(cases.len() >= 3, "quiet cases in {}", quiet.display());
    for case in cases {
        let loud: Vec<Finding> = analyze(&case, ext, compare)
            .into_iter()
            .filter(|f| f.severity != Severity::Info)
            .collect();
        if !loud.is_empty() {
            problems.push(format!(
                "{} must be quiet:\n{}",
                case.display(),
                describe(&loud)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn openapi_rules_have_fixtures_that_behave() {
    let rules: Vec<&Rule> = openapi::RULES
        .iter()
        .chain(schema_diff::RULES)
        .copied()
        .collect();
    check_rules("openapi", "yaml", &rules, openapi::compare);
}

#[test]
fn jsonschema_rules_have_fixtures_that_behave() {
    // A JSON Schema has no requests: `request-widened` cannot happen there.
    let rules: Vec<&Rule> = schema_diff::RULES
        .iter()
        .copied()
        .filter(|r| r.id != schema_diff::REQUEST_WIDENED.id)
        .collect();
    check_rules("jsonschema", "json", &rules, jsonschema::compare);
}

#[test]
fn locations_point_into_json_as_into_yaml() {
    let case = fixtures("jsonschema").join("enum-value-removed/fail");
    let findings = analyze(&case, "json", jsonschema::compare);
    let removed = findings
        .iter()
        .find(|f| f.rule == "compat/enum-value-removed")
        .unwrap();
    // The removed value `paid`, in the old file.
    assert_eq!(
        removed.location.as_ref().unwrap().to_string(),
        "spec.json:16:9"
    );
    let case = fixtures("openapi").join("constraint-tightened/fail");
    let findings = analyze(&case, "yaml", openapi::compare);
    let tightened = findings
        .iter()
        .find(|f| f.rule == "compat/constraint-tightened")
        .unwrap();
    assert_eq!(
        tightened.location.as_ref().unwrap().to_string(),
        "spec.yaml:43:29"
    );
}
