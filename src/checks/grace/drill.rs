//! The live SIGTERM drill (`grace.command`, `grace.url`): start the service, wait until it is
//! ready, keep N long requests in flight, send SIGTERM (to the process, as the kubelet does to
//! a container's PID 1) and watch: every in-flight request must complete with success,
//! readiness should turn unready soon, a new connection during the drain must be served or
//! cleanly refused, and the process must exit 0 within terminationGracePeriodSeconds.
//! [`run`] records a [`Timeline`]; [`judge`] turns it into findings and is pure.

use crate::config::NewConnections;
use crate::context::Context;
use crate::declare_rule;
use crate::live::{human, interrupt, observe, process};
use crate::report::Finding;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Readiness still successful this long after SIGTERM (while the process runs) warns.
pub const READINESS_DROP_SECONDS: f64 = 1.0;
const DEFAULT_REQUESTS: u32 = 5;
/// How long the long requests get to reach the service before SIGTERM.
const IN_FLIGHT_DELAY: Duration = Duration::from_millis(300);
const POLL: Duration = Duration::from_millis(50);

declare_rule! {
    /// ## What it catches
    /// In the SIGTERM drill, a request that was in flight when SIGTERM arrived and did not
    /// complete with success (2xx/3xx): the connection was closed, reset, or the answer was an
    /// error.
    ///
    /// ## Why it matters during a deploy
    /// Every rollout sends SIGTERM to every old pod. A service that drops what it is doing on
    /// SIGTERM fails the requests in flight on each pod, on every deploy: users see errors that
    /// no dashboard ties to the release.
    ///
    /// ## Example
    /// ```text
    /// 5 of 5 in-flight requests failed: connection closed before message completed (+3ms)
    /// ```
    ///
    /// ## Do this instead
    /// On SIGTERM stop accepting new connections and let the server finish the open requests
    /// before exiting (Go `http.Server.Shutdown`, axum `with_graceful_shutdown`, Node
    /// `server.close()`, Spring `server.shutdown=graceful`).
    pub IN_FLIGHT_FAILED = ("grace/in-flight-failed", Fail, "requests in flight at SIGTERM did not complete");
}

declare_rule! {
    /// ## What it catches
    /// In the SIGTERM drill, readiness still successful more than 1 s after SIGTERM while the
    /// process keeps running.
    ///
    /// ## Why it matters during a deploy
    /// Kubernetes removes a terminating pod from the Service's endpoints on its own, but load
    /// balancers and meshes that health-check the pod directly keep sending it traffic until
    /// readiness fails. Failing readiness on SIGTERM is what makes them stop.
    ///
    /// ## Example
    /// ```text
    /// readiness still answered 200 4.2s after SIGTERM
    /// ```
    ///
    /// ## Do this instead
    /// Set a "terminating" flag on SIGTERM that makes readiness answer 503, keep serving for
    /// the preStop/deregistration delay, then drain and exit.
    pub READINESS_STAYS_UP = ("grace/readiness-stays-up", Warn, "readiness stays up after SIGTERM");
}

declare_rule! {
    /// ## What it catches
    /// In the SIGTERM drill, a new connection during the drain that was neither served nor
    /// cleanly refused (reset, or accepted and never answered), or that did not match
    /// `grace.new_connections` (`served`, `refused`, default `either`).
    ///
    /// ## Why it matters during a deploy
    /// Until every load balancer has noticed, new connections still arrive. A refused connect
    /// is retried elsewhere by most clients and proxies; a reset or a hang in the middle of a
    /// request is an error for the user.
    ///
    /// ## Example
    /// ```text
    /// a new connection 0.6s after SIGTERM: no complete answer within 1s
    /// ```
    ///
    /// ## Do this instead
    /// Keep accepting and serving during the preStop delay, then close the listener before
    /// draining (so later connects are refused, not left in the accept backlog).
    pub NEW_CONNECTION_BROKEN = ("grace/new-connection-broken", Fail, "a new connection during the drain was neither served nor refused");
}

declare_rule! {
    /// ## What it catches
    /// In the SIGTERM drill, a process that exited with a non-zero status or died of the
    /// signal, or that did not exit within terminationGracePeriodSeconds (from the manifests,
    /// else `grace.termination_grace_seconds`, else 30 s) and was killed.
    ///
    /// ## Why it matters during a deploy
    /// After the grace period Kubernetes sends SIGKILL: whatever the process was still doing
    /// is lost. A non-zero exit is recorded as a failure and, under `restartPolicy: Always`
    /// and in Jobs, can be mistaken for a crash.
    ///
    /// ## Example
    /// ```text
    /// the process was still running 30s after SIGTERM (terminationGracePeriodSeconds): killed
    /// ```
    ///
    /// ## Do this instead
    /// Handle SIGTERM: drain, close connections and exit 0 well within the grace period; raise
    /// terminationGracePeriodSeconds when the longest request needs more.
    pub EXIT_NOT_CLEAN = ("grace/exit-not-clean", Fail, "the process did not exit 0 within the grace period");
}

declare_rule! {
    /// ## What it catches
    /// Nothing wrong: the SIGTERM drill's timeline (ms after SIGTERM) when the service drained
    /// as it should.
    ///
    /// ## Why it matters during a deploy
    /// The drain time is part of every rollout's length; the timeline shows where it goes.
    ///
    /// ## Example
    /// ```text
    /// SIGTERM: readiness 503 +2ms; 5/5 requests 200 by +1.5s; exit 0 at +1.52s (grace 30s)
    /// ```
    ///
    /// ## Do this instead
    /// Nothing to do.
    pub DRILL_TIMELINE = ("grace/drill-timeline", Info, "what the SIGTERM drill observed");
}

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
    let (grace, grace_source) = grace_period(ctx, config.termination_grace_seconds);
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
        startup_timeout: config
            .startup_timeout
            .map_or(crate::live::DEFAULT_STARTUP_TIMEOUT, |t| t.0),
        ca_file: crate::live::ca_file(ctx),
    }))
}

/// terminationGracePeriodSeconds: the workload named like `service:`, else the shortest in the
/// manifests; else the config; else Kubernetes' 30 s.
fn grace_period(ctx: &Context, configured: Option<f64>) -> (Duration, String) {
    let service = ctx.config.service.as_ref().map(|s| s.as_str().to_string());
    let from_manifests = ctx.kubernetes().ok().and_then(|loaded| {
        let candidates: Vec<(bool, i64, String)> = loaded
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
                Some((
                    service.as_deref() == Some(w.meta.name.as_str()),
                    seconds,
                    w.meta.display(),
                ))
            })
            .collect();
        candidates
            .iter()
            .filter(|c| c.0)
            .min_by_key(|c| c.1)
            .or_else(|| candidates.iter().min_by_key(|c| c.1))
            .map(|c| {
                (
                    // The manifest reader keeps this within 0..=i32::MAX; clamp anyway so a
                    // negative number can never wrap into centuries.
                    Duration::from_secs(u64::try_from(c.1).unwrap_or(0)),
                    format!("{}'s terminationGracePeriodSeconds", c.2),
                )
            })
    });
    from_manifests
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
    /// Reset, timeout, garbage.
    Broken(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub grace: Duration,
    pub new_connections: NewConnections,
    /// Each in-flight request: when it ended (from SIGTERM) and how.
    pub requests: Vec<(Duration, Result<u16, String>)>,
    /// Readiness polls after SIGTERM, each a new connection.
    pub polls: Vec<(Duration, Answer)>,
    /// When the process exited and how; `None`: still running at the grace period (killed).
    pub exit: Option<(Duration, Option<i32>, String)>,
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
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    };
    timeline.exit = exited.map(|status| {
        (
            sent.elapsed(),
            status.code(),
            process::describe_exit(status),
        )
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
        Err(reason) => Answer::Broken(short(&reason)),
    }
}

fn short(reason: &str) -> String {
    let last = reason.rsplit(": ").next().unwrap_or(reason);
    if last.len() < 8 {
        reason.to_string()
    } else {
        last.to_string()
    }
}

fn ms(duration: Duration) -> String {
    format!("+{}ms", duration.as_millis())
}

/// The findings for a drill's timeline. Pure.
pub fn judge(t: &Timeline) -> Vec<Finding> {
    let mut findings = Vec::new();
    let text = timeline_text(t);

    let failed: Vec<&(Duration, Result<u16, String>)> = t
        .requests
        .iter()
        .filter(|(_, r)| !matches!(r, Ok(s) if observe::is_success(*s)))
        .collect();
    if let Some((at, first)) = failed.first() {
        let how = match first {
            Ok(status) => format!("HTTP {status}"),
            Err(e) => e.clone(),
        };
        findings.push(
            IN_FLIGHT_FAILED
                .finding(format!(
                    "{} of {} requests in flight at SIGTERM did not complete: {how} ({})",
                    failed.len(),
                    t.requests.len(),
                    ms(*at)
                ))
                .with_evidence(text.clone())
                .with_fix("handle SIGTERM: stop accepting, finish the open requests, then exit"),
        );
    }

    let running_until = t.exit.as_ref().map_or(t.grace, |e| e.0);
    let last_ready = t
        .polls
        .iter()
        .take_while(|(_, a)| matches!(a, Answer::Http(_, true)))
        .last();
    if let Some((at, _)) = last_ready
        && at.as_secs_f64() > READINESS_DROP_SECONDS
        && running_until.as_secs_f64() > READINESS_DROP_SECONDS
    {
        findings.push(
            READINESS_STAYS_UP
                .finding(format!(
                    "readiness still answered success {} after SIGTERM",
                    human(*at)
                ))
                .with_evidence(text.clone())
                .with_fix("answer 503 from readiness as soon as SIGTERM arrives"),
        );
    }

    let unwanted = t.polls.iter().find(|(_, answer)| {
        matches!(
            (answer, t.new_connections),
            (Answer::Broken(_), _)
                | (Answer::Refused, NewConnections::Served)
                | (Answer::Http(..), NewConnections::Refused)
        )
    });
    if let Some((at, answer)) = unwanted {
        let what = match answer {
            Answer::Broken(reason) => reason.clone(),
            Answer::Refused => "refused, but grace.new_connections is `served`".to_string(),
            Answer::Http(status, _) => {
                format!("served (HTTP {status}), but grace.new_connections is `refused`")
            }
        };
        findings.push(
            NEW_CONNECTION_BROKEN
                .finding(format!(
                    "a new connection {} after SIGTERM: {what}",
                    human(*at)
                ))
                .with_evidence(text.clone()),
        );
    }

    match &t.exit {
        None => findings.push(
            EXIT_NOT_CLEAN
                .finding(format!(
                    "the process was still running {} after SIGTERM (the grace period): killed with SIGKILL",
                    human(t.grace)
                ))
                .with_evidence(text.clone()),
        ),
        Some((at, code, how)) if *code != Some(0) => findings.push(
            EXIT_NOT_CLEAN
                .finding(format!("the process ended with {how} {} after SIGTERM", human(*at)))
                .with_evidence(text.clone())
                .with_fix("handle SIGTERM and exit with status 0 once drained"),
        ),
        Some(_) => {}
    }
    if findings.is_empty() {
        findings.push(DRILL_TIMELINE.finding(summary(t)).with_evidence(text));
    }
    findings
}

/// One line for the check's summary.
pub fn summary(t: &Timeline) -> String {
    let ok = t
        .requests
        .iter()
        .filter(|(_, r)| matches!(r, Ok(s) if observe::is_success(*s)))
        .count();
    let unready = t
        .polls
        .iter()
        .find(|(_, a)| !matches!(a, Answer::Http(_, true)))
        .map(|(at, a)| format!("readiness {} {}", answer_text(a), ms(*at)))
        .unwrap_or_else(|| "readiness never failed".to_string());
    let exit = match &t.exit {
        Some((at, _, how)) => format!("{how} at {}", ms(*at)),
        None => format!("killed at the grace period ({})", human(t.grace)),
    };
    format!(
        "SIGTERM drill: {unready}; {ok}/{} in-flight requests succeeded; {exit} (grace {})",
        t.requests.len(),
        human(t.grace)
    )
}

fn answer_text(answer: &Answer) -> String {
    match answer {
        Answer::Http(status, _) => status.to_string(),
        Answer::Refused => "refused".to_string(),
        Answer::Broken(reason) => reason.clone(),
    }
}

/// Every event, ms after SIGTERM.
fn timeline_text(t: &Timeline) -> String {
    let mut lines = vec!["+0ms SIGTERM".to_string()];
    let mut previous: Option<String> = None;
    for (at, answer) in &t.polls {
        let text = answer_text(answer);
        if previous.as_deref() != Some(text.as_str()) {
            lines.push(format!("{} readiness (new connection): {text}", ms(*at)));
            previous = Some(text);
        }
    }
    for (at, result) in &t.requests {
        let how = match result {
            Ok(status) => format!("HTTP {status}"),
            Err(e) => e.clone(),
        };
        lines.push(format!("{} in-flight request ended: {how}", ms(*at)));
    }
    match &t.exit {
        Some((at, _, how)) => lines.push(format!("{} process exited: {how}", ms(*at))),
        None => lines.push(format!("{} SIGKILL (grace period)", ms(t.grace))),
    }
    lines.sort_by_key(|l| {
        l.trim_start_matches('+')
            .split("ms")
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    });
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn draining() -> Timeline {
        Timeline {
            grace: Duration::from_secs(30),
            new_connections: NewConnections::Either,
            requests: vec![(at(1500), Ok(200)), (at(1510), Ok(200))],
            polls: vec![
                (at(3), Answer::Http(503, false)),
                (at(60), Answer::Http(503, false)),
                (at(320), Answer::Refused),
            ],
            exit: Some((at(1520), Some(0), "exit status 0".to_string())),
        }
    }

    fn rules(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.rule.as_str()).collect()
    }

    #[test]
    fn a_draining_service_gets_a_timeline() {
        let findings = judge(&draining());
        assert_eq!(rules(&findings), ["grace/drill-timeline"]);
        let evidence = findings[0].evidence.as_deref().unwrap();
        assert!(
            evidence.starts_with("+0ms SIGTERM\n+3ms readiness (new connection): 503"),
            "{evidence}"
        );
        assert!(
            evidence.ends_with("+1520ms process exited: exit status 0"),
            "{evidence}"
        );
        assert!(
            findings[0].message.contains("readiness 503 +3ms; 2/2"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn an_abrupt_exit_fails_the_requests() {
        let t = Timeline {
            requests: vec![
                (
                    at(2),
                    Err("connection closed before message completed".into()),
                ),
                (
                    at(2),
                    Err("connection closed before message completed".into()),
                ),
            ],
            polls: vec![(at(4), Answer::Refused)],
            exit: Some((at(1), Some(0), "exit status 0".to_string())),
            ..draining()
        };
        let findings = judge(&t);
        assert_eq!(rules(&findings), ["grace/in-flight-failed"]);
        assert!(
            findings[0].message.starts_with("2 of 2 requests"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn readiness_up_new_connection_broken_and_exit() {
        let t = Timeline {
            polls: vec![
                (at(500), Answer::Http(200, true)),
                (at(1500), Answer::Http(200, true)),
                (
                    at(2600),
                    Answer::Broken("no complete answer within 1s".into()),
                ),
            ],
            exit: None,
            ..draining()
        };
        assert_eq!(
            rules(&judge(&t)),
            [
                "grace/readiness-stays-up",
                "grace/new-connection-broken",
                "grace/exit-not-clean"
            ]
        );
        let signal = Timeline {
            exit: Some((at(10), None, "killed by signal 15 (SIGTERM)".into())),
            ..draining()
        };
        assert!(judge(&signal)[0].message.contains("killed by signal 15"));
    }

    #[test]
    fn new_connection_expectations_follow_the_config() {
        let served_only = Timeline {
            new_connections: NewConnections::Served,
            ..draining()
        };
        assert_eq!(rules(&judge(&served_only)), ["grace/new-connection-broken"]);
        let refused_only = Timeline {
            new_connections: NewConnections::Refused,
            ..draining()
        };
        assert_eq!(
            rules(&judge(&refused_only)),
            ["grace/new-connection-broken"]
        );
    }
}
