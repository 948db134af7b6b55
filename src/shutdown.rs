//! Ending a run cleanly: every process gonogo starts is gone when it exits, and SIGINT (Ctrl-C),
//! SIGTERM and SIGHUP all end a run the same way.
//!
//! - **Signals.** While checks run ([`listen`], called by the runner), the first of SIGINT,
//!   SIGTERM or SIGHUP interrupts the run: drills restore their proxies and stop their services,
//!   plugins are killed, every unfinished check reports `error: interrupted (<signal>)`, and the
//!   report is still printed (exit 1, as for any `error`). CI systems and process managers stop
//!   jobs with SIGTERM (Kubernetes, systemd, GitLab) or SIGINT then SIGTERM (GitHub Actions), and a
//!   closed terminal sends SIGHUP, so all three must leave nothing behind. A second signal quits at
//!   once with 128 + its number, after killing everything gonogo started.
//! - **Descendants.** Plugins and drill services run in process groups of their own, killed on
//!   every exit path. A process that leaves its group (`setsid`, a double-forking daemon) escapes
//!   that, so on Linux gonogo is a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`, Linux ≥ 3.4):
//!   orphaned descendants are re-parented to gonogo instead of init, stay in its process tree, and
//!   [`end_descendants`] kills the whole tree before gonogo exits. Elsewhere (macOS, the BSDs) it
//!   is best effort: the registered process groups are killed, and a process that left its group
//!   can outlive gonogo.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::watch;

/// Process groups of plugins and services that are running now.
fn groups() -> &'static Mutex<Vec<i32>> {
    static GROUPS: OnceLock<Mutex<Vec<i32>>> = OnceLock::new();
    GROUPS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Whether gonogo ever started a plugin or a service: only then is there a tree to sweep.
static STARTED_CHILDREN: AtomicBool = AtomicBool::new(false);
/// The first signal received (0: none yet).
static FIRST_SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Checks running now that end themselves cleanly on an interruption (the drills).
static CLEANING_CHECKS: AtomicUsize = AtomicUsize::new(0);

/// On Linux, adopt orphaned descendants (see the module docs). Call once, before starting
/// anything; a failure (a kernel older than 3.4) only weakens the guarantee to process groups.
pub fn become_subreaper() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(2) with PR_SET_CHILD_SUBREAPER only sets a flag on this process.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Remember a process group gonogo started (a plugin, a service), to kill it on a second
/// signal or at exit even when its owner never got to clean up.
pub fn register_group(pgid: i32) {
    if pgid > 0 {
        STARTED_CHILDREN.store(true, Ordering::SeqCst);
        groups()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(pgid);
    }
}

pub fn unregister_group(pgid: i32) {
    groups()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|g| *g != pgid);
}

/// kill(2); a negative pid is a process group. 0 and -1 are never signalled: they would mean
/// gonogo's own group and every process it may signal.
pub fn kill(pid: i32, signal: i32) {
    if pid == 0 || pid == -1 {
        return;
    }
    // SAFETY: kill(2) only sends a signal; no memory is touched.
    unsafe {
        libc::kill(pid, signal);
    }
}

fn receiver() -> watch::Receiver<bool> {
    static INTERRUPTED: OnceLock<watch::Receiver<bool>> = OnceLock::new();
    INTERRUPTED
        .get_or_init(|| {
            let (sender, receiver) = watch::channel(false);
            tokio::spawn(listener(sender));
            receiver
        })
        .clone()
}

async fn listener(sender: watch::Sender<bool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let streams = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    );
    let (Ok(mut interrupt), Ok(mut terminate), Ok(mut hangup)) = streams else {
        eprintln!("gonogo: cannot listen for SIGINT/SIGTERM/SIGHUP; a signal ends gonogo at once");
        return;
    };
    let mut streams = [
        (libc::SIGINT, &mut interrupt),
        (libc::SIGTERM, &mut terminate),
        (libc::SIGHUP, &mut hangup),
    ];
    let first = next_signal(&mut streams).await;
    FIRST_SIGNAL.store(first, Ordering::SeqCst);
    eprintln!(
        "gonogo: {}: ending the checks (restoring dependencies, stopping services and plugins) and printing the report; a second signal quits at once",
        signal_name(first)
    );
    sender.send_replace(true);
    let second = next_signal(&mut streams).await;
    eprintln!(
        "gonogo: {}: quitting at once; killing every process gonogo started",
        signal_name(second)
    );
    end_descendants();
    std::process::exit(128 + second);
}

async fn next_signal(streams: &mut [(i32, &mut tokio::signal::unix::Signal); 3]) -> i32 {
    let [(a, first), (b, second), (c, third)] = streams;
    tokio::select! {
        _ = first.recv() => *a,
        _ = second.recv() => *b,
        _ = third.recv() => *c,
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "Ctrl-C",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// Start listening for SIGINT, SIGTERM and SIGHUP (idempotent; needs a tokio runtime). From
/// then on the first of them interrupts the run instead of killing gonogo.
pub fn listen() {
    let _ = receiver();
}

/// Resolves once the run was interrupted by a signal.
pub async fn interrupted() {
    let mut receiver = receiver();
    loop {
        if *receiver.borrow_and_update() {
            return;
        }
        if receiver.changed().await.is_err() {
            // The listener's runtime is gone (only in tests that build several runtimes).
            std::future::pending::<()>().await;
        }
    }
}

/// What interrupted the run, for messages: "Ctrl-C", "SIGTERM" or "SIGHUP".
pub fn cause() -> &'static str {
    signal_name(FIRST_SIGNAL.load(Ordering::SeqCst))
}

/// Held by a check that ends itself cleanly when interrupted (restoring what it changed): while
/// one is held, the runner gives checks time to finish instead of cutting them off.
#[must_use = "the check counts as cleaning up only while the guard lives"]
pub struct Cleaning(());

impl Drop for Cleaning {
    fn drop(&mut self) {
        CLEANING_CHECKS.fetch_sub(1, Ordering::SeqCst);
    }
}

pub fn cleaning() -> Cleaning {
    CLEANING_CHECKS.fetch_add(1, Ordering::SeqCst);
    Cleaning(())
}

/// After an interruption: resolves when no check holds a [`Cleaning`] guard, or at `limit`.
pub async fn cleanups_finished(limit: Duration) {
    let until = tokio::time::Instant::now() + limit;
    while CLEANING_CHECKS.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Kill every process gonogo started and everything they started: the registered process
/// groups, and on Linux every process in gonogo's tree (orphans included, thanks to the
/// subreaper), reaping the ones that become gonogo's children. Call on every way out.
pub fn end_descendants() {
    if !STARTED_CHILDREN.load(Ordering::SeqCst) {
        return;
    }
    let registered: Vec<i32> = groups().lock().unwrap_or_else(|e| e.into_inner()).clone();
    for pgid in registered {
        kill(-pgid, libc::SIGKILL);
    }
    #[cfg(target_os = "linux")]
    linux::end_tree();
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    /// A descendant still running after this long is in uninterruptible sleep (a hung NFS
    /// mount); gonogo will not wait for it any longer.
    const SWEEP_LIMIT: Duration = Duration::from_secs(2);

    pub fn end_tree() {
        // SAFETY: getpid(2) cannot fail.
        let me = unsafe { libc::getpid() };
        let started = Instant::now();
        loop {
            let tree = descendants(me);
            if tree.is_empty() {
                return;
            }
            for process in &tree {
                if !process.zombie {
                    super::kill(process.pid, libc::SIGKILL);
                }
            }
            // Reap our own children (killed now, or orphans that died earlier): a zombie would
            // otherwise linger in gonogo's tree, and its children are re-parented to us next.
            for process in tree.iter().filter(|p| p.parent == me) {
                // SAFETY: waitpid(2) on our own child, without blocking.
                unsafe {
                    libc::waitpid(process.pid, std::ptr::null_mut(), libc::WNOHANG);
                }
            }
            if started.elapsed() > SWEEP_LIMIT {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub struct Process {
        pub pid: i32,
        pub parent: i32,
        pub zombie: bool,
    }

    /// Every process below `root` in the process tree, from /proc/<pid>/stat.
    pub fn descendants(root: i32) -> Vec<Process> {
        let mut children: HashMap<i32, Vec<Process>> = HashMap::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue; // exited meanwhile
            };
            // proc(5): "pid (comm) state ppid …"; comm may itself contain ") ", so split at
            // the last one.
            let mut fields = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest)
                .unwrap_or("")
                .split_whitespace();
            let state = fields.next().unwrap_or("");
            let Some(parent) = fields.next().and_then(|p| p.parse::<i32>().ok()) else {
                continue;
            };
            children.entry(parent).or_default().push(Process {
                pid,
                parent,
                zombie: matches!(state, "Z" | "X"),
            });
        }
        let mut found = Vec::new();
        let mut queue = vec![root];
        while let Some(parent) = queue.pop() {
            for process in children.remove(&parent).unwrap_or_default() {
                queue.push(process.pid);
                found.push(process);
            }
        }
        found
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn descendants_include_grandchildren_of_other_sessions() {
        // sh starts a `setsid sleep` (a new session, out of any group we know), then waits.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "setsid sleep 30 & echo $!; wait"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let grandchild: i32 = line.trim().parse().unwrap();
        // SAFETY: getpid(2) cannot fail.
        let me = unsafe { libc::getpid() };
        let tree: Vec<i32> = linux::descendants(me).iter().map(|p| p.pid).collect();
        assert!(tree.contains(&(child.id() as i32)), "{tree:?}");
        assert!(tree.contains(&grandchild), "{tree:?}");
        kill(grandchild, libc::SIGKILL);
        let _ = child.wait();
    }
}
