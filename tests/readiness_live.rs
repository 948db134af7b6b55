//! The live readiness drill end to end: gonogo starts the real test service (or watches a
//! misbehaving server), proxies a real TCP dependency, cuts it, and the report tells the
//! variants apart. Every fault ends in a clear error or finding within the deadline.

use crate::common;
use crate::live;

use live::*;
use std::path::Path;
use std::time::{Duration, Instant};

struct Drill {
    dir: tempfile::TempDir,
    port: u16,
    listen: u16,
}

/// A project whose gonogo.yaml starts the test service with `env` and cuts `db` (an echo server
/// behind gonogo's proxy). `extra` goes under the dependency (e.g. `soft: true`).
fn drill(env: &str, mode: &str, extra: &str) -> Drill {
    let port = free_port();
    let listen = free_port();
    let echo = echo_server();
    let service = test_service();
    let config = format!(
        "checks:
  readiness:
    url: http://127.0.0.1:{port}/ready
    liveness_url: http://127.0.0.1:{port}/healthz
    detection_budget: 2s
    timeout: 1s
    startup_timeout: 20s
    command: [\"{service}\"]
    env: {{TS_ADDR: \"127.0.0.1:{port}\", TS_DEP: \"127.0.0.1:{listen}\", {env}}}
    dependencies:
      - name: db
        proxy: {{listen: \"127.0.0.1:{listen}\", upstream: \"{echo}\", mode: {mode}}}
        {extra}
",
        service = service.display()
    );
    let dir = common::project(&[("gonogo.yaml", &config)]);
    Drill { dir, port, listen }
}

fn run(drill: &Drill) -> (i32, serde_json::Value) {
    let (code, report, _stderr) = check_json(drill.dir.path(), "readiness");
    (code, report)
}

#[test]
fn a_readiness_that_pings_its_dependency_passes_the_cut() {
    let drill = drill("TS_READY: ping", "close", "");
    let (code, report) = run(&drill);
    let readiness = check(&report, "readiness");
    assert_eq!(readiness["status"], "pass", "{readiness:#}");
    assert_eq!(code, 0);
    assert_eq!(
        rules(readiness),
        ["readiness/drill-result", "readiness/drill-result"]
    );
    let summary = readiness["summary"].as_str().unwrap();
    assert!(
        summary.contains("application/health+json: db:connectivity up"),
        "{summary}"
    );
    assert!(
        summary.contains("`db` cut (close, budget 2s): unready after"),
        "{summary}"
    );
    assert!(summary.contains("after restore, liveness up"), "{summary}");
    assert!(
        summary.contains("from readiness.detection_budget"),
        "{summary}"
    );
}

#[test]
fn a_blackholed_dependency_is_noticed_by_a_readiness_with_a_timeout() {
    let drill = drill("TS_READY: ping", "blackhole", "");
    let (_, report) = run(&drill);
    let readiness = check(&report, "readiness");
    assert_eq!(readiness["status"], "pass", "{readiness:#}");
    assert!(
        readiness["summary"]
            .as_str()
            .unwrap()
            .contains("`db` cut (blackhole, budget 2s): unready after"),
        "{readiness:#}"
    );
}

#[test]
fn a_readiness_that_returns_200_regardless_fails_the_cut() {
    let drill = drill("TS_READY: static", "close", "");
    let (code, report) = run(&drill);
    let readiness = check(&report, "readiness");
    assert_eq!(readiness["status"], "fail", "{readiness:#}");
    assert_eq!(code, 1);
    let rules = rules(readiness);
    assert!(
        rules.contains(&"readiness/cut-not-detected".to_string()),
        "{rules:?}"
    );
    // `readiness/looks-static` also depends on how fast the answers come (a median under
    // 2 ms): on a loaded machine it may rightly not fire, so it is tested on recorded samples
    // (checks/readiness/live/health.rs), not here.
    let cut = finding(readiness, "readiness/cut-not-detected");
    let message = cut["message"].as_str().unwrap();
    assert!(
        message.contains("stayed up for the whole detection budget of 2s"),
        "{message}"
    );
    assert!(
        message.contains("no traffic went through the proxy"),
        "{message}"
    );
}

#[test]
fn a_liveness_that_checks_the_dependency_fails() {
    let drill = drill("TS_READY: ping, TS_LIVE: deps", "close", "");
    let (_, report) = run(&drill);
    let readiness = check(&report, "readiness");
    assert_eq!(readiness["status"], "fail", "{readiness:#}");
    assert_eq!(
        rules(readiness),
        ["readiness/drill-result", "readiness/liveness-fails-on-cut"]
    );
}

#[test]
fn a_soft_dependency_must_not_take_readiness_down() {
    let drill = drill("TS_READY: ping", "close", "soft: true");
    let (_, report) = run(&drill);
    let readiness = check(&report, "readiness");
    assert_eq!(readiness["status"], "fail", "{readiness:#}");
    assert!(rules(readiness).contains(&"readiness/soft-dependency-unready".to_string()));
    // The same soft cut against a readiness that ignores the dependency passes.
    let drill = drill_static_soft();
    let (_, report) = run(&drill);
    let readiness = check(&report, "readiness");
    assert!(
        !rules(readiness).contains(&"readiness/soft-dependency-unready".to_string()),
        "{readiness:#}"
    );
}

fn drill_static_soft() -> Drill {
    drill("TS_READY: static", "close", "soft: true")
}

#[test]
fn offline_skips_only_the_live_part() {
    let drill = drill("TS_READY: ping", "close", "");
    let output = common::gonogo()
        .args([
            "check",
            "--format",
            "json",
            "--offline",
            "--only",
            "readiness",
        ])
        .arg(drill.dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let readiness = check(&report, "readiness");
    assert!(
        readiness["summary"]
            .as_str()
            .unwrap()
            .contains("live drill skipped: --offline"),
        "{readiness:#}"
    );
    // Nothing listened: the proxy and the service were never started.
    assert!(std::net::TcpStream::connect(("127.0.0.1", drill.listen)).is_err());
    assert!(std::net::TcpStream::connect(("127.0.0.1", drill.port)).is_err());
}

/// A project that only observes `url` (no command, no proxy).
fn observe_only(url: &str) -> tempfile::TempDir {
    common::project(&[(
        "gonogo.yaml",
        &format!(
            "checks:\n  readiness:\n    url: {url}\n    timeout: 1s\n    dependencies: [{{name: postgres}}]\n"
        ),
    )])
}

fn error_summary(dir: &Path) -> (String, Duration) {
    let started = Instant::now();
    let (code, report, _) = check_json(dir, "readiness");
    let readiness = check(&report, "readiness");
    assert_eq!(readiness["status"], "error", "{readiness:#}");
    assert_eq!(code, 1);
    (
        readiness["summary"].as_str().unwrap().to_string(),
        started.elapsed(),
    )
}

#[test]
fn a_refused_readiness_url_is_an_error() {
    let port = free_port();
    let (summary, _) =
        error_summary(observe_only(&format!("http://127.0.0.1:{port}/ready")).path());
    assert!(summary.contains("Connection refused"), "{summary}");
}

#[test]
fn a_hanging_readiness_url_is_an_error_within_the_timeout() {
    let addr = hanging_server();
    let (summary, elapsed) = error_summary(observe_only(&format!("http://{addr}/ready")).path());
    assert!(
        summary.contains("no complete answer within 1s"),
        "{summary}"
    );
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn a_slowloris_body_is_bounded_by_the_timeout() {
    let addr = raw_http_server(
        "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
        |stream| {
            for _ in 0..1000 {
                use std::io::Write;
                if stream.write_all(b"x").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        },
    );
    let (summary, elapsed) = error_summary(observe_only(&format!("http://{addr}/ready")).path());
    assert!(
        summary.contains("no complete answer within 1s"),
        "{summary}"
    );
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn a_10_mb_body_is_capped_not_read_whole() {
    let addr = raw_http_server(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10485760\r\n\r\n",
        |stream| {
            use std::io::Write;
            let chunk = vec![b'a'; 64 * 1024];
            for _ in 0..160 {
                if stream.write_all(&chunk).is_err() {
                    return;
                }
            }
        },
    );
    let dir = observe_only(&format!("http://{addr}/ready"));
    let (_, report, _) = check_json(dir.path(), "readiness");
    let readiness = check(&report, "readiness");
    let observed = finding(readiness, "readiness/drill-result");
    let message = observed["message"].as_str().unwrap();
    assert!(
        message.contains("longer than 1024 KiB and was cut there"),
        "{message}"
    );
}

#[test]
fn https_to_a_server_without_tls_is_an_error() {
    // An https URL to a server that does not speak TLS: the handshake fails, and says so.
    let addr = raw_http_server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK", |_| {});
    let (summary, _) = error_summary(observe_only(&format!("https://{addr}/ready")).path());
    assert!(
        summary.starts_with("live drill: readiness at https://"),
        "{summary}"
    );
    assert!(
        summary.to_ascii_lowercase().contains("tls")
            || summary.contains("InvalidContentType")
            || summary.contains("corrupt"),
        "{summary}"
    );
}

/// An https readiness URL served by `openssl s_server` with a certificate signed by a CA made
/// for the test; `ca_file` (when given) names that CA in gonogo.yaml.
fn tls_project(ca_file: Option<&str>) -> (tempfile::TempDir, TlsServer) {
    let ca_line = ca_file.map_or(String::new(), |f| format!("    ca_file: {f}\n"));
    let dir = common::project(&[(
        "gonogo.yaml",
        &format!("checks:\n  readiness:\n    url: PLACEHOLDER\n    timeout: 1s\n{ca_line}"),
    )]);
    make_certificates(dir.path());
    let server = TlsServer::start(dir.path());
    // The port is known only now; the URL goes in after the server listens.
    let config = dir.path().join("gonogo.yaml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "PLACEHOLDER",
        &format!("https://127.0.0.1:{}/ready", server.port),
    );
    std::fs::write(&config, text).unwrap();
    (dir, server)
}

#[test]
fn tls_with_an_untrusted_certificate_is_an_error_naming_the_fix() {
    let (dir, _server) = tls_project(None);
    let (summary, elapsed) = error_summary(dir.path());
    assert!(
        summary.contains("certificate not trusted (self-signed or unknown CA): set checks.readiness.ca_file to the CA's PEM"),
        "{summary}"
    );
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn tls_with_the_ca_in_ca_file_is_trusted() {
    let (dir, _server) = tls_project(Some("ca.pem"));
    let (code, report, stderr) = check_json(dir.path(), "readiness");
    let readiness = check(&report, "readiness");
    assert_ne!(readiness["status"], "error", "{readiness:#}\n{stderr}");
    let observed = finding(readiness, "readiness/drill-result");
    let message = observed["message"].as_str().unwrap();
    assert!(message.contains("HTTP 200"), "{message}");
    assert_eq!(code, 0, "{readiness:#}");
}

#[test]
fn a_missing_or_invalid_ca_file_is_an_error_naming_it() {
    let (dir, _server) = tls_project(Some("no-such-ca.pem"));
    let (summary, _) = error_summary(dir.path());
    assert!(
        summary.contains("checks.readiness.ca_file") && summary.contains("no-such-ca.pem"),
        "{summary}"
    );
    // A key is PEM but not a certificate.
    let (dir, _server) = tls_project(Some("server.key"));
    let (summary, _) = error_summary(dir.path());
    assert!(
        summary.contains("server.key") && summary.contains("holds no PEM certificate"),
        "{summary}"
    );
}

#[test]
fn a_taken_proxy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap();
    let dir = common::project(&[(
        "gonogo.yaml",
        &format!(
            "checks:\n  readiness:\n    url: http://127.0.0.1:1/ready\n    dependencies:\n      - {{name: db, proxy: {{listen: \"{listen}\", upstream: \"127.0.0.1:1\"}}}}\n"
        ),
    )]);
    let (summary, _) = error_summary(dir.path());
    assert!(
        summary.contains(&format!("the proxy for `db` cannot listen on {listen}")),
        "{summary}"
    );
    assert!(summary.contains("already in use"), "{summary}");
}

#[test]
fn a_service_crashing_during_the_drill_is_an_error_and_leaves_no_process() {
    let pid_file = tempfile::NamedTempFile::new().unwrap();
    let drill = drill(
        &format!(
            "TS_READY: static, TS_CRASH_AFTER_MS: \"1500\", TS_GRANDCHILD_PID_FILE: \"{}\"",
            pid_file.path().display()
        ),
        "close",
        "",
    );
    let (summary, elapsed) = error_summary(drill.dir.path());
    assert!(
        summary.contains("exited during the drill with exit status 3"),
        "{summary}"
    );
    assert!(summary.contains("crashing on purpose"), "{summary}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    let grandchild = read_pid(pid_file.path());
    assert!(
        !alive(grandchild),
        "the service's child {grandchild} outlived the run"
    );
}

#[test]
fn every_child_is_gone_after_a_drill() {
    let pid_file = tempfile::NamedTempFile::new().unwrap();
    let drill = drill(
        &format!(
            "TS_READY: ping, TS_GRANDCHILD_PID_FILE: \"{}\"",
            pid_file.path().display()
        ),
        "close",
        "",
    );
    let (_, report) = run(&drill);
    assert_eq!(check(&report, "readiness")["status"], "pass", "{report:#}");
    let grandchild = read_pid(pid_file.path());
    assert!(
        !alive(grandchild),
        "the service's child {grandchild} outlived the run"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", drill.port)).is_err(),
        "the service still listens"
    );
}

#[test]
fn ctrl_c_during_a_cut_restores_stops_and_reports() {
    signal_during_a_cut(libc::SIGINT, "Ctrl-C");
}

/// CI runners and process managers stop jobs with SIGTERM, a closed terminal sends SIGHUP: both
/// end the drill like Ctrl-C.
#[test]
fn sigterm_during_a_cut_restores_stops_and_reports() {
    signal_during_a_cut(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sighup_during_a_cut_restores_stops_and_reports() {
    signal_during_a_cut(libc::SIGHUP, "SIGHUP");
}

fn signal_during_a_cut(signal: i32, cause: &str) {
    let pid_file = tempfile::NamedTempFile::new().unwrap();
    // A static readiness keeps the cut going for the whole (long) budget.
    let drill = drill(
        &format!(
            "TS_READY: static, TS_GRANDCHILD_PID_FILE: \"{}\"",
            pid_file.path().display()
        ),
        "close",
        "",
    );
    let config_path = drill.dir.path().join("gonogo.yaml");
    let config = std::fs::read_to_string(&config_path)
        .unwrap()
        .replace("detection_budget: 2s", "detection_budget: 60s");
    std::fs::write(&config_path, config).unwrap();

    let mut gonogo = start(
        common::gonogo()
            .args([
                "check",
                "--format",
                "json",
                "--deadline",
                "120s",
                "--only",
                "readiness",
            ])
            .arg(drill.dir.path()),
    );
    // The cut is on once the proxy's port refuses connections after having accepted them.
    let started = Instant::now();
    let mut seen_open = false;
    loop {
        let open = std::net::TcpStream::connect(("127.0.0.1", drill.listen)).is_ok();
        seen_open |= open;
        if seen_open && !open {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the cut never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let grandchild = read_pid(pid_file.path());
    let interrupted_at = Instant::now();
    // SAFETY: kill(2) signals the gonogo child this test started.
    unsafe {
        libc::kill(gonogo.id() as i32, signal);
    }
    let output = wait_with_timeout(&mut gonogo, Duration::from_secs(15));
    assert!(
        interrupted_at.elapsed() < Duration::from_secs(10),
        "gonogo took {:?} after {cause}",
        interrupted_at.elapsed()
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let readiness = check(&report, "readiness");
    assert_eq!(readiness["status"], "error");
    assert!(
        readiness["summary"]
            .as_str()
            .unwrap()
            .contains(&format!("interrupted ({cause}) during the drill")),
        "{readiness:#}"
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(!alive(grandchild), "the service's child outlived {cause}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", drill.port)).is_err(),
        "the service still listens"
    );
    // The proxy is closed with gonogo, not left half-cut.
    assert!(std::net::TcpStream::connect(("127.0.0.1", drill.listen)).is_err());
}

fn wait_with_timeout(child: &mut std::process::Child, limit: Duration) -> std::process::Output {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("gonogo did not exit within {limit:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    use std::io::Read;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    std::process::Output {
        status: child.wait().unwrap(),
        stdout,
        stderr,
    }
}

#[test]
fn a_real_postgresql_is_cut_and_restored() {
    let postgres = common::pg::Cluster::start();
    let port = free_port();
    let listen = free_port();
    let config = format!(
        "checks:
  readiness:
    url: http://127.0.0.1:{port}/ready
    liveness_url: http://127.0.0.1:{port}/healthz
    detection_budget: 2s
    timeout: 1s
    command: [\"{service}\"]
    env: {{TS_ADDR: \"127.0.0.1:{port}\", TS_DEP: \"127.0.0.1:{listen}\", TS_DEP_PROTOCOL: postgres}}
    dependencies:
      - name: postgres
        proxy: {{listen: \"127.0.0.1:{listen}\", upstream: \"127.0.0.1:{pg}\", mode: blackhole}}
",
        service = test_service().display(),
        pg = postgres.port
    );
    let dir = common::project(&[("gonogo.yaml", &config)]);
    let (_, report, _) = check_json(dir.path(), "readiness");
    let readiness = check(&report, "readiness");
    assert_eq!(readiness["status"], "pass", "{readiness:#}");
    assert!(
        readiness["summary"]
            .as_str()
            .unwrap()
            .contains("`postgres` cut (blackhole, budget 2s): unready after"),
        "{readiness:#}"
    );
    // The cluster serves again after the drill: the cut was restored, then the proxy closed.
    assert_eq!(postgres.query("postgres", "SELECT 1").trim(), "1");
}
