//! What the readiness and grace drill tests share: the test-service binary, a line-echo TCP
//! dependency, free ports, raw misbehaving HTTP servers, and reading gonogo's JSON report.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// `target/<profile>/examples/test-service`, next to this test binary's `deps/` directory.
/// `cargo test` builds examples; a narrower `cargo test --test readiness_live` does not, so it is
/// built here once when missing.
pub fn test_service() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>/deps/<test>");
        let path = profile_dir.join("examples/test-service");
        if !path.exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
            let mut build = Command::new(cargo);
            build
                .args(["build", "--example", "test-service"])
                .current_dir(env!("CARGO_MANIFEST_DIR"));
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let status = build.status().expect("cargo runs");
            assert!(
                status.success(),
                "cargo build --example test-service failed"
            );
        }
        assert!(path.exists(), "{} is missing", path.display());
        path
    })
    .clone()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real dependency: a TCP service that echoes every line back. Runs until the test ends.
pub fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { return };
                    if writer.write_all(format!("{line}\n").as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A server that accepts and never answers.
pub fn hanging_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    addr
}

/// A server that answers every request with `head` and then calls `body` with the socket.
pub fn raw_http_server(head: &'static str, body: fn(&mut TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                if stream.write_all(head.as_bytes()).is_ok() {
                    body(&mut stream);
                }
            });
        }
    });
    addr
}

/// Run gonogo on `dir` and return (exit code, the JSON report).
pub fn check_json(dir: &std::path::Path, only: &str) -> (i32, serde_json::Value, String) {
    let output = crate::common::gonogo()
        .args([
            "check",
            "--format",
            "json",
            "--deadline",
            "60s",
            "--only",
            only,
        ])
        .arg(dir)
        .output()
        .expect("gonogo runs");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("JSON report: {e}\nstdout: {stdout}\nstderr: {stderr}"));
    (output.status.code().unwrap_or(-1), report, stderr)
}

/// The check result with this id.
pub fn check<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no `{id}` in {report:#}"))
}

pub fn rules(check: &serde_json::Value) -> Vec<String> {
    check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

pub fn finding<'a>(check: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no `{rule}` finding in {check:#}"))
}

/// Whether a process is alive (a zombie counts as gone).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .next();
            !matches!(state, Some("Z") | Some("X"))
        }
        Err(_) => false,
    }
}

/// Read a pid file the test service writes, waiting briefly for it.
pub fn read_pid(path: &std::path::Path) -> i32 {
    for _ in 0..100 {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{} was never written", path.display());
}

pub fn start(command: &mut Command) -> std::process::Child {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gonogo starts")
}

/// A throwaway CA (`ca.pem`) and a certificate it signs for 127.0.0.1 (`server.pem`,
/// `server.key`), written to `dir`. P-256 keys: quick to generate, and rustls verifies them.
pub fn make_certificates(dir: &std::path::Path) {
    crate::common::pg::make_ca(dir, "ca");
    crate::common::pg::make_server_cert(dir, "127.0.0.1", "IP:127.0.0.1", "server.pem");
}

/// `openssl s_server -www` on 127.0.0.1 with the certificate from [`make_certificates`]: a real
/// TLS server answering `HTTP/1.0 200 ok` with a status page. Killed when dropped.
pub struct TlsServer {
    child: std::process::Child,
    pub port: u16,
}

impl TlsServer {
    pub fn start(dir: &std::path::Path) -> TlsServer {
        let port = free_port();
        let child = Command::new("openssl")
            .args(["s_server", "-www", "-quiet", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-cert", "server.pem", "-key", "server.key"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `openssl s_server` ({e}): install it with `apt-get install openssl`"
                )
            });
        let mut server = TlsServer { child, port };
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = server.child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!("openssl s_server exited with {status}: {stderr}");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("openssl s_server did not listen on 127.0.0.1:{port} within 5 s");
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
