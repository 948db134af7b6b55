//! Real DNS servers for the dns tests and the benchmark: hickory-server authoritative for the
//! zones under tests/fixtures/dns/, on 127.0.0.1 with ephemeral UDP and TCP ports, plus a
//! "server" that reads every query and never answers.
#![allow(dead_code)] // the tests and the benchmark use different parts

use hickory_proto::rr::{LowerName, Name, RecordSet, RrKey};
use hickory_proto::serialize::txt::Parser;
use hickory_server::Server;
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The test servers; they stop when this is dropped.
pub struct Lab {
    runtime: tokio::runtime::Runtime,
    /// example.test (serial 2026112301, low → 203.0.113.10) and cdn.test.
    pub ns1: SocketAddr,
    /// The same zones from a secondary that missed the last transfer: serial 2026112201,
    /// low → 198.51.100.7.
    pub ns2: SocketAddr,
    /// Reads queries and drops them.
    pub dead: SocketAddr,
    /// cdn.test's own server for the walk, on 127.0.0.2 and ns1's port (the walk asks every
    /// authoritative server on one port): edge.cdn.test has TTL 2400 s here, 120 s on ns1.
    pub cdn: SocketAddr,
}

impl Lab {
    pub fn start() -> Lab {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime for the test DNS servers");
        let (ns1, cdn, ns2, dead) = runtime.block_on(async {
            let (ns1, cdn) = serve_pair(
                &["example.test.zone", "cdn.test.zone"],
                &["cdn.test.edge.zone"],
            )
            .await;
            let ns2 = serve(&["example.test.stale.zone", "cdn.test.zone"]).await;
            let dead = black_hole().await;
            (ns1, cdn, ns2, dead)
        });
        Lab {
            runtime,
            ns1,
            ns2,
            dead,
            cdn,
        }
    }
}

fn fixture(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dns")
        .join(file)
}

fn zone(file: &str) -> (Name, BTreeMap<RrKey, RecordSet>) {
    let path = fixture(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Parser::new(text, Some(path.clone()), None)
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn catalog(files: &[&str]) -> Catalog {
    let mut catalog = Catalog::new();
    for file in files {
        let (origin, records) = zone(file);
        let handler = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
            origin.clone(),
            records,
            ZoneType::Primary,
            AxfrPolicy::Deny,
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        catalog.upsert(LowerName::new(&origin), vec![Arc::new(handler)]);
    }
    catalog
}

/// TCP and UDP sockets on one address (a truncated answer is asked again over TCP at the same
/// address); `None` when the port is taken.
async fn bind(addr: SocketAddr) -> Option<(tokio::net::TcpListener, tokio::net::UdpSocket)> {
    let tcp = tokio::net::TcpListener::bind(addr).await.ok()?;
    let addr = tcp.local_addr().ok()?;
    let udp = tokio::net::UdpSocket::bind(addr).await.ok()?;
    Some((tcp, udp))
}

fn start_server(files: &[&str], (tcp, udp): (tokio::net::TcpListener, tokio::net::UdpSocket)) {
    let mut server = Server::new(catalog(files));
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5), 64 * 1024);
    // The server's tasks live in its JoinSet: keep it alive for the runtime's lifetime.
    tokio::spawn(async move {
        let _ = server.block_until_done().await;
    });
}

/// An authoritative server for the zones in `files`, on one ephemeral port for UDP and TCP.
async fn serve(files: &[&str]) -> SocketAddr {
    for _ in 0..20 {
        if let Some(sockets) = bind("127.0.0.1:0".parse().unwrap()).await {
            let addr = sockets.0.local_addr().expect("local address");
            start_server(files, sockets);
            return addr;
        }
    }
    panic!("no free port pair on 127.0.0.1 for the test DNS server");
}

/// Two servers on the same ephemeral port, at 127.0.0.1 and 127.0.0.2 (Linux routes all of
/// 127/8 to the loopback interface).
async fn serve_pair(first: &[&str], second: &[&str]) -> (SocketAddr, SocketAddr) {
    for _ in 0..20 {
        let Some(one) = bind("127.0.0.1:0".parse().unwrap()).await else {
            continue;
        };
        let addr = one.0.local_addr().expect("local address");
        let other = SocketAddr::from(([127, 0, 0, 2], addr.port()));
        let Some(two) = bind(other).await else {
            continue;
        };
        start_server(first, one);
        start_server(second, two);
        return (addr, other);
    }
    panic!("no port free on both 127.0.0.1 and 127.0.0.2 for the test DNS servers");
}

/// A bound UDP socket that reads every query and answers none: a server that is down but
/// whose host still accepts the datagrams (no ICMP "port unreachable" to fail fast on).
async fn black_hole() -> SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind UDP on 127.0.0.1");
    let addr = socket.local_addr().expect("local address");
    tokio::spawn(async move {
        let mut buffer = [0u8; 4096];
        while socket.recv_from(&mut buffer).await.is_ok() {}
    });
    addr
}
