//! The SIGTERM drill against servers people run, not ones we wrote: uvicorn, gunicorn (sync
//! and gthread workers), Node's `http` and Go's `net/http`, each serving the small app in
//! tests/servers/ and stopped its own documented way. Each must get the same verdict on five
//! consecutive runs: a gate gives the same answer for the same service.

use crate::common;
use crate::common::servers;
use crate::live::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

const RUNS: usize = 5;

/// A server to drill: its command (with `{port}` for the port) and environment.
struct Server {
    command: Vec<String>,
    env: BTreeMap<&'static str, String>,
}

impl Server {
    fn new(program: PathBuf, args: &[&str]) -> Server {
        let mut command = vec![program.display().to_string()];
        command.extend(args.iter().map(|a| a.to_string()));
        Server {
            command,
            env: BTreeMap::new(),
        }
    }

    fn env(mut self, key: &'static str, value: &str) -> Server {
        self.env.insert(key, value.to_string());
        self
    }

    /// One drill: 3 requests of 1.5 s in flight at SIGTERM, grace 10 s; `prestop` as
    /// `grace.prestop_seconds`. Returns the grace check's status, rules and summary.
    fn drill(&self, prestop: Option<u32>) -> (String, Vec<String>, serde_json::Value) {
        let port = free_port().to_string();
        let quoted = |s: &str| serde_json::to_string(&s.replace("{port}", &port)).unwrap();
        let command: Vec<String> = self.command.iter().map(|c| quoted(c)).collect();
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}: {}", quoted(v)))
            .collect();
        let config = format!(
            "checks:
  grace:
    command: [{command}]
    env: {{{env}}}
    url: http://127.0.0.1:{port}/slow?ms=1500
    readiness_url: http://127.0.0.1:{port}/ready
    requests: 3
    termination_grace_seconds: 10
    startup_timeout: 30s
{prestop}",
            command = command.join(", "),
            env = env.join(", "),
            prestop = prestop
                .map(|s| format!("    prestop_seconds: {s}\n"))
                .unwrap_or_default(),
        );
        let dir = common::project(&[("gonogo.yaml", &config)]);
        let (_, report, _) = check_json(dir.path(), "grace");
        let grace = check(&report, "grace").clone();
        (
            grace["status"].as_str().unwrap().to_string(),
            rules(&grace),
            grace,
        )
    }

    /// [`RUNS`] drills: all must give `status` and `rules`; returns the last report.
    fn same_verdict_every_time(
        &self,
        prestop: Option<u32>,
        status: &str,
        expected: &[&str],
    ) -> serde_json::Value {
        let mut last = serde_json::Value::Null;
        for run in 1..=RUNS {
            let (got, rules, grace) = self.drill(prestop);
            assert_eq!(
                (
                    got.as_str(),
                    rules.iter().map(String::as_str).collect::<Vec<_>>()
                ),
                (status, expected.to_vec()),
                "run {run} of {RUNS}: {grace:#}"
            );
            last = grace;
        }
        last
    }
}

fn message(grace: &serde_json::Value, rule: &str) -> String {
    finding(grace, rule)["message"]
        .as_str()
        .unwrap()
        .to_string()
}

/// uvicorn drains, then re-raises the SIGTERM it caught: a normal stop, not a failure.
#[test]
fn uvicorn_drains_then_reraises_sigterm_and_passes() {
    let Some(uvicorn) = servers::venv("uvicorn") else {
        return;
    };
    let app_dir = servers::app("").display().to_string();
    let server = Server::new(
        uvicorn,
        &[
            "--app-dir",
            &app_dir,
            "asgi_app:app",
            "--port",
            "{port}",
            "--log-level",
            "warning",
        ],
    );
    let grace = server.same_verdict_every_time(Some(5), "pass", &["grace/drill-timeline"]);
    let summary = grace["summary"].as_str().unwrap();
    assert!(
        summary.contains("3/3 in-flight requests succeeded"),
        "{summary}"
    );
    assert!(
        summary.contains("killed by signal 15 (SIGTERM) at +")
            && summary.contains("(the SIGTERM re-raised after the drain: a normal stop)"),
        "{summary}"
    );
}

/// gunicorn with 2 workers of the kind `worker` says (sync when empty) serving tests/servers/wsgi_app.py.
fn gunicorn(worker: &[&str]) -> Option<Server> {
    let gunicorn = servers::venv("gunicorn")?;
    let app_dir = servers::app("").display().to_string();
    let mut args = vec!["--chdir", &app_dir, "-w", "2"];
    args.extend_from_slice(worker);
    args.extend([
        "-b",
        "127.0.0.1:{port}",
        "--log-level",
        "warning",
        "wsgi_app:app",
    ]);
    Some(Server::new(gunicorn, &args))
}

/// gunicorn with 2 sync workers and 3 requests in flight: the third waits in the listen backlog
/// and is reset at SIGTERM. A real failure, every time, explained.
#[test]
fn gunicorn_sync_workers_reset_the_request_no_worker_took() {
    let Some(server) = gunicorn(&[]) else {
        return;
    };
    let grace = server.same_verdict_every_time(Some(5), "fail", &["grace/in-flight-failed"]);
    let failed = message(&grace, "grace/in-flight-failed");
    assert!(
        failed.starts_with("1 of 3 requests in flight at SIGTERM did not complete"),
        "{failed}"
    );
    assert!(
        failed.contains("never accepted by a worker (more concurrent requests than workers)"),
        "{failed}"
    );
    let fix = finding(&grace, "grace/in-flight-failed")["fix"]
        .as_str()
        .unwrap();
    assert!(
        fix.contains("gthread") && fix.contains("--graceful-timeout"),
        "{fix}"
    );
    // Without a preStop delay new connections still arrive after SIGTERM: with both workers
    // busy they sit in the backlog unanswered, which is broken, not refused.
    let (status, rules, grace) = server.drill(None);
    assert_eq!(status, "fail");
    assert!(
        rules.contains(&"grace/new-connection-broken".to_string()),
        "{grace:#}"
    );
}

/// The same app under gthread workers: every request is taken by a thread and drained.
#[test]
fn gunicorn_gthread_workers_drain_and_pass() {
    let Some(server) = gunicorn(&["--worker-class", "gthread", "--threads", "4"]) else {
        return;
    };
    server.same_verdict_every_time(Some(5), "pass", &["grace/drill-timeline"]);
}

/// Node's server marks itself unready and closes its listener at SIGTERM. Without a preStop
/// delay a probe sometimes hits the listener's closing instant and is reset; the verdict is the
/// same whether or not one did (the cause decides), and with a preStop delay it passes.
#[test]
fn node_http_gets_the_same_verdict_whether_or_not_a_probe_hits_the_close() {
    let Some(node) = servers::on_path("node") else {
        return;
    };
    let script = servers::app("node_server.js").display().to_string();
    let server = Server::new(node, &[&script]).env("PORT", "{port}");
    let grace = server.same_verdict_every_time(None, "warn", &["grace/listener-close-race"]);
    let race = message(&grace, "grace/listener-close-race");
    assert!(
        race.contains(
            "with no preStop delay, while Kubernetes may still route new connections to it for 2s"
        ),
        "{race}"
    );
    server.same_verdict_every_time(Some(5), "pass", &["grace/drill-timeline"]);
}

/// Go's `http.Server.Shutdown` closes the listener and waits for the open requests.
#[test]
fn go_net_http_shutdown_drains_and_passes() {
    let Some(binary) = servers::go_server() else {
        return;
    };
    let server = Server::new(binary, &[]).env("PORT", "{port}");
    server.same_verdict_every_time(Some(5), "pass", &["grace/drill-timeline"]);
    server.same_verdict_every_time(None, "warn", &["grace/listener-close-race"]);
}
