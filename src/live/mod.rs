//! The live drills' machinery, shared by the `readiness` cut drill and the `grace` SIGTERM
//! drill: what it takes to run an experiment against a real service. No rule lives here; each
//! check judges what its drill observed.
//!
//! - [`observe`]: the probe client and one GET with a capped body and a total timeout.
//! - [`proxy`]: the TCP proxy gonogo puts before a dependency, with its two cut modes.
//! - [`process`]: a service gonogo starts (`command`), killed with its process group on every
//!   exit path.
//! - [`interrupt`]: Ctrl-C, SIGTERM and SIGHUP end drills cleanly.
//! - [`wait_ready`], [`ca_file`], [`human`]: starting up, trusting a private CA, saying how long.

pub mod interrupt;
pub mod observe;
pub mod process;
pub mod proxy;

use crate::context::Context;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a service gonogo started gets to become ready (`startup_timeout`'s default).
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Poll readiness until it succeeds: the service gonogo started is up.
pub async fn wait_ready(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    startup_timeout: Duration,
) -> Result<Duration, String> {
    let started = Instant::now();
    let mut last;
    loop {
        match observe::get(client, url, timeout).await {
            Ok(answer) if answer.success() => return Ok(started.elapsed()),
            Ok(answer) => last = format!("HTTP {}", answer.status),
            // A rejected certificate stays rejected however long the service takes to start.
            Err(e) if e.starts_with(observe::CERTIFICATE_REJECTED) => {
                return Err(format!("readiness at {url}: {e}"));
            }
            Err(e) => last = e,
        }
        if started.elapsed() >= startup_timeout {
            return Err(format!(
                "the service did not become ready within {} (readiness at {url}: {last})",
                human(startup_timeout)
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `checks.readiness.ca_file` resolved against the project root (an absolute path stays as it
/// is); the grace drill's client trusts the same CA, since it polls the same readiness URL.
pub fn ca_file(ctx: &Context) -> Option<PathBuf> {
    let config = ctx.config.checks.readiness.as_ref()?;
    config
        .ca_file
        .as_ref()
        .map(|path| ctx.root.join(path.as_str()))
}

/// `0.31s`, `3s`, `12.5s`: seconds with at most two decimals.
pub fn human(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    let text = format!("{seconds:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_millis(310)), "0.31s");
        assert_eq!(human(Duration::from_secs(3)), "3s");
        assert_eq!(human(Duration::from_millis(12_500)), "12.5s");
    }
}
