//! The judgement of a SIGTERM drill: the grace rules, each a pure function of the recorded
//! [`Timeline`], and the summary and evidence text. The drill itself (start, SIGTERM, watch) is
//! in the parent module; nothing here does I/O, so every verdict is tested on a written timeline.

use super::{Answer, READINESS_DROP_SECONDS, Timeline, is_reset};
use crate::config::NewConnections;
use crate::declare_rule;
use crate::live::{human, observe};
use crate::report::Finding;
use std::time::Duration;

declare_rule! {
    order: 70;
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
    order: 80;
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
    order: 90;
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
    order: 100;
    /// ## What it catches
    /// In the SIGTERM drill, a service with no preStop delay (none in the manifests, no
    /// `grace.prestop_seconds`) that stops accepting new connections before Kubernetes can
    /// have removed it from the endpoints (2 s, or `grace.lb_deregistration_seconds`). The
    /// finding says how many of the drill's new connections around that instant were reset.
    ///
    /// ## Why it matters during a deploy
    /// Kubernetes sends SIGTERM and removes the pod's endpoints at the same time. Connections
    /// routed to the pod before every node has seen the change are refused once the listener
    /// is closed, and those already in its accept queue at the instant it closes are reset:
    /// errors on every deploy, a few per pod, that come and go with timing (the drill saw them
    /// in some runs and not others, so the verdict rests on the cause, not on the luck of a
    /// probe).
    ///
    /// ## Example
    /// ```text
    /// the service stopped accepting new connections 0.05s after SIGTERM, with no preStop
    /// delay, while Kubernetes may still route new connections to it for 2s: 1 of 7 new
    /// connections up to then was reset at its close (+48ms)
    /// ```
    ///
    /// ## Do this instead
    /// Give the pod a preStop delay at least as long as the load balancer's deregistration
    /// (`lifecycle.preStop.sleep.seconds`, or `exec: [sleep, "10"]`), so SIGTERM comes after
    /// new traffic has stopped; or keep accepting for that long after SIGTERM before closing
    /// the listener. Tell the drill with `grace.prestop_seconds` when no manifest says it.
    pub LISTENER_CLOSE_RACE = ("grace/listener-close-race", Warn, "the listener closes while Kubernetes may still route new connections to it");
}

declare_rule! {
    order: 110;
    /// ## What it catches
    /// In the SIGTERM drill, a process that did not exit within terminationGracePeriodSeconds
    /// (from the manifests, else `grace.termination_grace_seconds`, else 30 s) and was killed,
    /// or that ended with a non-zero status or a signal other than the SIGTERM it was sent.
    /// Ending by SIGTERM itself (or status 143, 128 + 15) after the drain is a normal stop:
    /// uvicorn re-raises the SIGTERM it caught once it has drained, so that supervisors see
    /// the conventional status, and Kubernetes and systemd treat it as a stop, not a crash.
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
    /// Handle SIGTERM: drain, close connections and exit (0, or by the SIGTERM itself) well
    /// within the grace period; raise terminationGracePeriodSeconds when the longest request
    /// needs more.
    pub EXIT_NOT_CLEAN = ("grace/exit-not-clean", Fail, "the process did not stop cleanly within the grace period");
}

declare_rule! {
    order: 120;
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

fn ms(duration: Duration) -> String {
    format!("+{}ms", duration.as_millis())
}

/// The findings for a drill's timeline. Pure.
pub fn judge(t: &Timeline) -> Vec<Finding> {
    let mut findings = Vec::new();
    let text = timeline_text(t);
    findings.extend(in_flight_failed(t, &text));
    findings.extend(readiness_stays_up(t, &text));
    findings.extend(new_connections(t, &text));
    findings.extend(exit_not_clean(t, &text));
    if findings.is_empty() {
        findings.push(DRILL_TIMELINE.finding(summary(t)).with_evidence(text));
    }
    findings
}

fn in_flight_failed(t: &Timeline, text: &str) -> Option<Finding> {
    let failed: Vec<&(Duration, Result<u16, String>)> = t
        .requests
        .iter()
        .filter(|(_, r)| !matches!(r, Ok(s) if observe::is_success(*s)))
        .collect();
    let (at, first) = failed.first()?;
    let how = match first {
        Ok(status) => format!("HTTP {status}"),
        Err(e) => e.clone(),
    };
    let mut message = format!(
        "{} of {} requests in flight at SIGTERM did not complete: {how} ({})",
        failed.len(),
        t.requests.len(),
        ms(*at)
    );
    let mut fix = "handle SIGTERM: stop accepting, finish the open requests, then exit".to_string();
    // The server finished some requests and reset the others without an answer: it drains what
    // it accepted, so the reset ones were most likely still queued in the listen backlog, never
    // taken by a worker, and were reset when the listener closed (gunicorn sync workers with
    // more requests in flight than workers do exactly this).
    let succeeded = t.requests.len() - failed.len();
    if succeeded > 0
        && failed
            .iter()
            .all(|(_, r)| matches!(r, Err(e) if is_reset(e)))
    {
        message.push_str(&format!(
            "; {succeeded} others completed, so the server drains what it accepted: the reset ones were most likely still waiting in the listen backlog, never accepted by a worker (more concurrent requests than workers), and were reset when the listener closed"
        ));
        fix = "a preStop delay longer than the load balancer's deregistration, so the requests finish before SIGTERM; more workers, or threaded/async workers (gunicorn --worker-class gthread --threads N); a graceful timeout above the longest request (gunicorn --graceful-timeout)".to_string();
    }
    Some(
        IN_FLIGHT_FAILED
            .finding(message)
            .with_evidence(text.to_string())
            .with_fix(fix),
    )
}

fn readiness_stays_up(t: &Timeline, text: &str) -> Option<Finding> {
    let running_until = t.exit.as_ref().map_or(t.grace, |e| e.at);
    let (at, _) = t
        .polls
        .iter()
        .take_while(|(_, a)| matches!(a, Answer::Http(_, true)))
        .last()?;
    (at.as_secs_f64() > READINESS_DROP_SECONDS
        && running_until.as_secs_f64() > READINESS_DROP_SECONDS)
        .then(|| {
            READINESS_STAYS_UP
                .finding(format!(
                    "readiness still answered success {} after SIGTERM",
                    human(*at)
                ))
                .with_evidence(text.to_string())
                .with_fix("answer 503 from readiness as soon as SIGTERM arrives")
        })
}

/// When the service stopped accepting new connections: the first refused probe, else its
/// exit; `None` while it kept accepting until the grace period.
fn listener_closed_at(t: &Timeline) -> Option<Duration> {
    t.polls
        .iter()
        .find(|(_, a)| *a == Answer::Refused)
        .map(|(at, _)| *at)
        .or_else(|| t.exit.as_ref().map(|e| e.at))
}

/// Resets at the listener's closing instant: no probe was answered after them. Resets followed
/// by an answer, and hangs, are the service's own doing at any time.
fn closing_resets(t: &Timeline) -> Vec<Duration> {
    let last_answer = t
        .polls
        .iter()
        .rev()
        .find(|(_, a)| matches!(a, Answer::Http(..)))
        .map(|(at, _)| *at);
    t.polls
        .iter()
        .filter(|(at, a)| matches!(a, Answer::Reset(_)) && last_answer.is_none_or(|l| *at > l))
        .map(|(at, _)| *at)
        .collect()
}

/// New connections after SIGTERM, judged as Kubernetes routes them: without a preStop delay
/// the load balancer still sends them; with one, they are not its traffic any more, and only
/// an explicit `new_connections` expectation is held against them.
fn new_connections(t: &Timeline, text: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let race = closing_resets(t);
    let unwanted = t
        .polls
        .iter()
        .find(|(at, answer)| match (answer, t.new_connections) {
            (Answer::Refused, NewConnections::Served)
            | (Answer::Http(..), NewConnections::Refused) => true,
            (Answer::Broken(_) | Answer::Reset(_), _) => t.prestop.is_none() && !race.contains(at),
            _ => false,
        });
    if let Some((at, answer)) = unwanted {
        let what = match answer {
            Answer::Broken(reason) | Answer::Reset(reason) => reason.clone(),
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
                .with_evidence(text.to_string()),
        );
    }
    if t.prestop.is_none()
        && !t.polls.is_empty()
        && let Some(closed) = listener_closed_at(t)
        && closed < t.propagation
    {
        let around: usize = t.polls.iter().filter(|(at, _)| *at <= closed).count();
        let seen = match race.len() {
            0 => format!(
                "none of the {around} new connections up to then was reset in this run, but a connection in the accept queue at that instant is"
            ),
            n => format!(
                "{n} of {around} new connections up to then {} reset at its close ({})",
                if n == 1 { "was" } else { "were" },
                race.iter().map(|at| ms(*at)).collect::<Vec<_>>().join(", ")
            ),
        };
        findings.push(
            LISTENER_CLOSE_RACE
                .finding(format!(
                    "the service stopped accepting new connections {} after SIGTERM, with no preStop delay, while Kubernetes may still route new connections to it for {}: {seen}",
                    human(closed),
                    human(t.propagation)
                ))
                .with_evidence(text.to_string())
                .with_fix("a preStop delay at least as long as the load balancer's deregistration (lifecycle.preStop.sleep.seconds); tell the drill with grace.prestop_seconds when no manifest says it"),
        );
    }
    findings
}

fn exit_not_clean(t: &Timeline, text: &str) -> Option<Finding> {
    match &t.exit {
        None => Some(
            EXIT_NOT_CLEAN
                .finding(format!(
                    "the process was still running {} after SIGTERM (the grace period): killed with SIGKILL",
                    human(t.grace)
                ))
                .with_evidence(text.to_string()),
        ),
        Some(exit) if !exit.is_clean() => Some(
            EXIT_NOT_CLEAN
                .finding(format!(
                    "the process ended with {} {} after SIGTERM",
                    exit.how,
                    human(exit.at)
                ))
                .with_evidence(text.to_string())
                .with_fix("handle SIGTERM and exit with status 0 (or by the SIGTERM itself) once drained"),
        ),
        Some(_) => None,
    }
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
        Some(exit) if exit.is_sigterm() => format!(
            "{} at {} (the SIGTERM re-raised after the drain: a normal stop)",
            exit.how,
            ms(exit.at)
        ),
        Some(exit) => format!("{} at {}", exit.how, ms(exit.at)),
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
        Answer::Reset(reason) | Answer::Broken(reason) => reason.clone(),
    }
}

/// Every event, ms after SIGTERM.
fn timeline_text(t: &Timeline) -> String {
    let mut lines = vec![match &t.prestop {
        Some((delay, source)) => format!(
            "+0ms SIGTERM, after a preStop delay of {} ({source}): new connections from here on are past the endpoints' removal",
            human(*delay)
        ),
        None => {
            "+0ms SIGTERM (no preStop delay: the endpoints are removed from now on)".to_string()
        }
    }];
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
        Some(exit) => lines.push(format!("{} process exited: {}", ms(exit.at), exit.how)),
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
    use crate::checks::grace::drill::{ENDPOINT_PROPAGATION, Exit};

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn exited(ms: u64, code: Option<i32>, signal: Option<i32>) -> Option<Exit> {
        let how = match (code, signal) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            _ => "an unknown exit".to_string(),
        };
        Some(Exit {
            at: at(ms),
            code,
            signal,
            how,
        })
    }

    /// A service with a preStop delay that drains and exits 0.
    fn draining() -> Timeline {
        Timeline {
            grace: Duration::from_secs(30),
            new_connections: NewConnections::Either,
            prestop: Some((Duration::from_secs(5), "grace.prestop_seconds".to_string())),
            propagation: ENDPOINT_PROPAGATION,
            requests: vec![(at(1500), Ok(200)), (at(1510), Ok(200))],
            polls: vec![
                (at(3), Answer::Http(503, false)),
                (at(60), Answer::Http(503, false)),
                (at(320), Answer::Refused),
            ],
            exit: exited(1520, Some(0), None),
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
            evidence
                .starts_with("+0ms SIGTERM, after a preStop delay of 5s (grace.prestop_seconds)"),
            "{evidence}"
        );
        assert!(
            evidence.contains("\n+3ms readiness (new connection): 503"),
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
            exit: exited(1, Some(0), None),
            ..draining()
        };
        let findings = judge(&t);
        assert_eq!(rules(&findings), ["grace/in-flight-failed"]);
        assert!(
            findings[0].message.starts_with("2 of 2 requests"),
            "{}",
            findings[0].message
        );
        assert!(
            !findings[0].message.contains("backlog"),
            "nothing completed: no sign of a drain"
        );
    }

    #[test]
    fn a_reset_request_beside_drained_ones_is_explained_as_the_backlog() {
        let t = Timeline {
            requests: vec![
                (at(1189), Ok(200)),
                (at(1213), Ok(200)),
                (
                    at(1288),
                    Err("Connection reset by peer (os error 104)".into()),
                ),
            ],
            ..draining()
        };
        let findings = judge(&t);
        assert_eq!(rules(&findings), ["grace/in-flight-failed"]);
        let message = &findings[0].message;
        assert!(
            message.starts_with("1 of 3 requests in flight"),
            "{message}"
        );
        assert!(
            message.contains("never accepted by a worker (more concurrent requests than workers)"),
            "{message}"
        );
        assert!(
            findings[0]
                .fix
                .as_deref()
                .unwrap()
                .contains("--graceful-timeout"),
            "{:?}",
            findings[0].fix
        );
    }

    #[test]
    fn exiting_by_the_sigterm_after_a_drain_is_a_normal_stop() {
        for exit in [
            exited(1260, None, Some(libc::SIGTERM)),
            exited(1260, Some(143), None),
        ] {
            let t = Timeline { exit, ..draining() };
            let findings = judge(&t);
            assert_eq!(rules(&findings), ["grace/drill-timeline"]);
            assert!(
                findings[0]
                    .message
                    .contains("(the SIGTERM re-raised after the drain: a normal stop)"),
                "{}",
                findings[0].message
            );
        }
        for exit in [
            exited(10, None, Some(libc::SIGSEGV)),
            exited(10, Some(1), None),
            exited(10, None, Some(libc::SIGKILL)),
        ] {
            let t = Timeline { exit, ..draining() };
            assert_eq!(rules(&judge(&t)), ["grace/exit-not-clean"]);
        }
    }

    #[test]
    fn readiness_up_new_connection_broken_and_exit() {
        let t = Timeline {
            prestop: None,
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
    }

    /// The same service, with the probe hitting the closing instant or not: the same rules.
    #[test]
    fn the_listener_race_is_judged_by_its_cause_not_by_the_luck_of_a_probe() {
        let lucky = Timeline {
            prestop: None,
            polls: vec![(at(2), Answer::Http(200, true)), (at(54), Answer::Refused)],
            ..draining()
        };
        let unlucky = Timeline {
            prestop: None,
            polls: vec![
                (
                    at(0),
                    Answer::Reset("Connection reset by peer (os error 104)".into()),
                ),
                (at(52), Answer::Refused),
            ],
            ..draining()
        };
        assert_eq!(rules(&judge(&lucky)), ["grace/listener-close-race"]);
        assert_eq!(rules(&judge(&unlucky)), ["grace/listener-close-race"]);
        let seen = &judge(&unlucky)[0].message;
        assert!(
            seen.contains("1 of 2 new connections up to then was reset at its close (+0ms)"),
            "{seen}"
        );
        let unseen = &judge(&lucky)[0].message;
        assert!(
            unseen.contains("none of the 2 new connections up to then was reset in this run"),
            "{unseen}"
        );
        // With a preStop delay, Kubernetes stopped routing before SIGTERM: nothing to report.
        for t in [lucky, unlucky] {
            let with_prestop = Timeline {
                prestop: Some((Duration::from_secs(5), "x".into())),
                ..t
            };
            assert_eq!(rules(&judge(&with_prestop)), ["grace/drill-timeline"]);
        }
    }

    #[test]
    fn a_service_that_keeps_accepting_past_the_propagation_has_no_race() {
        let t = Timeline {
            prestop: None,
            polls: vec![
                (at(10), Answer::Http(503, false)),
                (at(2500), Answer::Refused),
            ],
            exit: exited(3000, Some(0), None),
            ..draining()
        };
        assert_eq!(rules(&judge(&t)), ["grace/drill-timeline"]);
    }

    #[test]
    fn a_reset_followed_by_answers_is_the_service_not_the_race() {
        let t = Timeline {
            prestop: None,
            polls: vec![
                (at(10), Answer::Reset("Connection reset by peer".into())),
                (at(30), Answer::Http(503, false)),
                (at(2500), Answer::Refused),
            ],
            exit: exited(3000, Some(0), None),
            ..draining()
        };
        assert_eq!(rules(&judge(&t)), ["grace/new-connection-broken"]);
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
