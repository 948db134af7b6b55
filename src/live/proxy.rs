//! The TCP proxy gonogo puts between the service and one dependency, so it can cut the
//! dependency and restore it. It lives only as long as the [`Proxy`] value: dropping it (the
//! drill ended, failed, panicked, hit its deadline or was interrupted) aborts the listener and
//! every connection task, so no cut outlives the run.

use crate::config::CutMode;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Cut(CutMode),
}

/// What went through the proxy: the drill checks that traffic flows before it cuts, otherwise a
/// cut that changes nothing proves nothing.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub bytes_from_upstream: AtomicU64,
    pub bytes_to_upstream: AtomicU64,
}

impl Stats {
    pub fn traffic(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
            + self.bytes_from_upstream.load(Ordering::Relaxed)
            + self.bytes_to_upstream.load(Ordering::Relaxed)
    }
}

pub struct Proxy {
    pub name: String,
    pub listen: SocketAddr,
    pub upstream: String,
    pub stats: Arc<Stats>,
    state: watch::Sender<State>,
    accept: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    /// Listen on `listen` and forward every connection to `upstream`.
    pub async fn start(name: &str, listen: &str, upstream: &str) -> Result<Proxy, String> {
        let listen_addr: SocketAddr = listen.parse().map_err(|_| {
            format!("the proxy for `{name}` cannot listen on `{listen}`: expected IP:PORT, e.g. 127.0.0.1:15432")
        })?;
        let listener = bind(name, listen_addr).await?;
        let (state, _) = watch::channel(State::Open);
        let mut proxy = Proxy {
            name: name.to_string(),
            listen: listen_addr,
            upstream: upstream.to_string(),
            stats: Arc::default(),
            state,
            accept: None,
            connections: Arc::default(),
        };
        proxy.spawn_accept(listener);
        Ok(proxy)
    }

    fn spawn_accept(&mut self, listener: TcpListener) {
        let state = self.state.subscribe();
        let upstream = self.upstream.clone();
        let stats = Arc::clone(&self.stats);
        let connections = Arc::clone(&self.connections);
        self.accept = Some(tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                stats.connections.fetch_add(1, Ordering::Relaxed);
                let task = tokio::spawn(connection(
                    client,
                    upstream.clone(),
                    state.clone(),
                    Arc::clone(&stats),
                ));
                let mut list = connections.lock().unwrap_or_else(|e| e.into_inner());
                list.retain(|t| !t.is_finished());
                list.push(task.abort_handle());
            }
        }));
    }

    /// Cut the dependency. `Close`: the listener closes (new connections are refused) and open
    /// connections are closed. `Blackhole`: connections are accepted and held, nothing is
    /// forwarded either way.
    pub async fn cut(&mut self, mode: CutMode) {
        self.state.send_replace(State::Cut(mode));
        if mode == CutMode::Close {
            if let Some(accept) = self.accept.take() {
                accept.abort();
                // Once the aborted task is dropped, so is the listener: from here connects are
                // refused, not accepted into a backlog that is reset a moment later.
                let _ = accept.await;
            }
            self.abort_connections();
        }
    }

    /// Forward again. Connections held by a blackhole are closed (as a real outage's connections
    /// end in timeouts) so the service reconnects; a closed listener is bound again.
    pub async fn restore(&mut self) -> Result<(), String> {
        let was = *self.state.borrow();
        self.state.send_replace(State::Open);
        if was == State::Cut(CutMode::Blackhole) {
            self.abort_connections();
        }
        if self.accept.is_none() {
            let listener = bind(&self.name, self.listen)
                .await
                .map_err(|e| format!("could not restore the dependency: {e}"))?;
            self.spawn_accept(listener);
        }
        Ok(())
    }

    fn abort_connections(&self) {
        let mut list = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        for task in list.drain(..) {
            task.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Every exit path ends here; aborted tasks drop their sockets, which closes them.
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        self.abort_connections();
    }
}

async fn bind(name: &str, addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr).await.map_err(|e| {
        let reason = if e.kind() == std::io::ErrorKind::AddrInUse {
            "the address is already in use (another process listens there: stop it or choose another port in `proxy.listen`)".to_string()
        } else {
            e.to_string()
        };
        format!("the proxy for `{name}` cannot listen on {addr}: {reason}")
    })
}

/// One client connection: forward both ways while open; on a cut, close (Close) or hold the
/// sockets without forwarding until restored (Blackhole).
async fn connection(
    mut client: TcpStream,
    upstream: String,
    mut state: watch::Receiver<State>,
    stats: Arc<Stats>,
) {
    let current = *state.borrow_and_update();
    match current {
        State::Cut(CutMode::Close) => return,
        State::Cut(CutMode::Blackhole) => {
            hold(&mut client, &mut state).await;
            return;
        }
        State::Open => {}
    }
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        return; // the dependency itself is down: the client sees the connection close
    };
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.split();
    let (mut server_read, mut server_write) = server.split();
    {
        let up = pump(
            &mut client_read,
            &mut server_write,
            &stats.bytes_to_upstream,
        );
        let down = pump(
            &mut server_read,
            &mut client_write,
            &stats.bytes_from_upstream,
        );
        tokio::pin!(up, down);
        let mut up_done = false;
        let mut down_done = false;
        loop {
            tokio::select! {
                _ = &mut up, if !up_done => {
                    up_done = true;
                    if down_done { return; }
                }
                _ = &mut down, if !down_done => {
                    down_done = true;
                    if up_done { return; }
                }
                changed = state.changed() => {
                    if changed.is_err() {
                        return; // the proxy is gone
                    }
                    match *state.borrow_and_update() {
                        State::Open => {}
                        State::Cut(CutMode::Close) => return,
                        // Stop forwarding, keep the client's socket open: its request hangs.
                        State::Cut(CutMode::Blackhole) => break,
                    }
                }
            }
        }
    }
    hold(&mut client_read, &mut state).await;
}

/// Accept and never answer: read and discard until the client leaves or the cut ends.
async fn hold<R: tokio::io::AsyncRead + Unpin>(client: &mut R, state: &mut watch::Receiver<State>) {
    let mut sink = [0u8; 4096];
    loop {
        tokio::select! {
            read = client.read(&mut sink) => {
                if matches!(read, Ok(0) | Err(_)) { return; }
            }
            changed = state.changed() => {
                if changed.is_err() || *state.borrow_and_update() == State::Open {
                    return; // closed on restore, so the client reconnects through a fresh connection
                }
            }
        }
    }
}

async fn pump<R, W>(reader: &mut R, writer: &mut W, counter: &AtomicU64)
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => {
                let _ = writer.shutdown().await;
                return;
            }
            Ok(n) => {
                // Counted as soon as read, before it is passed on: once the other side has the
                // bytes, the count already includes them (a test reads it right after).
                counter.fetch_add(n as u64, Ordering::Relaxed);
                if writer.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncBufReadExt, BufReader};

    async fn echo_server() -> (SocketAddr, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let (read, mut write) = stream.split();
                    let mut lines = BufReader::new(read).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let _ = write.write_all(format!("{line}\n").as_bytes()).await;
                    }
                });
            }
        });
        (addr, task)
    }

    async fn round_trip(addr: SocketAddr) -> Result<String, String> {
        let attempt = async {
            let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            stream
                .write_all(b"hello\n")
                .await
                .map_err(|e| e.to_string())?;
            let mut line = String::new();
            BufReader::new(&mut stream)
                .read_line(&mut line)
                .await
                .map_err(|e| e.to_string())?;
            if line.is_empty() {
                return Err("closed".to_string());
            }
            Ok(line.trim().to_string())
        };
        tokio::time::timeout(Duration::from_millis(300), attempt)
            .await
            .map_err(|_| "timeout".to_string())?
    }

    fn free_port() -> SocketAddr {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cuts_close_and_blackhole_then_restores() {
        let (upstream, _echo) = echo_server().await;
        let listen = free_port();
        let mut proxy = Proxy::start("echo", &listen.to_string(), &upstream.to_string())
            .await
            .unwrap();
        assert_eq!(round_trip(listen).await.unwrap(), "hello");
        assert!(proxy.stats.bytes_from_upstream.load(Ordering::Relaxed) > 0);

        // A connection open across the cut is closed by it.
        let mut open = TcpStream::connect(listen).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        proxy.cut(CutMode::Close).await;
        let err = round_trip(listen).await.unwrap_err();
        assert!(err.contains("refused"), "{err}");
        let mut buffer = [0u8; 8];
        let read = tokio::time::timeout(Duration::from_millis(500), open.read(&mut buffer)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");

        proxy.restore().await.unwrap();
        assert_eq!(round_trip(listen).await.unwrap(), "hello");

        proxy.cut(CutMode::Blackhole).await;
        assert_eq!(round_trip(listen).await.unwrap_err(), "timeout");
        proxy.restore().await.unwrap();
        assert_eq!(round_trip(listen).await.unwrap(), "hello");

        // Dropped: nothing listens any more.
        drop(proxy);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(round_trip(listen).await.unwrap_err().contains("refused"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn port_taken_is_a_clear_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let err = Proxy::start("db", &addr, "127.0.0.1:1")
            .await
            .err()
            .unwrap();
        assert!(err.contains("already in use"), "{err}");
        assert!(err.contains("`db`"), "{err}");
        let err = Proxy::start("db", "localhost", "127.0.0.1:1")
            .await
            .err()
            .unwrap();
        assert!(err.contains("IP:PORT"), "{err}");
    }
}
