//! The live SIGTERM drill (`grace.command`, `grace.url`): start the service, wait until it is
//! ready, keep N long requests in flight, send SIGTERM (to the process, as the kubelet does to
//! a container's PID 1) and watch: every in-flight request must complete with success,
//! readiness should turn unready soon, a new connection during the drain must be served or
//! cleanly refused, and the process must stop within terminationGracePeriodSeconds.
//! [`run`] records a [`Timeline`] (this module); [`judge`] turns it into findings and is pure
//! (`judge.rs`, with the rules it applies).
//!
//! The judgement follows what Kubernetes does when it deletes a pod: it removes the pod from
//! the endpoints and runs the preStop hook at the same time, and sends SIGTERM only after the
//! hook ("Termination of Pods", kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/).
//! With a preStop delay, the connections that reach the pod after SIGTERM are not load-balancer
//! traffic any more; without one, they are, and a listener that closes while the endpoints are
//! still being removed resets the connections caught in its accept queue at that instant. That
//! race is timing-dependent, so the verdict never rests on whether a probe happened to hit it:
//! the condition (no preStop delay, listener closed before the endpoints are gone) decides, and
//! what the probes saw is the evidence.

mod judge;

pub use judge::{
    DRILL_TIMELINE, EXIT_NOT_CLEAN, IN_FLIGHT_FAILED, LISTENER_CLOSE_RACE, NEW_CONNECTION_BROKEN,
    READINESS_STAYS_UP, judge, summary,
};

use crate::config::NewConnections;
use crate::context::Context;
use crate::live::{human, interrupt, observe, process};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Readiness still successful this long after SIGTERM (while the process runs) warns.
pub const READINESS_DROP_SECONDS: f64 = 1.0;
const DEFAULT_REQUESTS: u32 = 5;
/// How long the long requests get to reach the service before SIGTERM.
const IN_FLIGHT_DELAY: Duration = Duration::from_millis(300);
const POLL: Duration = Duration::from_millis(50);
/// Right after SIGTERM, where the listener usually closes, probes are this close together, so
/// the finding can say how often the closing instant reset a connection.
const FAST_POLL: Duration = Duration::from_millis(10);
const FAST_POLL_FOR: Duration = Duration::from_millis(1000);
/// How long Kubernetes typically keeps routing new connections to a deleted pod when nothing
/// says otherwise: the endpoint change has to reach every node's kube-proxy (or the load
/// balancer's controller). `grace.lb_deregistration_seconds` replaces it when set.
pub const ENDPOINT_PROPAGATION: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct Settings {
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub url: String,
    pub readiness_url: Option<String>,
    pub requests: u32,
    pub grace: Duration,
    pub grace_source: String,
    pub new_connections: NewConnections,
    /// The preStop delay Kubernetes runs before SIGTERM, and where it comes from; `None`:
    /// none known.
    pub prestop: Option<(Duration, String)>,
    /// How long new connections may still be routed to the pod after its deletion.
    pub propagation: Duration,
    pub startup_timeout: Duration,
    /// `checks.readiness.ca_file`: readiness is polled with the readiness drill's client.
    pub ca_file: Option<std::path::PathBuf>,
}

/// `None` when no drill is configured (no `grace.command`); `Some(Err)` when it cannot run as
/// written.
pub fn settings(ctx: &Context) -> Option<Result<Settings, String>> {
    let config = ctx.config.checks.grace.as_ref()?;
    if config.command.is_empty() {
        return None;
    }
    let Some(url) = &config.url else {
        return Some(Err(
            "checks.grace.url is needed for the SIGTERM drill (an endpoint that takes a few seconds, e.g. http://127.0.0.1:8080/slow)"
                .to_string(),
        ));
    };
    let readiness_url = config
        .readiness_url
        .as_ref()
        .or_else(|| ctx.config.checks.readiness.as_ref()?.url.as_ref())
        .map(|u| u.value.clone());
    let workload = workload_shutdown(ctx);
    let (grace, grace_source) = grace_period(workload.as_ref(), config.termination_grace_seconds);
    let prestop = workload
        .as_ref()
        .and_then(|w| w.prestop.clone())
        .or_else(|| {
            config
                .prestop_seconds
                .filter(|s| *s > 0.0)
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .map(|d| (d, "grace.prestop_seconds".to_string()))
        });
    let propagation = config
        .lb_deregistration_seconds
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(ENDPOINT_PROPAGATION);
    Some(Ok(Settings {
        command: config.command.iter().map(|c| c.value.clone()).collect(),
        env: config
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect(),
        url: url.value.clone(),
        readiness_url,
        requests: config.requests.unwrap_or(DEFAULT_REQUESTS).clamp(1, 100),
        grace,
        grace_source,
        new_connections: config.new_connections,
        prestop,
        propagation,
        startup_timeout: config
            .startup_timeout
            .map_or(crate::live::DEFAULT_STARTUP_TIMEOUT, |t| t.0),
        ca_file: crate::live::ca_file(ctx),
    }))
}

/// What the manifests say about the drilled service's shutdown: the workload named like
/// `service:`, else the one with the shortest grace period.
struct WorkloadShutdown {
    grace: Duration,
    grace_source: String,
    /// The longest preStop delay of known length among its containers.
    prestop: Option<(Duration, String)>,
}

fn workload_shutdown(ctx: &Context) -> Option<WorkloadShutdown> {
    let service = ctx.config.service.as_ref().map(|s| s.as_str().to_string());
    let loaded = ctx.kubernetes().ok()?;
    let candidates: Vec<(bool, i64, &crate::k8s::Workload)> = loaded
        .manifests
        .workloads
        .iter()
        .filter_map(|w| {
            let seconds = w
                .pod
                .as_ref()?
                .termination_grace_period_seconds
                .as_ref()?
                .value;
            Some((service.as_deref() == Some(w.meta.name.as_str()), seconds, w))
        })
        .collect();
    let (_, seconds, workload) = candidates
        .iter()
        .filter(|c| c.0)
        .min_by_key(|c| c.1)
        .or_else(|| candidates.iter().min_by_key(|c| c.1))?;
    let prestop = workload.pod.as_ref().and_then(|pod| {
        pod.containers
            .iter()
            .filter_map(
                |c| match super::termination::prestop_delay(c.pre_stop.as_ref()) {
                    super::termination::Delay::Seconds(n, _) if n > 0 => Some((n, &c.name)),
                    _ => None,
                },
            )
            .max_by_key(|(n, _)| *n)
            .map(|(n, container)| {
                (
                    Duration::from_secs(u64::try_from(n).unwrap_or(0)),
                    format!(
                        "the preStop hook of {}'s container {container}",
                        workload.meta.display()
                    ),
                )
            })
    });
    Some(WorkloadShutdown {
        // The manifest reader keeps this within 0..=i32::MAX; clamp anyway so a negative
        // number can never wrap into centuries.
        grace: Duration::from_secs(u64::try_from(*seconds).unwrap_or(0)),
        grace_source: format!(
            "{}'s terminationGracePeriodSeconds",
            workload.meta.display()
        ),
        prestop,
    })
}

/// terminationGracePeriodSeconds: from the manifests; else the config; else Kubernetes' 30 s.
fn grace_period(
    workload: Option<&WorkloadShutdown>,
    configured: Option<f64>,
) -> (Duration, String) {
    workload
        .map(|w| (w.grace, w.grace_source.clone()))
        .or_else(|| {
            // The config bounds this to 0..=86400 s; `try_from_secs_f64` instead of
            // `from_secs_f64` because the latter panics on a value past u64 seconds (1e20).
            configured
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .map(|grace| (grace, "grace.termination_grace_seconds".to_string()))
        })
        .unwrap_or((
            Duration::from_secs(30),
            "Kubernetes' default terminationGracePeriodSeconds".to_string(),
        ))
}

/// How one readiness poll (a fresh connection) went during the drain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP answer; `true` when 2xx/3xx.
    Http(u16, bool),
    Refused,
    /// Accepted, then closed or reset before any answer: what a listener closing with
    /// connections in its accept queue does to them.
    Reset(String),
    /// A timeout, or an answer that is not HTTP.
    Broken(String),
}

/// How the process ended after SIGTERM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// After SIGTERM.
    pub at: Duration,
    pub code: Option<i32>,
    pub signal: Option<i32>,
    /// "exit status 0", "killed by signal 15 (SIGTERM)".
    pub how: String,
}

impl Exit {
    /// Exit 0, or the SIGTERM it was sent: by the signal itself or by the shell convention
    /// 128 + 15 (a process that re-raises SIGTERM after draining, as uvicorn does).
    pub fn is_clean(&self) -> bool {
        self.code == Some(0)
            || self.code == Some(128 + libc::SIGTERM)
            || self.signal == Some(libc::SIGTERM)
    }

    fn is_sigterm(&self) -> bool {
        self.code != Some(0) && self.is_clean()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub grace: Duration,
    pub new_connections: NewConnections,
    /// The preStop delay before SIGTERM and its source; `None`: no preStop delay.
    pub prestop: Option<(Duration, String)>,
    /// How long after the deletion new connections may still be routed to the pod.
    pub propagation: Duration,
    /// Each in-flight request: when it ended (from SIGTERM) and how.
    pub requests: Vec<(Duration, Result<u16, String>)>,
    /// Readiness polls after SIGTERM, each a new connection.
    pub polls: Vec<(Duration, Answer)>,
    /// When the process exited and how; `None`: still running at the grace period (killed).
    pub exit: Option<Exit>,
}

/// Run the drill. `Err` when it cannot reach a decision (the service does not start or become
/// ready, the requests finish before SIGTERM, gonogo is interrupted).
pub async fn run(ctx: &Context, settings: &Settings) -> Result<Timeline, String> {
    let _cleaning = interrupt::arm();
    let request_timeout = settings.grace.saturating_add(Duration::from_secs(2));
    let client = observe::client(Duration::from_secs(2), settings.ca_file.as_deref())?;
    let mut service = process::Service::start(&settings.command, &settings.env, &ctx.root)?;
    let result = tokio::select! {
        r = drill(settings, &client, &mut service, request_timeout) => r,
        () = interrupt::interrupted() => Err(format!(
            "interrupted ({}) during the SIGTERM drill; the service was stopped",
            interrupt::cause()
        )),
    };
    service.stop(Duration::from_millis(100)).await;
    result
}

async fn drill(
    settings: &Settings,
    client: &reqwest::Client,
    service: &mut process::Service,
    request_timeout: Duration,
) -> Result<Timeline, String> {
    // Up: readiness when known, else the URL's port accepts connections.
    let ready = async {
        match &settings.readiness_url {
            Some(url) => crate::live::wait_ready(
                client,
                url,
                Duration::from_secs(2),
                settings.startup_timeout,
            )
            .await
            .map(|_| ()),
            None => wait_listening(&settings.url, settings.startup_timeout).await,
        }
    };
    tokio::select! {
        r = ready => r?,
        status = service.wait() => {
            let last = service.last_line_after_exit().await;
            return Err(format!(
                "the service (`{}`) exited before it was ready, with {}{}",
                service.shown,
                process::describe_exit(status),
                last.map(|l| format!("; its last output: {l}")).unwrap_or_default()
            ));
        }
    }

    // The long requests, then SIGTERM once they are in flight.
    let sigterm_at = std::sync::Arc::new(std::sync::OnceLock::<Instant>::new());
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..settings.requests {
        let client = client.clone();
        let url = settings.url.clone();
        let sigterm_at = std::sync::Arc::clone(&sigterm_at);
        requests.spawn(async move {
            let result = observe::get(&client, &url, request_timeout).await;
            let ended = Instant::now();
            let at = sigterm_at
                .get()
                .map(|t| ended.saturating_duration_since(*t));
            (at, result.map(|o| o.status).map_err(|e| short(&e)))
        });
    }
    tokio::time::sleep(IN_FLIGHT_DELAY).await;
    let sent = Instant::now();
    let _ = sigterm_at.set(sent);
    service.terminate();

    let mut timeline = Timeline {
        grace: settings.grace,
        new_connections: settings.new_connections,
        prestop: settings.prestop.clone(),
        propagation: settings.propagation,
        requests: Vec::new(),
        polls: Vec::new(),
        exit: None,
    };
    // Poll readiness (each poll a new connection) until the process exits or the grace period
    // ends; the kubelet's SIGKILL comes then.
    let poll_url = settings.readiness_url.clone();
    let exited = {
        let exit = async {
            tokio::time::timeout(settings.grace, service.wait())
                .await
                .ok()
        };
        tokio::pin!(exit);
        loop {
            let poll = async {
                match &poll_url {
                    Some(url) => {
                        let result = observe::get(client, url, Duration::from_secs(1)).await;
                        Some((sent.elapsed(), classify(result)))
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                status = &mut exit => break status,
                polled = poll => {
                    if let Some(p) = polled { timeline.polls.push(p); }
                    let pause = if sent.elapsed() < FAST_POLL_FOR { FAST_POLL } else { POLL };
                    tokio::time::sleep(pause).await;
                }
            }
        }
    };
    timeline.exit = exited.map(|status| {
        use std::os::unix::process::ExitStatusExt;
        Exit {
            at: sent.elapsed(),
            code: status.code(),
            signal: status.signal(),
            how: process::describe_exit(status),
        }
    });
    if timeline.exit.is_none() {
        // What the kubelet does at the end of the grace period.
        process::signal(-service.pid(), libc::SIGKILL);
    }
    while let Some(joined) = requests.join_next().await {
        match joined {
            Ok((Some(at), result)) => timeline.requests.push((at, result)),
            Ok((None, result)) => {
                return Err(format!(
                    "a request to {} finished before SIGTERM was sent ({}); point grace.url at an endpoint that takes a few seconds",
                    settings.url,
                    match result {
                        Ok(status) => format!("HTTP {status}"),
                        Err(e) => e,
                    }
                ));
            }
            Err(e) => return Err(format!("a drill request crashed: {e}")),
        }
    }
    timeline.requests.sort_by_key(|r| r.0);
    Ok(timeline)
}

async fn wait_listening(url: &str, limit: Duration) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("grace.url `{url}`: {e}"))?;
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let started = Instant::now();
    loop {
        if tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if started.elapsed() > limit {
            return Err(format!(
                "the service did not listen on {host}:{port} within {}",
                human(limit)
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn classify(result: Result<observe::Observation, String>) -> Answer {
    match result {
        Ok(answer) => Answer::Http(answer.status, answer.success()),
        Err(reason) if reason.contains("Connection refused") => Answer::Refused,
        Err(reason) if is_reset(&reason) => Answer::Reset(short(&reason)),
        Err(reason) => Answer::Broken(short(&reason)),
    }
}

/// The connection was accepted and then closed or reset before any answer (hyper and the OS
/// word it several ways), as opposed to a timeout or an answer that is not HTTP.
fn is_reset(reason: &str) -> bool {
    [
        "reset by peer",
        "connection closed before message completed",
        "Broken pipe",
        "unexpected end of file",
        "IncompleteMessage",
    ]
    .iter()
    .any(|needle| reason.contains(needle))
}

fn short(reason: &str) -> String {
    let last = reason.rsplit(": ").next().unwrap_or(reason);
    if last.len() < 8 {
        reason.to_string()
    } else {
        last.to_string()
    }
}
