//! Ctrl-C during a drill. The first SIGINT ends the drills cleanly: each one restores its
//! proxies, stops the service it started and reports `error: interrupted`, and the report is
//! still printed. A second SIGINT quits at once, after killing the process groups of the
//! services gonogo started (the proxies close with the process).
//!
//! Listening is installed only when a drill runs, so a run without drills keeps the default
//! Ctrl-C behaviour.

use std::sync::{Mutex, OnceLock};
use tokio::sync::watch;

fn groups() -> &'static Mutex<Vec<i32>> {
    static GROUPS: OnceLock<Mutex<Vec<i32>>> = OnceLock::new();
    GROUPS.get_or_init(|| Mutex::new(Vec::new()))
}

pub fn register_group(pgid: i32) {
    if pgid > 0 {
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

fn receiver() -> watch::Receiver<bool> {
    static INTERRUPTED: OnceLock<watch::Receiver<bool>> = OnceLock::new();
    INTERRUPTED
        .get_or_init(|| {
            let (sender, receiver) = watch::channel(false);
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_err() {
                    return;
                }
                eprintln!(
                    "gonogo: interrupted: ending the drills (restoring dependencies, stopping services); Ctrl-C again quits at once"
                );
                sender.send_replace(true);
                if tokio::signal::ctrl_c().await.is_ok() {
                    for pgid in groups().lock().unwrap_or_else(|e| e.into_inner()).iter() {
                        super::process::signal(-pgid, libc::SIGKILL);
                    }
                    std::process::exit(130);
                }
            });
            receiver
        })
        .clone()
}

/// Start listening for Ctrl-C (idempotent); call before a drill changes anything.
pub fn arm() {
    let _ = receiver();
}

/// Resolves when Ctrl-C was pressed during this run's drills.
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
