//! The service the readiness and grace drill tests start (`[[example]] test-service`).
//!
//! One binary, its behaviour chosen by environment variables, so a gonogo.yaml can start each
//! variant with `command:` and `env:` exactly as a user would start their own service:
//!
//! | variable | values | meaning |
//! |---|---|---|
//! | `TS_ADDR` | `127.0.0.1:PORT` | where to listen (required) |
//! | `TS_DEP` | `HOST:PORT` | the dependency: a line-echo TCP service (reached through gonogo's proxy) |
//! | `TS_DEP_PROTOCOL` | `echo` (default) / `postgres` | the ping: a line echoed back / PostgreSQL's SSLRequest answered with `S` or `N` |
//! | `TS_READY` | `ping` (default) / `static` | readiness pings `TS_DEP` (send a line, expect it back) / always 200 |
//! | `TS_LIVE` | `plain` (default) / `deps` | liveness always 200 / liveness pings `TS_DEP` too (the mistake) |
//! | `TS_SHUTDOWN` | `drain` (default) / `abrupt` | on SIGTERM: fail readiness, finish in-flight requests, exit 0 / exit at once |
//! | `TS_DRAIN_MS` | ms, default 300 | `drain`: how long readiness fails before the listener closes (a preStop-like delay) |
//! | `TS_CRASH_AFTER_MS` | ms | exit with status 3 this long after start (a crash during a drill) |
//! | `TS_GRANDCHILD_PID_FILE` | path | start `sleep 600` as a grandchild and write its pid here |
//!
//! Endpoints: `/ready` (application/health+json), `/healthz` (plain text), `/slow?ms=N` (answers
//! 200 after N ms).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

struct Service {
    dep: Option<String>,
    postgres: bool,
    ready_pings: bool,
    live_pings: bool,
    /// Set on SIGTERM by the draining variant: readiness answers 503 from then on.
    terminating: AtomicBool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_ms(name: &str, default: u64) -> Duration {
    Duration::from_millis(env(name).and_then(|v| v.parse().ok()).unwrap_or(default))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(addr) = env("TS_ADDR") else {
        eprintln!("test-service: set TS_ADDR=127.0.0.1:PORT");
        std::process::exit(2);
    };
    let service = Arc::new(Service {
        dep: env("TS_DEP"),
        postgres: env("TS_DEP_PROTOCOL").as_deref() == Some("postgres"),
        ready_pings: env("TS_READY").as_deref() != Some("static"),
        live_pings: env("TS_LIVE").as_deref() == Some("deps"),
        terminating: AtomicBool::new(false),
    });
    let abrupt = env("TS_SHUTDOWN").as_deref() == Some("abrupt");
    let drain = env_ms("TS_DRAIN_MS", 300);

    if let Some(path) = env("TS_GRANDCHILD_PID_FILE") {
        let child = std::process::Command::new("sleep")
            .arg("600")
            .spawn()
            .expect("sleep starts");
        std::fs::write(&path, child.id().to_string()).expect("pid file written");
        // Deliberately never waited for: it must die with the process group.
        std::mem::forget(child);
    }
    if let Some(after) = env("TS_CRASH_AFTER_MS") {
        let after = Duration::from_millis(after.parse().unwrap_or(0));
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            eprintln!("test-service: crashing on purpose");
            std::process::exit(3);
        });
    }

    let app = Router::new()
        .route("/ready", get(ready))
        .route("/healthz", get(live))
        .route("/slow", get(slow))
        .with_state(Arc::clone(&service));
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("test-service: cannot listen on {addr}: {e}");
            std::process::exit(2);
        }
    };
    eprintln!("test-service: listening on {addr}");
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    let shutdown_service = Arc::clone(&service);
    let shutdown = async move {
        sigterm.recv().await;
        if abrupt {
            // The mistake the grace drill catches: in-flight requests die with the process.
            std::process::exit(0);
        }
        shutdown_service.terminating.store(true, Ordering::SeqCst);
        // Keep accepting while the load balancer notices readiness failing.
        tokio::time::sleep(drain).await;
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .expect("server runs");
    eprintln!("test-service: drained, exiting 0");
}

async fn ready(State(service): State<Arc<Service>>) -> Response {
    if service.terminating.load(Ordering::SeqCst) {
        return health(
            StatusCode::SERVICE_UNAVAILABLE,
            "fail",
            "pass",
            "shutting down",
        );
    }
    if !service.ready_pings {
        return (StatusCode::OK, "OK").into_response();
    }
    match ping(service.dep.as_deref(), service.postgres).await {
        Ok(()) => health(StatusCode::OK, "pass", "pass", "ok"),
        Err(reason) => health(StatusCode::SERVICE_UNAVAILABLE, "fail", "fail", &reason),
    }
}

async fn live(State(service): State<Arc<Service>>) -> Response {
    if service.live_pings
        && let Err(reason) = ping(service.dep.as_deref(), service.postgres).await
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("dependency: {reason}"),
        )
            .into_response();
    }
    (StatusCode::OK, "ok").into_response()
}

async fn slow(Query(query): Query<HashMap<String, u64>>) -> impl IntoResponse {
    let ms = query.get("ms").copied().unwrap_or(1000);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    (StatusCode::OK, format!("slept {ms} ms"))
}

/// An `application/health+json` body naming the dependency as `db`.
fn health(code: StatusCode, status: &str, db: &str, output: &str) -> Response {
    let body = serde_json::json!({
        "status": status,
        "checks": {"db:connectivity": [{"status": db, "output": output}]},
    });
    (
        code,
        [(header::CONTENT_TYPE, "application/health+json")],
        body.to_string(),
    )
        .into_response()
}

/// A real round trip to the dependency: connect, send a line, read it back, all within 300 ms.
/// A connect alone would pass against a blackholed dependency that accepts and never answers.
async fn ping(dep: Option<&str>, postgres: bool) -> Result<(), String> {
    let dep = dep.ok_or("TS_DEP is not set")?;
    let attempt = async {
        let stream = tokio::net::TcpStream::connect(dep)
            .await
            .map_err(|e| format!("connect {dep}: {e}"))?;
        if postgres {
            return postgres_ping(stream).await;
        }
        let (read, mut write) = stream.into_split();
        write
            .write_all(b"ping\n")
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut line = String::new();
        BufReader::new(read)
            .read_line(&mut line)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if line.trim() == "ping" {
            Ok(())
        } else {
            Err(format!("unexpected answer {line:?}"))
        }
    };
    tokio::time::timeout(Duration::from_millis(300), attempt)
        .await
        .map_err(|_| format!("{dep} did not answer within 300 ms"))?
}

/// PostgreSQL's SSLRequest (length 8, code 80877103): the server answers one byte, `S` or `N`,
/// before any authentication. A real protocol round trip without a client library.
async fn postgres_ping(mut stream: tokio::net::TcpStream) -> Result<(), String> {
    use tokio::io::AsyncReadExt;
    stream
        .write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = [0u8; 1];
    stream
        .read_exact(&mut answer)
        .await
        .map_err(|e| format!("read: {e}"))?;
    match answer[0] {
        b'S' | b'N' => Ok(()),
        other => Err(format!("unexpected answer {other:#x} from PostgreSQL")),
    }
}
