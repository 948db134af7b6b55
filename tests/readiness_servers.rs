//! The readiness drill's reference case with a real health library: a Django site whose
//! readiness is django-health-check's database check, served by gunicorn, with a real
//! PostgreSQL behind gonogo's proxy. Cutting the proxy must make it unready within the budget,
//! liveness must stay up, and restoring it must bring readiness back — every run.

use crate::common;
use crate::common::servers;
use crate::live::*;

#[test]
fn django_health_check_is_cut_and_restored_the_same_way_every_run() {
    let Some(gunicorn) = servers::venv("gunicorn") else {
        return;
    };
    let postgres = common::pg::Cluster::start();
    let site = servers::app("django_site").display().to_string();
    // Three runs of the real readiness, then one whose readiness is the shallow liveness view.
    for (run, path) in [(1, "ready"), (2, "ready"), (3, "ready"), (4, "healthz")] {
        let port = free_port();
        let listen = free_port();
        let config = format!(
            "checks:
  readiness:
    url: http://127.0.0.1:{port}/{path}
    liveness_url: http://127.0.0.1:{port}/healthz
    detection_budget: 3s
    timeout: 2s
    startup_timeout: 30s
    command: [{gunicorn:?}, \"--chdir\", {site:?}, \"-w\", \"2\", \"--worker-class\", \"gthread\", \"--threads\", \"4\", \"-b\", \"127.0.0.1:{port}\", \"--log-level\", \"warning\", \"wsgi:application\"]
    env: {{DB_PORT: \"{listen}\", DB_PASSWORD: {password:?}}}
    dependencies:
      - name: postgres
        proxy: {{listen: \"127.0.0.1:{listen}\", upstream: \"127.0.0.1:{pg}\", mode: close}}
",
            gunicorn = gunicorn.display().to_string(),
            password = common::pg::PASSWORD,
            pg = postgres.port,
        );
        let dir = common::project(&[("gonogo.yaml", &config)]);
        let (_, report, _) = check_json(dir.path(), "readiness");
        let readiness = check(&report, "readiness");
        if path == "healthz" {
            assert_eq!(readiness["status"], "fail", "{readiness:#}");
            assert!(
                rules(readiness).contains(&"readiness/cut-not-detected".to_string()),
                "{readiness:#}"
            );
            continue;
        }
        assert_eq!(readiness["status"], "pass", "run {run}: {readiness:#}");
        let summary = readiness["summary"].as_str().unwrap();
        assert!(
            summary.contains("`postgres` cut (close, budget 3s): unready after"),
            "run {run}: {summary}"
        );
        assert!(
            summary.contains("after restore, liveness up"),
            "run {run}: {summary}"
        );
    }
    assert_eq!(postgres.query("postgres", "SELECT 1").trim(), "1");
}
