//! Interrupting a drill (Ctrl-C, SIGTERM, SIGHUP): the first signal ends the drills cleanly:
//! each one restores its proxies, stops the service it started and reports
//! `error: interrupted (<signal>)`, and the report is still printed. A second signal quits at
//! once, after killing everything gonogo started (the proxies close with the process).
//!
//! The machinery is run-wide and lives in [`crate::shutdown`]; this is the drills' view of it.

pub use crate::shutdown::{cause, interrupted};

/// Call before a drill changes anything, and hold the guard until it has cleaned up: while it
/// lives, an interrupted run waits for the drill to restore and report instead of cutting it off.
pub fn arm() -> crate::shutdown::Cleaning {
    crate::shutdown::listen();
    crate::shutdown::cleaning()
}
