//! The plugin protocol end to end, with real processes: JSON results, Nagios exit codes, a
//! hanging plugin killed at its timeout, garbage, a signal, a missing executable. Every broken
//! plugin becomes that check's `error` and the report is still complete.

use crate::common;
use common::*;
use std::time::{Duration, Instant};

fn json_report(dir: &std::path::Path, extra: &[&str]) -> (Run, serde_json::Value) {
    let run = run(gonogo()
        .arg("check")
        .arg(dir)
        .args(["--format", "json"])
        .args(extra));
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("JSON report expected ({e}): {}\n{}", run.stdout, run.stderr));
    (run, report)
}

fn check<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("check {id} in {report}"))
}

#[test]
fn nagios_exit_codes_map_to_statuses() {
    let dir = plugin_project(&[
        ("ok", "echo 'OK - all good | latency=3ms'; exit 0", ""),
        (
            "warning",
            "echo 'WARNING - disk 85%'; echo 'second line'; exit 1",
            "",
        ),
        ("critical", "echo 'CRITICAL - replica lag 40s'; exit 2", ""),
        (
            "unknown",
            "echo 'UNKNOWN - cannot reach api'; echo 'why' >&2; exit 3",
            "",
        ),
    ]);
    let (run, report) = json_report(dir.path(), &[]);
    assert_eq!(run.code, 1, "a fail and an error are a no-go");
    let ok = check(&report, "plugin/ok");
    assert_eq!(ok["status"], "pass");
    assert_eq!(
        ok["summary"], "OK - all good",
        "perfdata is not part of the summary"
    );
    let warning = check(&report, "plugin/warning");
    assert_eq!(warning["status"], "warn");
    assert_eq!(warning["findings"][0]["evidence"], "second line");
    assert_eq!(check(&report, "plugin/critical")["status"], "fail");
    let unknown = check(&report, "plugin/unknown");
    assert_eq!(unknown["status"], "error");
    assert!(unknown["summary"].as_str().unwrap().contains("UNKNOWN"));
    assert!(unknown["summary"].as_str().unwrap().contains("stderr: why"));
    // The seven built-in checks skip: nothing in this project for them.
    assert_eq!(
        report["counts"],
        serde_json::json!({"pass": 1, "warn": 1, "fail": 1, "error": 1, "skip": 7})
    );
}

#[test]
fn json_result_keeps_findings_and_locations() {
    let body = r#"cat >/dev/null
cat <<'JSON'
{"status": "fail", "summary": "1 stale flag", "findings": [
  {"rule": "stale", "severity": "fail", "message": "flag x is stale", "location": {"path": "src/app.py", "line": 7, "column": 3}, "fix": "remove it"}
]}
JSON"#;
    let dir = plugin_project(&[("flags", body, "")]);
    let (run, report) = json_report(dir.path(), &[]);
    assert_eq!(run.code, 1);
    let flags = check(&report, "plugin/flags");
    assert_eq!(flags["status"], "fail");
    assert_eq!(flags["findings"][0]["rule"], "plugin/flags/stale");
    assert_eq!(
        flags["findings"][0]["location"],
        serde_json::json!({"path": "src/app.py", "line": 7, "column": 3})
    );
}

#[test]
fn plugin_receives_context_on_stdin_and_env() {
    let body = r#"input=$(cat)
case "$input" in *'"owner":"team-a"'*'"protocol_version":1'*) ;; *) echo "CRITICAL - bad stdin: $input"; exit 2;; esac
[ "$GONOGO_PLUGIN" = ctx ] || { echo "CRITICAL - GONOGO_PLUGIN=$GONOGO_PLUGIN"; exit 2; }
[ "$GONOGO_TODAY" = 2026-11-23 ] || { echo "CRITICAL - GONOGO_TODAY=$GONOGO_TODAY"; exit 2; }
[ -f gonogo.yaml ] || { echo "CRITICAL - not run from the project root"; exit 2; }
echo "OK - context received""#;
    let dir = plugin_project(&[("ctx", body, ", owner: team-a")]);
    let (run, report) = json_report(dir.path(), &[]);
    assert_eq!(
        check(&report, "plugin/ctx")["summary"],
        "OK - context received",
        "{}",
        run.stderr
    );
    assert_eq!(run.code, 0);
}

#[test]
fn hanging_plugin_is_killed_at_its_timeout_and_the_report_is_complete() {
    let dir = plugin_project(&[
        ("hang", "sleep 30 & sleep 30; echo never", ", timeout: 1s"),
        ("fine", "echo 'OK - fine'", ""),
    ]);
    let started = Instant::now();
    let (run, report) = json_report(dir.path(), &[]);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "run took {elapsed:?}");
    assert_eq!(run.code, 1);
    let hang = check(&report, "plugin/hang");
    assert_eq!(hang["status"], "error");
    assert!(
        hang["summary"].as_str().unwrap().contains("timeout of 1s"),
        "{hang}"
    );
    assert_eq!(check(&report, "plugin/fine")["status"], "pass");
}

#[test]
fn run_deadline_ends_the_run() {
    let dir = plugin_project(&[("slow", "sleep 30", ", timeout: 60s")]);
    let started = Instant::now();
    let (run, report) = json_report(dir.path(), &["--deadline", "1s"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 1);
    let slow = check(&report, "plugin/slow");
    assert_eq!(slow["status"], "error");
    assert!(
        slow["summary"].as_str().unwrap().contains("deadline of 1s"),
        "{slow}"
    );
}

#[test]
fn garbage_output_is_an_error_with_the_reason() {
    let dir = plugin_project(&[
        ("truncated", "echo '{\"status\": \"pass\", \"summ'", ""),
        ("wrongshape", "echo '{\"verdict\": \"ok\"}'", ""),
        ("binary", "printf '\\377\\376\\375'", ""),
    ]);
    let (_, report) = json_report(dir.path(), &[]);
    for id in ["plugin/truncated", "plugin/wrongshape"] {
        let c = check(&report, id);
        assert_eq!(c["status"], "error", "{c}");
        assert!(
            c["summary"]
                .as_str()
                .unwrap()
                .contains("not a valid result"),
            "{c}"
        );
    }
    let binary = check(&report, "plugin/binary");
    assert_eq!(binary["status"], "error");
    assert!(binary["summary"].as_str().unwrap().contains("not UTF-8"));
}

#[test]
fn killed_by_a_signal_is_an_error() {
    let dir = plugin_project(&[("crash", "kill -9 $$", "")]);
    let (_, report) = json_report(dir.path(), &[]);
    let crash = check(&report, "plugin/crash");
    assert_eq!(crash["status"], "error");
    assert!(
        crash["summary"].as_str().unwrap().contains("signal 9"),
        "{crash}"
    );
}

#[test]
fn missing_and_non_executable_plugins_are_errors() {
    let dir = project(&[
        (
            "gonogo.yaml",
            "checks:\n  plugins:\n    - {name: missing, run: [\"checks/missing.sh\"]}\n    - {name: noexec, run: [\"checks/noexec.txt\"]}\n",
        ),
        ("checks/noexec.txt", "echo hi\n"),
    ]);
    let (run, report) = json_report(dir.path(), &[]);
    assert_eq!(run.code, 1);
    let missing = check(&report, "plugin/missing");
    assert_eq!(missing["status"], "error");
    let summary = missing["summary"].as_str().unwrap();
    assert!(
        summary.contains("cannot start `checks/missing.sh`"),
        "{summary}"
    );
    assert!(summary.contains("No such file"), "{summary}");
    let noexec = check(&report, "plugin/noexec");
    assert!(
        noexec["summary"]
            .as_str()
            .unwrap()
            .contains("ermission denied"),
        "{noexec}"
    );
}

#[test]
fn bundled_plugins_work_on_the_example() {
    let (run, report) = json_report(&shop(), &["--only", "plugin"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(check(&report, "plugin/feature-flags")["status"], "warn");
    assert_eq!(check(&report, "plugin/deploy-freeze")["status"], "pass");
}

#[test]
fn deploy_freeze_blocks_inside_a_freeze_window() {
    let run = run(gonogo()
        .arg("check")
        .arg(shop())
        .args(["--only", "plugin/deploy-freeze", "--format", "json"])
        .env("GONOGO_TODAY", "2026-12-24"));
    assert_eq!(run.code, 1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let freeze = check(&report, "plugin/deploy-freeze");
    assert_eq!(freeze["status"], "fail");
    assert!(
        freeze["summary"]
            .as_str()
            .unwrap()
            .contains("freeze until 2027-01-04"),
        "{freeze}"
    );
}
