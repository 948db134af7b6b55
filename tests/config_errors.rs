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

/// Issue 14 point 9: a duration too large for `Instant + duration` used to panic (exit 101).
/// Every duration key is range-checked where it is written, with the accepted range.
#[test]
fn durations_past_a_day_are_refused_in_every_key() {
    let huge = "9223372036854775807s";
    let cases: &[(String, &str)] = &[
        (format!("deadline: {huge}\n"), "1:11"),
        (
            format!("checks:\n  plugins:\n    - {{name: a, run: [\"true\"], timeout: {huge}}}\n"),
            "3:41",
        ),
        (format!("checks:\n  dns:\n    timeout: {huge}\n"), "3:14"),
        (
            format!("checks:\n  readiness:\n    detection_budget: {huge}\n"),
            "3:23",
        ),
        (
            format!("checks:\n  readiness:\n    timeout: {huge}\n"),
            "3:14",
        ),
        (
            format!("checks:\n  readiness:\n    startup_timeout: {huge}\n"),
            "3:22",
        ),
        (
            format!("checks:\n  grace:\n    startup_timeout: {huge}\n"),
            "3:22",
        ),
    ];
    for (config, position) in cases {
        assert_config_error(
            config.as_bytes(),
            position,
            "9223372036854775807s is out of range; expected a duration from 1ms to 24h",
        );
    }
    // Past u64 seconds: still the range sentence, not "expected a duration like …".
    assert_config_error(
        b"deadline: 99999999999999999999999s\n",
        "1:11",
        "is out of range; expected a duration from 1ms to 24h",
    );
    // Units multiply: 25 h is past the bound even though 25 is small.
    assert_config_error(b"deadline: 25h\n", "1:11", "90000s is out of range");
}

/// Issue 20: `timeout: 0s` was accepted; a zero timeout can never be met.
#[test]
fn zero_timeouts_are_refused() {
    assert_config_error(
        b"checks:\n  plugins:\n    - name: a\n      run: [\"true\"]\n      timeout: 0s\n",
        "5:16",
        "a duration of 0s can never be met; expected a duration from 1ms to 24h",
    );
    assert_config_error(b"deadline: 0ms\n", "1:11", "0s can never be met");
    assert_config_error(
        b"checks:\n  dns:\n    timeout: 0s\n",
        "3:14",
        "0s can never be met",
    );
}

/// Issue 14 point 9 and issue 20: numbers out of range (1e20 crashed the grace drill,
/// negative targets were accepted) name the range they must be in.
#[test]
fn numbers_out_of_range_are_refused_with_the_range() {
    let cases: &[(&[u8], &str, &str)] = &[
        (
            b"checks:\n  grace:\n    termination_grace_seconds: 1e20\n",
            "3:32",
            "100000000000000000000 is out of range; expected a number of seconds from 0 to 86400",
        ),
        (
            b"checks:\n  rollback:\n    target_seconds: -5\n",
            "3:21",
            "-5 is out of range; expected a number of seconds greater than 0 and at most 86400",
        ),
        (
            b"checks:\n  rollback:\n    target_seconds: 0\n",
            "3:21",
            "greater than 0",
        ),
        (
            b"checks:\n  grace:\n    max_request_seconds: .nan\n",
            "3:26",
            "NaN is out of range",
        ),
        (
            b"checks:\n  grace:\n    lb_deregistration_seconds: -1\n",
            "3:32",
            "from 0 to 86400",
        ),
        (
            b"checks:\n  migrations:\n    max_lock_seconds: .inf\n",
            "3:23",
            "inf is out of range",
        ),
        (
            b"checks:\n  grace:\n    requests: 0\n",
            "3:15",
            "expected from 1 to 100 requests",
        ),
        (
            b"checks:\n  grace:\n    requests: 100000\n",
            "3:15",
            "expected from 1 to 100 requests",
        ),
        (
            b"checks:\n  migrations:\n    postgres_version: 4294967296\n",
            "3:23",
            "not a PostgreSQL major version",
        ),
        (
            b"checks:\n  migrations:\n    costs:\n      scan_mb_per_s: 0\n",
            "4:22",
            "expected MB per second from 0.001 to 1000000",
        ),
        (
            b"checks:\n  migrations:\n    costs:\n      overhead_ms: -1\n",
            "4:20",
            "expected milliseconds from 0 to 60000",
        ),
        (
            b"checks:\n  dns:\n    max_ttl: 3000000000s\n",
            "3:14",
            "RFC 2181",
        ),
    ];
    for (config, position, expected) in cases {
        assert_config_error(config, position, expected);
    }
}

/// The bounds accept what real configs write, at the edges too.
#[test]
fn numbers_and_durations_at_the_edges_are_accepted() {
    let dir = project(&[]);
    std::fs::write(
        dir.path().join("gonogo.yaml"),
        "deadline: 24h\nchecks:\n  dns:\n    max_ttl: 0s\n    timeout: 1ms\n    records: []\n  grace:\n    termination_grace_seconds: 0\n    max_request_seconds: 86400\n    requests: 100\n  rollback:\n    target_seconds: 0.5\n  migrations:\n    postgres_version: 9\n",
    )
    .unwrap();
    let run = run(gonogo().arg("check").arg(dir.path()).args(["--offline"]));
    // Everything here is skipped offline (exit 2, nothing checked), but the config was read:
    // the report is out and no config error was printed.
    assert!(
        run.stdout.contains("NOTHING CHECKED"),
        "accepted config: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("gonogo.yaml:"), "{}", run.stderr);
    assert!(!run.stderr.contains("out of range"), "{}", run.stderr);
}

#[test]
fn deadline_flag_out_of_range_is_a_usage_error() {
    let dir = project(&[]);
    for (value, expected) in [
        (
            "9223372036854775807s",
            "9223372036854775807s is out of range; expected a duration from 1ms to 24h",
        ),
        ("0s", "a duration of 0s can never be met"),
    ] {
        let run = run(gonogo()
            .arg("check")
            .arg(dir.path())
            .args(["--deadline", value]));
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(!run.stderr.contains("panic"), "{}", run.stderr);
        assert!(run.stderr.contains(expected), "{}", run.stderr);
        assert!(run.stdout.is_empty());
    }
}
