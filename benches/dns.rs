//! Release-mode benchmark of the dns check: twenty records asked of a local authoritative
//! server (hickory-server on 127.0.0.1, the zones under tests/fixtures/dns/), in-process
//! (query + analysis) and as the `gonogo check --only dns` command. Also one dead server with
//! a 500 ms timeout and the same twenty records: about one timeout, not twenty.
//! Run with `cargo bench --bench dns`; figures are in README.md.

#[path = "../tests/dns_lab/mod.rs"]
mod dns_lab;

use gonogo::checks::dns::analysis::outcome;
use gonogo::checks::dns::query::collect;
use gonogo::checks::dns::settings::{RecordSpec, Settings, parse_name};
use gonogo::config::DnsPhase;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 30;
const RECORDS: usize = 20;

fn settings(server: SocketAddr, timeout: Duration) -> Settings {
    Settings {
        phase: DnsPhase::BeforeCutover,
        max_ttl: 300,
        timeout,
        nameservers: vec![server.to_string()],
        records: (1..=RECORDS)
            .map(|i| RecordSpec {
                name: parse_name(&format!("bulk{i:02}.example.test")).expect("a valid name"),
                record_type: hickory_proto::rr::RecordType::A,
                expect: Vec::new(),
                must_exist: true,
                location: None,
            })
            .collect(),
    }
}

fn config(server: SocketAddr, timeout: &str) -> String {
    let mut text = format!(
        "checks:\n  dns:\n    timeout: {timeout}\n    nameservers: [\"{server}\"]\n    records:\n"
    );
    for i in 1..=RECORDS {
        text.push_str(&format!("      - {{name: bulk{i:02}.example.test}}\n"));
    }
    text
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn in_process(runtime: &tokio::runtime::Runtime, settings: &Settings, runs: usize) -> Duration {
    let times = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let collected = runtime
                .block_on(collect(settings))
                .expect("the servers answer");
            let result = outcome(settings, &collected);
            assert_eq!(result.findings.len(), 0, "{:?}", result.findings);
            started.elapsed()
        })
        .collect();
    median(times)
}

fn command(dir: &std::path::Path, runs: usize, expected_code: i32) -> Duration {
    let times = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let output = Command::new(env!("CARGO_BIN_EXE_gonogo"))
                .args(["check", "--only", "dns", "--format", "json"])
                .arg(dir)
                .output()
                .expect("gonogo runs");
            let elapsed = started.elapsed();
            assert_eq!(
                output.status.code(),
                Some(expected_code),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            elapsed
        })
        .collect();
    median(times)
}

fn project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("gonogo.yaml"), config).expect("write gonogo.yaml");
    dir
}

fn main() {
    // `cargo bench` passes --bench; a plain harness ignores its arguments.
    let lab = dns_lab::Lab::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");

    let live = settings(lab.ns1, Duration::from_secs(2));
    in_process(&runtime, &live, 3); // warm up: the first run pays for thread and socket setup
    println!(
        "{RECORDS} records, one local server, in-process (query + analysis): median {:>7.2} ms ({RUNS} runs)",
        ms(in_process(&runtime, &live, RUNS))
    );
    let dir = project(&config(lab.ns1, "2s"));
    println!(
        "{RECORDS} records, one local server, `gonogo check --only dns`: median {:>7.2} ms ({RUNS} runs)",
        ms(command(dir.path(), RUNS, 0))
    );
    let dead = project(&config(lab.dead, "500ms"));
    println!(
        "{RECORDS} records, one dead server, timeout 500ms, the command: median {:>7.2} ms (5 runs; serially it would be {} ms)",
        ms(command(dead.path(), 5, 1)),
        RECORDS * 500
    );
}
