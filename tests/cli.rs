//! The command line end to end: exit codes 0/1/2, --strict, --only/--skip, waivers (config and
//! inline, expired and unused), explain, list, init, completions, --version, --help.

use crate::common;
use common::*;

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr))
}

fn by_id<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report}"))
}

fn ids(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// pass, warn and fail plugins side by side.
fn mixed_project() -> tempfile::TempDir {
    project(&[
        (
            "gonogo.yaml",
            "checks:\n  plugins:\n    - {name: green, run: [\"checks/green.sh\"]}\n    - {name: amber, run: [\"checks/amber.sh\"]}\n    - {name: red, run: [\"checks/red.sh\"]}\n",
        ),
        ("checks/green.sh", "#!/bin/sh\necho 'OK - fine'\n"),
        (
            "checks/amber.sh",
            "#!/bin/sh\necho 'WARNING - soon'\nexit 1\n",
        ),
        (
            "checks/red.sh",
            "#!/bin/sh\necho 'CRITICAL - broken'\nexit 2\n",
        ),
    ])
}

#[test]
fn exit_codes_follow_the_verdict() {
    let dir = mixed_project();
    let all = run(gonogo().arg("check").arg(dir.path()));
    assert_eq!(all.code, 1, "a fail is a no-go");
    assert!(all.stdout.contains("NO-GO"));
    let no_red = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--skip", "plugin/red"]));
    assert_eq!(no_red.code, 0, "warnings alone are a go");
    assert!(no_red.stdout.contains("GO (with warnings)"));
    let strict =
        run(gonogo()
            .arg("check")
            .arg(dir.path())
            .args(["--skip", "plugin/red", "--strict"]));
    assert_eq!(strict.code, 1, "--strict: warnings block");
    let green =
        run(gonogo()
            .arg("check")
            .arg(dir.path())
            .args(["--only", "plugin/green", "--strict"]));
    assert_eq!(green.code, 0);
    let bad = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--only", "plugin/gren"]));
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("did you mean `plugin/green`?"),
        "{}",
        bad.stderr
    );
}

#[test]
fn only_and_skip_select_checks_in_a_stable_order() {
    let dir = mixed_project();
    let only = json(&run(gonogo().arg("check").arg(dir.path()).args([
        "--format",
        "json",
        "--only",
        "plugin/red,plugin/green",
    ])));
    assert_eq!(
        ids(&only),
        ["plugin/green", "plugin/red"],
        "config order, not argument order"
    );
    let skip = json(&run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json", "--skip", "plugin"])));
    assert_eq!(
        ids(&skip),
        [
            "migrations",
            "compat",
            "readiness",
            "dns",
            "grace",
            "rollout",
            "rollback"
        ],
        "built-in checks still run (and skip when not applicable)"
    );
    assert_eq!(by_id(&skip, "migrations")["status"], "skip");
    assert_eq!(by_id(&skip, "compat")["status"], "skip");
    assert_eq!(by_id(&skip, "dns")["status"], "skip");
    assert_eq!(by_id(&skip, "readiness")["status"], "skip");
    assert_eq!(by_id(&skip, "grace")["status"], "skip");
    assert_eq!(by_id(&skip, "rollout")["status"], "skip");
    assert_eq!(by_id(&skip, "rollback")["status"], "skip");
    let all = json(&run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"])));
    assert_eq!(
        ids(&all),
        [
            "migrations",
            "compat",
            "readiness",
            "dns",
            "grace",
            "rollout",
            "rollback",
            "plugin/green",
            "plugin/amber",
            "plugin/red"
        ]
    );
    assert_eq!(all["verdict"], "no-go");
}

#[test]
fn two_runs_give_the_same_report_except_timings() {
    let dir = mixed_project();
    let first = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"]));
    let second = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"]));
    assert_eq!(mask(&first.stdout, None), mask(&second.stdout, None));
}

/// A plugin that reports a finding in a SQL file, so inline SQL waivers can be exercised.
fn sql_finding_project(waiver_comment: &str, config_waivers: &str) -> tempfile::TempDir {
    let finding = r#"{"status":"fail","summary":"index without CONCURRENTLY","findings":[{"rule":"index","severity":"fail","message":"CREATE INDEX blocks writes","location":{"path":"db/0001.sql","line":3,"column":1}}]}"#;
    project(&[
        (
            "gonogo.yaml",
            &format!(
                "checks:\n  plugins:\n    - {{name: sql, run: [\"checks/sql.sh\"]}}\n{config_waivers}"
            ),
        ),
        ("checks/sql.sh", &format!("#!/bin/sh\necho '{finding}'\n")),
        (
            "db/0001.sql",
            &format!("CREATE TABLE t (id int);\n{waiver_comment}\nCREATE INDEX t_id ON t (id);\n"),
        ),
    ])
}

#[test]
fn inline_sql_waiver_waives_and_stays_visible() {
    let dir = sql_finding_project(
        "-- gonogo:ignore plugin/sql/index the table has 40 rows",
        "",
    );
    let run = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"]));
    assert_eq!(run.code, 0, "{}", run.stdout);
    let report = json(&run);
    let finding = &by_id(&report, "plugin/sql")["findings"][0];
    assert_eq!(
        finding["waived"],
        serde_json::json!({"reason": "the table has 40 rows", "source": "inline"})
    );
    assert_eq!(by_id(&report, "plugin/sql")["status"], "pass");
}

#[test]
fn inline_waiver_without_reason_does_not_waive() {
    let dir = sql_finding_project("-- gonogo:ignore plugin/sql/index", "");
    let run = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"]));
    assert_eq!(run.code, 1);
    let report = json(&run);
    let waivers = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "waivers")
        .unwrap();
    assert_eq!(waivers["findings"][0]["rule"], "waivers/missing-reason");
    assert_eq!(
        waivers["findings"][0]["location"],
        serde_json::json!({"path": "db/0001.sql", "line": 2, "column": 4})
    );
}

#[test]
fn config_waiver_with_path_glob_waives() {
    let dir = sql_finding_project(
        "-- create the index",
        "waivers:\n  - {rule: plugin/sql/index, path: \"db/*.sql\", reason: \"off-peak deploy\", expires: 2027-01-31}\n",
    );
    let run = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"]));
    assert_eq!(run.code, 0, "{}", run.stdout);
    let report = json(&run);
    assert_eq!(
        by_id(&report, "plugin/sql")["findings"][0]["waived"]["source"],
        "config"
    );
    assert_eq!(
        by_id(&report, "plugin/sql")["findings"][0]["waived"]["expires"],
        "2027-01-31"
    );
}

#[test]
fn expired_waiver_no_longer_waives_and_warns() {
    let dir = sql_finding_project(
        "-- create the index",
        "waivers:\n  - {rule: plugin/sql/index, reason: \"off-peak deploy\", expires: 2026-11-01}\n",
    );
    let run = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"]));
    assert_eq!(run.code, 1, "the finding counts again");
    let report = json(&run);
    assert!(
        by_id(&report, "plugin/sql")["findings"][0]
            .get("waived")
            .is_none()
    );
    let waivers = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "waivers")
        .unwrap();
    assert_eq!(waivers["status"], "warn");
    let finding = &waivers["findings"][0];
    assert_eq!(finding["rule"], "waivers/expired");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("expired on 2026-11-01")
    );
    assert_eq!(
        finding["location"],
        serde_json::json!({"path": "gonogo.yaml", "line": 5, "column": 12})
    );
}

#[test]
fn unused_waiver_is_reported_as_info() {
    let dir = mixed_project();
    let mut config = std::fs::read_to_string(dir.path().join("gonogo.yaml")).unwrap();
    config.push_str("waivers:\n  - {rule: plugin/green/status, reason: \"flaky\"}\n  - {rule: migrations/x, reason: \"not run\"}\n");
    std::fs::write(dir.path().join("gonogo.yaml"), config).unwrap();
    let report = json(&run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"])));
    let waivers = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "waivers")
        .unwrap();
    let findings = waivers["findings"].as_array().unwrap();
    assert_eq!(
        findings.len(),
        1,
        "a waiver for a check that did not run is not 'unused': {findings:?}"
    );
    assert_eq!(findings[0]["rule"], "waivers/unused");
    assert_eq!(findings[0]["severity"], "info");
    assert_eq!(waivers["status"], "pass");
}

#[test]
fn secrets_never_reach_any_output() {
    let dir = project(&[
        (
            "gonogo.yaml",
            "checks:\n  plugins:\n    - {name: leak, run: [\"checks/leak.sh\"], dsn: \"env:GONOGO_TEST_DSN\", api_token: \"env:GONOGO_TEST_TOKEN\"}\n",
        ),
        (
            "checks/leak.sh",
            "#!/bin/sh\necho \"CRITICAL - cannot connect to $GONOGO_TEST_DSN_RAW (token=abc123) Authorization: Bearer xyz.abc key $GONOGO_TEST_TOKEN\"\nexit 2\n",
        ),
    ]);
    for format in ["table", "json", "markdown", "github", "junit", "sarif"] {
        let run = run(gonogo()
            .arg("check")
            .arg(dir.path())
            .args(["--format", format])
            .env("GONOGO_TEST_DSN", "postgres://app:hunter2secret@db/shop")
            .env(
                "GONOGO_TEST_DSN_RAW",
                "postgres://app:hunter2secret@db/shop",
            )
            .env("GONOGO_TEST_TOKEN", "tok-9f8e7d6c5b"));
        assert_eq!(run.code, 1);
        for secret in ["hunter2secret", "abc123", "xyz.abc", "tok-9f8e7d6c5b"] {
            assert!(
                !run.stdout.contains(secret),
                "{format} leaks {secret}: {}",
                run.stdout
            );
        }
        assert!(
            run.stdout.contains("cannot connect to ***"),
            "{format}: {}",
            run.stdout
        );
    }
}

#[test]
fn explain_prints_rule_docs_and_rejects_unknown_ids() {
    let run = run(gonogo().args(["explain", "waivers/expired"]));
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("## What it catches"));
    assert!(run.stdout.contains("## Do this instead"));
    assert!(run.stdout.contains("Default severity: warn"));
    let unknown = run_cmd(&["explain", "waivers/expird"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("did you mean `waivers/expired`?"),
        "{}",
        unknown.stderr
    );
}

fn run_cmd(args: &[&str]) -> Run {
    run(gonogo().args(args))
}

#[test]
fn explain_a_plugin_from_the_config() {
    let run = run(gonogo()
        .arg("explain")
        .arg("plugin/feature-flags")
        .arg("--dir")
        .arg(shop()));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("../../checks/feature-flags.sh"));
}

#[test]
fn list_shows_rules_and_what_the_config_enables() {
    let run = run(gonogo().arg("list").arg(shop()));
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("plugin/feature-flags"));
    assert!(run.stdout.contains("waivers/expired"));
    let json = run_json_list();
    assert!(
        json.iter()
            .any(|row| row["id"] == "waivers/unused" && row["default_severity"] == "info")
    );
}

fn run_json_list() -> Vec<serde_json::Value> {
    let run = run(gonogo().arg("list").arg(shop()).args(["--format", "json"]));
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn init_writes_a_config_that_loads_and_refuses_to_overwrite() {
    let dir = project(&[
        ("db/migrations/0001_init.sql", "CREATE TABLE a (id int);\n"),
        (
            "k8s/app.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n",
        ),
        (
            "api/openapi.yaml",
            "openapi: 3.0.3\ninfo: {title: a, version: '1'}\npaths: {}\n",
        ),
    ]);
    let first = run(gonogo().arg("init").arg(dir.path()));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let written = std::fs::read_to_string(dir.path().join("gonogo.yaml")).unwrap();
    assert!(
        written.contains("paths: [\"db/migrations/*.sql\"]"),
        "{written}"
    );
    assert!(written.contains("manifests: [\"k8s/*.yaml\"]"), "{written}");
    assert!(
        written.contains("openapi: [\"api/openapi.yaml\"]"),
        "{written}"
    );
    let check = run(gonogo().arg("check").arg(dir.path()));
    assert_ne!(check.code, 2, "the written config loads: {}", check.stderr);
    let again = run(gonogo().arg("init").arg(dir.path()));
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("--force"));
}

#[test]
fn completions_version_and_help() {
    let bash = run_cmd(&["completions", "bash"]);
    assert_eq!(bash.code, 0);
    assert!(bash.stdout.contains("gonogo"));
    let version = run_cmd(&["--version"]);
    assert_eq!(version.code, 0);
    assert_eq!(
        version.stdout.trim(),
        format!("gonogo {}", env!("CARGO_PKG_VERSION"))
    );
    let help = run_cmd(&["check", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Examples:"));
    assert!(help.stdout.contains("--output sarif=gonogo.sarif"));
}

#[test]
fn base_defaults_to_the_newest_tag_and_a_bad_base_is_a_usage_error() {
    let dir = mixed_project();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "first"]);
    git(dir.path(), &["tag", "v1.0.0"]);
    git(
        dir.path(),
        &["commit", "-q", "--allow-empty", "-m", "second"],
    );
    let report = json(&run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"])));
    assert_eq!(report["base"], "v1.0.0");
    assert_eq!(report["head"].as_str().map(str::len), Some(7));
    let from_env = json(&run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"])
        .env("GONOGO_BASE", "HEAD~1")));
    assert_eq!(from_env["base"], "HEAD~1");
    let bad = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--base", "v9.9.9"]));
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("base `v9.9.9` is not a commit"),
        "{}",
        bad.stderr
    );
}
