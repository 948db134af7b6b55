//! Every output format on the bundled example: snapshots (timings masked), schema validation of
//! JSON and SARIF, JUnit parsed as XML, several --output files in one run, no escape codes when
//! stdout is not a terminal.

use crate::common;
use common::*;

/// Run the example once, writing JSON alongside, so masks know this run's head commit.
fn example_in(format: &str) -> (Run, Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("report.json");
    let run = run(gonogo()
        .arg("check")
        .arg(shop())
        .args(["--format", format])
        .arg("--output")
        .arg(format!("json={}", json_path.display())));
    let json = std::fs::read_to_string(&json_path).unwrap();
    (run, head_of(&json))
}

#[test]
fn table_is_plain_text_when_not_a_terminal() {
    let (run, head) = example_in("table");
    assert_eq!(
        run.code, 1,
        "the example has blocking migrations: {}",
        run.stderr
    );
    assert!(
        !run.stdout.contains('\u{1b}'),
        "escape codes in piped output"
    );
    insta::assert_snapshot!("table", squash_table(&mask(&run.stdout, head.as_deref())));
}

#[test]
fn color_always_colours_and_no_color_wins_over_auto() {
    let coloured = run(gonogo()
        .arg("check")
        .arg(shop())
        .args(["--color", "always"]));
    assert!(
        coloured.stdout.contains('\u{1b}'),
        "--color always should colour"
    );
    let no_color = run(gonogo().arg("check").arg(shop()).env("NO_COLOR", "1"));
    assert!(!no_color.stdout.contains('\u{1b}'));
    let never = run(gonogo().arg("check").arg(shop()).args(["--color", "never"]));
    assert!(!never.stdout.contains('\u{1b}'));
}

#[test]
fn json_matches_the_published_schema() {
    let (run, head) = example_in("json");
    assert_eq!(run.code, 1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("docs/report.schema.json is a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match its schema: {errors:#?}"
    );
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["verdict"], "no-go");
    insta::assert_snapshot!("json", mask(&run.stdout, head.as_deref()));
}

#[test]
fn json_schema_rejects_drift() {
    // The schema must be able to fail: an unknown field and a bad verdict are rejected.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let (run, _) = example_in("json");
    let mut report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    report["verdict"] = "maybe".into();
    assert!(!validator.is_valid(&report));
    report["verdict"] = "go".into();
    assert!(validator.is_valid(&report));
    report["surprise"] = 1.into();
    assert!(!validator.is_valid(&report));
}

#[test]
fn markdown_is_short_and_folds_details() {
    let (run, head) = example_in("markdown");
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("<details>"));
    insta::assert_snapshot!("markdown", mask(&run.stdout, head.as_deref()));
}

#[test]
fn github_annotations_carry_file_and_line() {
    let (run, head) = example_in("github");
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("::warning file=examples/shop/src/shop/payments.py,line=27,col=14,title=plugin/feature-flags/undefined-flag::"),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!("github", mask(&run.stdout, head.as_deref()));
}

#[test]
fn junit_parses_with_the_expected_counts() {
    let (run, head) = example_in("junit");
    assert_eq!(run.code, 1);
    let document = roxmltree::Document::parse(&run.stdout).expect("JUnit output is XML");
    let suites = document
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .count();
    assert_eq!(suites, 9, "a testsuite per check");
    let cases = document
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    // migrations, readiness, grace, rollout, rollback: a case per rule in the registry; feature-flags: the
    // two rules it reported; deploy-freeze: one case; compat (error: no deployed version) and dns
    // (skipped: not configured): one case each.
    let rollout_rules = gonogo::checks::find_check("rollout").unwrap().rules().len();
    let readiness_rules = gonogo::checks::find_check("readiness")
        .unwrap()
        .rules()
        .len();
    let grace_rules = gonogo::checks::find_check("grace").unwrap().rules().len();
    let rollback_rules = gonogo::checks::find_check("rollback")
        .unwrap()
        .rules()
        .len();
    assert_eq!(
        cases,
        gonogo::checks::migrations::RULES.len()
            + readiness_rules
            + grace_rules
            + rollout_rules
            + rollback_rules
            + 3
            + 2
    );
    let mut failed: Vec<&str> = document
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .filter_map(|n| n.parent().and_then(|p| p.attribute("name")))
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        [
            "grace/grace-period-too-short",
            "migrations/add-column-not-null-without-default",
            "migrations/pg-add-foreign-key",
            "migrations/pg-add-index-not-concurrent",
            "migrations/pg-alter-column-type",
            "migrations/pg-concurrently-in-transaction",
            "rollback/slow-rollback",
            "rollout/replicas-pinned-with-hpa",
        ],
        "fail findings are failures; warnings and waived findings are not"
    );
    insta::assert_snapshot!("junit", mask(&run.stdout, head.as_deref()));
}

#[test]
fn junit_strict_turns_warnings_into_failures() {
    let normal = run(gonogo()
        .arg("check")
        .arg(shop())
        .args(["--format", "junit"]));
    let strict = run(gonogo()
        .arg("check")
        .arg(shop())
        .args(["--format", "junit", "--strict"]));
    assert_eq!(strict.code, 1);
    let failures = |xml: &str| {
        let document = roxmltree::Document::parse(xml).unwrap();
        document
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count()
    };
    // pg-lock-accumulation, pg-missing-lock-timeout, readiness/liveness-checks-dependencies,
    // grace/prestop-shorter-than-deregistration and undefined-flag are warnings
    // (rollout/missing-pdb is info since issue 17/19: it limits drains, not deploys).
    assert_eq!(failures(&strict.stdout), failures(&normal.stdout) + 5);
}

fn sarif_schema() -> serde_json::Value {
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("tests/schemas/sarif-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let region = &mut schema["definitions"]["region"];
    if let Some(any_of) = region["properties"]
        .as_object_mut()
        .and_then(|p| p.remove("anyOf"))
    {
        region["anyOf"] = any_of;
    }
    schema
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let (run, head) = example_in("sarif");
    assert_eq!(run.code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let validator = jsonschema::validator_for(&sarif_schema()).expect("SARIF schema loads");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // GitHub code scanning needs rule metadata with help and results with locations.
    let run0 = &sarif["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().all(|r| r["help"]["text"].is_string()));
    let results = run0["results"].as_array().unwrap();
    let report = run_json();
    let findings: usize = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["findings"].as_array().unwrap().len())
        .sum();
    assert_eq!(results.len(), findings, "a result per finding");
    assert!(
        results
            .iter()
            .all(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string())
    );
    let waived: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r["suppressions"].is_array())
        .collect();
    assert!(
        waived
            .iter()
            .any(|r| r["suppressions"][0]["kind"] == "external"
                && r["suppressions"][0]["justification"] == "kept for the Q1 pricing experiment")
    );
    assert!(
        waived
            .iter()
            .any(|r| r["suppressions"][0]["kind"] == "inSource"),
        "the inline SQL waiver"
    );
    insta::assert_snapshot!("sarif", mask(&run.stdout, head.as_deref()));
}

fn run_json() -> serde_json::Value {
    let run = run(gonogo().arg("check").arg(shop()).args(["--format", "json"]));
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn sarif_schema_can_fail() {
    let validator = jsonschema::validator_for(&sarif_schema()).unwrap();
    let bad = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": [{"message": {"text": "x"}, "level": "fatal"}]}]});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn several_outputs_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let run = run(gonogo()
        .arg("check")
        .arg(shop())
        .args(["--format", "table"])
        .arg("--output")
        .arg(format!("sarif={}", path("r.sarif").display()))
        .arg("--output")
        .arg(format!("junit={}", path("r.xml").display()))
        .arg("--output")
        .arg(format!("json={}", path("r.json").display()))
        .arg("--output")
        .arg(format!("markdown={}", path("r.md").display())));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("plugin/feature-flags"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("r.json")).unwrap()).unwrap();
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("r.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        json["counts"],
        serde_json::json!({"pass": 1, "warn": 2, "fail": 4, "error": 1, "skip": 1})
    );
    roxmltree::Document::parse(&std::fs::read_to_string(path("r.xml")).unwrap()).unwrap();
    assert!(
        std::fs::read_to_string(path("r.md"))
            .unwrap()
            .contains("gonogo")
    );
}

#[test]
fn output_to_a_missing_directory_is_a_usage_error() {
    let run = run(gonogo()
        .arg("check")
        .arg(shop())
        .args(["--output", "sarif=/nonexistent-dir/r.sarif"]));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing is checked on a usage error");
}

#[test]
fn logs_go_to_stderr_and_stdout_is_pure_json() {
    let dir = project(&[("README.md", "no config here\n")]);
    let run = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"]));
    // Nothing to check here: exit 2, and still a pure JSON report on stdout.
    assert_eq!(run.code, 2);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("stdout is only JSON");
    assert_eq!(report["verdict"], "nothing-checked");
    assert!(run.stderr.contains("no gonogo.yaml"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was checked"), "{}", run.stderr);
}
