//! The SIGTERM drill end to end: gonogo starts the real test service, keeps long requests in
//! flight, sends SIGTERM and reads the timeline. A service that drains and one that exits at
//! once are told apart; every child process is gone afterwards.

use crate::common;
use crate::live;

use live::*;

/// A project whose gonogo.yaml runs the SIGTERM drill on the test service with `env`.
fn project(env: &str, extra: &str) -> (tempfile::TempDir, u16) {
    let port = free_port();
    let config = format!(
        "checks:
  grace:
    command: [\"{service}\"]
    env: {{TS_ADDR: \"127.0.0.1:{port}\", TS_READY: static, {env}}}
    url: http://127.0.0.1:{port}/slow?ms=1500
    readiness_url: http://127.0.0.1:{port}/ready
    requests: 4
    termination_grace_seconds: 10
    startup_timeout: 20s
{extra}",
        service = test_service().display()
    );
    (common::project(&[("gonogo.yaml", &config)]), port)
}

#[test]
fn a_draining_service_passes_with_a_timeline() {
    let pid_file = tempfile::NamedTempFile::new().unwrap();
    let (dir, port) = project(
        &format!(
            "TS_SHUTDOWN: drain, TS_DRAIN_MS: \"300\", TS_GRANDCHILD_PID_FILE: \"{}\"",
            pid_file.path().display()
        ),
        // Kubernetes runs the preStop delay before SIGTERM: new connections after it are past
        // the endpoints' removal (without one, see the next test).
        "    prestop_seconds: 5\n",
    );
    let (code, report, _) = check_json(dir.path(), "grace");
    let grace = check(&report, "grace");
    assert_eq!(grace["status"], "pass", "{grace:#}");
    assert_eq!(code, 0);
    assert_eq!(rules(grace), ["grace/drill-timeline"]);
    let summary = grace["summary"].as_str().unwrap();
    assert!(
        summary.contains("SIGTERM drill: readiness 503 +"),
        "{summary}"
    );
    assert!(
        summary.contains("4/4 in-flight requests succeeded; exit status 0 at +"),
        "{summary}"
    );
    assert!(summary.contains("(grace 10s)"), "{summary}");
    let evidence = finding(grace, "grace/drill-timeline")["evidence"]
        .as_str()
        .unwrap();
    assert!(evidence.starts_with("+0ms SIGTERM"), "{evidence}");
    assert!(
        evidence.contains("readiness (new connection): refused"),
        "the listener closes after the drain delay: {evidence}"
    );
    let grandchild = read_pid(pid_file.path());
    assert!(
        !alive(grandchild),
        "the service's child {grandchild} outlived the drill"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// The same service without a preStop delay: its listener closes 0.3 s after SIGTERM, while
/// Kubernetes may still route new connections to it.
#[test]
fn a_draining_service_without_a_prestop_delay_warns_of_the_listener_race() {
    let (dir, _) = project("TS_SHUTDOWN: drain, TS_DRAIN_MS: \"300\"", "");
    let (code, report, _) = check_json(dir.path(), "grace");
    let grace = check(&report, "grace");
    assert_eq!(grace["status"], "warn", "{grace:#}");
    assert_eq!(code, 0, "a warning does not block");
    assert_eq!(rules(grace), ["grace/listener-close-race"]);
    let race = finding(grace, "grace/listener-close-race");
    let message = race["message"].as_str().unwrap();
    assert!(
        message.contains("after SIGTERM, with no preStop delay, while Kubernetes may still route new connections to it for 2s"),
        "{message}"
    );
    assert!(
        race["fix"]
            .as_str()
            .unwrap()
            .contains("grace.prestop_seconds"),
        "{race:#}"
    );
}

#[test]
fn a_service_that_exits_at_once_fails_its_in_flight_requests() {
    let (dir, _) = project("TS_SHUTDOWN: abrupt", "");
    let (code, report, _) = check_json(dir.path(), "grace");
    let grace = check(&report, "grace");
    assert_eq!(grace["status"], "fail", "{grace:#}");
    assert_eq!(code, 1);
    let failed = finding(grace, "grace/in-flight-failed");
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .starts_with("4 of 4 requests in flight at SIGTERM did not complete"),
        "{failed:#}"
    );
}

#[test]
fn a_service_that_outlives_the_grace_period_is_killed_and_fails() {
    // Drain delay longer than the grace period: the kubelet's SIGKILL would come first.
    let (dir, port) = project("TS_SHUTDOWN: drain, TS_DRAIN_MS: \"5000\"", "");
    let config_path = dir.path().join("gonogo.yaml");
    let config = std::fs::read_to_string(&config_path).unwrap().replace(
        "termination_grace_seconds: 10",
        "termination_grace_seconds: 2",
    );
    std::fs::write(&config_path, config).unwrap();
    let (_, report, _) = check_json(dir.path(), "grace");
    let grace = check(&report, "grace");
    assert_eq!(grace["status"], "fail", "{grace:#}");
    let exit = finding(grace, "grace/exit-not-clean");
    assert!(
        exit["message"]
            .as_str()
            .unwrap()
            .contains("still running 2s after SIGTERM"),
        "{exit:#}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "killed"
    );
}

#[test]
fn a_service_that_cannot_start_is_an_error() {
    let (dir, _) = project("TS_CRASH_AFTER_MS: \"0\"", "");
    let (_, report, _) = check_json(dir.path(), "grace");
    let grace = check(&report, "grace");
    assert_eq!(grace["status"], "error", "{grace:#}");
    let summary = grace["summary"].as_str().unwrap();
    assert!(
        summary.contains("exited before it was ready, with exit status 3"),
        "{summary}"
    );
}

#[test]
fn a_drill_without_url_is_a_clear_error() {
    let dir = common::project(&[(
        "gonogo.yaml",
        "checks:\n  grace:\n    command: [\"/bin/true\"]\n",
    )]);
    let (_, report, _) = check_json(dir.path(), "grace");
    let grace = check(&report, "grace");
    assert_eq!(grace["status"], "error");
    assert!(
        grace["summary"]
            .as_str()
            .unwrap()
            .contains("checks.grace.url is needed"),
        "{grace:#}"
    );
}

#[test]
fn unknown_drill_keys_are_config_errors() {
    let dir = common::project(&[(
        "gonogo.yaml",
        "checks:\n  grace:\n    new_connections: sometimes\n",
    )]);
    let output = common::gonogo()
        .args(["check"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("gonogo.yaml:3:"), "{stderr}");
    assert!(stderr.contains("served, refused, either"), "{stderr}");
}

/// SIGTERM to gonogo (a CI job cancelled) during the drill: the service is stopped, the report
/// is printed with the drill as `error`, and nothing is left running.
#[test]
fn sigterm_to_gonogo_during_the_drill_stops_the_service_and_reports() {
    let pid_file = tempfile::NamedTempFile::new().unwrap();
    // A long drain keeps the drill going for its whole grace period: a wide window.
    let (dir, port) = project(
        &format!(
            "TS_SHUTDOWN: drain, TS_DRAIN_MS: \"60000\", TS_GRANDCHILD_PID_FILE: \"{}\"",
            pid_file.path().display()
        ),
        "",
    );
    let mut gonogo = start(
        common::gonogo()
            .args(["check", "--format", "json", "--only", "grace"])
            .arg(dir.path()),
    );
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the service never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let grandchild = read_pid(pid_file.path());
    // SAFETY: kill(2) signals the gonogo child this test started.
    unsafe {
        libc::kill(gonogo.id() as i32, libc::SIGTERM);
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    let stdout = gonogo.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut { stdout }, &mut text);
        let _ = sender.send(text);
    });
    let stdout = receiver
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("gonogo exits within 30s of SIGTERM");
    let status = gonogo.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON report");
    let grace = check(&report, "grace");
    assert_eq!(grace["status"], "error", "{grace:#}");
    assert!(
        grace["summary"]
            .as_str()
            .unwrap()
            .contains("interrupted (SIGTERM) during the SIGTERM drill; the service was stopped"),
        "{grace:#}"
    );
    assert!(
        !alive(grandchild),
        "the service's child {grandchild} outlived gonogo"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
