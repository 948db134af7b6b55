//! Malformed configs: each exits 2, checks nothing, names file:line:column and what was expected,
//! and never panics.

use crate::common;
use common::*;

/// Run `gonogo check` on a project whose gonogo.yaml is `config`; return the run.
fn check_with_config(config: &[u8]) -> Run {
    let dir = project(&[]);
    std::fs::write(dir.path().join("gonogo.yaml"), config).unwrap();
    run(gonogo().arg("check").arg(dir.path()))
}

fn assert_config_error(config: &[u8], position: &str, expected: &str) {
    let run = check_with_config(config);
    assert_eq!(
        run.code,
        2,
        "exit code for {:?}\nstderr: {}",
        String::from_utf8_lossy(config),
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing is checked: {}", run.stdout);
    assert!(!run.stderr.contains("panic"), "{}", run.stderr);
    let first_line = run.stderr.lines().next().unwrap_or("");
    assert!(
        first_line.starts_with(&format!("error: gonogo.yaml:{position}: ")),
        "position {position} in: {}",
        run.stderr
    );
    assert!(
        first_line.contains(expected),
        "`{expected}` in: {}",
        run.stderr
    );
}

#[test]
fn bad_yaml_syntax() {
    assert_config_error(
        b"checks:\n  migrations:\n    paths: [\"a.sql\"\n",
        "3:12",
        "unclosed bracket",
    );
}

#[test]
fn wrong_type() {
    assert_config_error(
        b"checks:\n  migrations:\n    paths: 3\n",
        "3:12",
        "expected a list",
    );
}

#[test]
fn unknown_key_suggests_the_nearest() {
    assert_config_error(
        b"service: shop\nchecks:\n  migratoins:\n    paths: []\n",
        "3:3",
        "unknown key `migratoins`; did you mean `migrations`?",
    );
}

#[test]
fn unknown_top_level_key() {
    assert_config_error(b"servce: shop\n", "1:1", "did you mean `service`?");
}

#[test]
fn bad_duration() {
    assert_config_error(
        b"deadline: 2 minutes\n",
        "1:11",
        "expected a duration like 120s",
    );
    assert_config_error(b"deadline: 120\n", "1:11", "120s");
}

#[test]
fn bad_date() {
    assert_config_error(
        b"waivers:\n  - rule: migrations/x\n    reason: small table\n    expires: 2026-02-30\n",
        "4:14",
        "that month has 28 days",
    );
}

#[test]
fn missing_env_var_is_named() {
    assert_config_error(
        b"checks:\n  grace:\n    url: env:GONOGO_TEST_UNSET_URL_VAR\n",
        "3:10",
        "`GONOGO_TEST_UNSET_URL_VAR` is not set",
    );
}

#[test]
fn empty_file() {
    assert_config_error(b"", "1:1", "the file is empty");
    assert_config_error(b"# only a comment\n", "1:1", "the file is empty");
}

#[test]
fn directory_instead_of_a_file() {
    let dir = project(&[]);
    std::fs::create_dir(dir.path().join("gonogo.yaml")).unwrap();
    let run = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .arg("--config")
        .arg(dir.path().join("gonogo.yaml")));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(":1:1: is a directory"),
        "{}",
        run.stderr
    );
}

#[test]
fn huge_file() {
    let mut config = b"service: shop\n".to_vec();
    while config.len() < 2 * 1024 * 1024 {
        config.extend_from_slice(b"# padding padding padding padding padding padding padding\n");
    }
    assert_config_error(&config, "1:1", "a gonogo config is at most");
}

#[test]
fn non_utf8_file() {
    assert_config_error(
        b"service: shop\nchecks:\n  x: \xff\xfe\n",
        "3:6",
        "not valid UTF-8",
    );
}

#[test]
fn wrong_enum_value() {
    assert_config_error(
        b"checks:\n  dns:\n    phase: before_cutover\n",
        "3:12",
        "did you mean `before-cutover`?",
    );
}

#[test]
fn duplicate_key() {
    assert_config_error(b"service: a\nservice: b\n", "2:1", "duplicate key");
}

#[test]
fn top_level_list() {
    assert_config_error(b"- service: a\n", "1:1", "expected a mapping");
}

#[test]
fn plugin_without_run() {
    assert_config_error(
        b"checks:\n  plugins:\n    - {name: x, run: []}\n",
        "3:7",
        "empty `run`",
    );
}

#[test]
fn waiver_without_reason_is_rejected() {
    assert_config_error(
        b"waivers:\n  - {rule: migrations/x}\n",
        "2:6",
        "missing field `reason`",
    );
}

#[test]
fn error_shows_the_line_with_a_caret() {
    let run = check_with_config(b"service: shop\nchecks:\n  migratoins: {}\n");
    assert!(
        run.stderr.contains("3 |   migratoins: {}"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("  |   ^"), "{}", run.stderr);
}

#[test]
fn explicit_config_that_does_not_exist() {
    let dir = project(&[]);
    let run = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--config", "nope.yaml"]));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("nope.yaml:1:1: cannot read the config file: no such file"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_arguments_exit_2() {
    let dir = project(&[]);
    for args in [
        vec!["check", "--format", "xml"],
        vec!["check", "--deadline", "soon"],
        vec!["check", "--output", "sarif"],
        vec!["check", "--only", "nosuchcheck"],
        vec!["check", "--no-such-flag"],
    ] {
        let run = run(gonogo().args(&args).current_dir(dir.path()));
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn config_is_found_in_a_parent_up_to_the_git_root() {
    let dir = project(&[
        (
            "gonogo.yaml",
            "service: parent\nchecks:\n  plugins:\n    - {name: ok, run: [\"checks/ok.sh\"]}\n",
        ),
        (
            "checks/ok.sh",
            "#!/bin/sh\necho 'OK - from parent config'\n",
        ),
        ("sub/dir/file.txt", "x"),
    ]);
    std::process::Command::new("git")
        .arg("init")
        .arg("-q")
        .arg(dir.path())
        .status()
        .unwrap();
    let run = run(gonogo()
        .arg("check")
        .arg(dir.path().join("sub/dir"))
        .args(["--format", "json"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["config"], "gonogo.yaml");
    let plugin = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "plugin/ok")
        .unwrap();
    assert_eq!(plugin["summary"], "OK - from parent config");
}
