//! The dependency cut: with traffic flowing through gonogo's proxy, cut the dependency, watch
//! readiness turn unready within the detection budget while liveness stays up, restore it and
//! watch readiness recover. [`cut_drill`] does the I/O and records a [`Timeline`]; [`judge`]
//! turns a timeline into findings and is pure.

use super::{
    CUT_NOT_DETECTED, DRILL_RESULT, LIVENESS_FAILS_ON_CUT, NO_RECOVERY, SOFT_DEPENDENCY_UNREADY,
};
use crate::config::CutMode;
use crate::live::human;
use crate::live::observe::{self, Observation};
use crate::live::proxy::Proxy;
use crate::report::Finding;
use std::time::{Duration, Instant};

/// One probe answer, timed from the cut (or the restore).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    /// When the answer (or the failure) arrived.
    pub at: Duration,
    pub ok: bool,
    /// `200`, `503`, `no complete answer within 1s`, `connection refused`…
    pub what: String,
}

impl Poll {
    fn from(started: Instant, result: &Result<Observation, String>) -> Poll {
        let at = started.elapsed();
        match result {
            Ok(answer) => Poll {
                at,
                ok: answer.success(),
                what: answer.status.to_string(),
            },
            Err(reason) => Poll {
                at,
                ok: false,
                what: short_reason(reason),
            },
        }
    }
}

/// The probe failure reason without reqwest's "error sending request for url (…)" preamble.
fn short_reason(reason: &str) -> String {
    let last = reason.rsplit(": ").next().unwrap_or(reason);
    if last.len() < 8 {
        reason.to_string()
    } else {
        last.to_string()
    }
}

/// What happened to one dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub name: String,
    pub soft: bool,
    pub mode: CutMode,
    pub budget: Duration,
    /// Bytes or connections went through the proxy while readiness was polled before the cut.
    pub traffic_before_cut: bool,
    /// Readiness during the cut, times from the cut.
    pub cut: Vec<Poll>,
    /// Readiness after the restore, times from the restore.
    pub restore: Vec<Poll>,
    /// Liveness during the cut and after the restore, times from the cut.
    pub liveness: Vec<Poll>,
}

/// The URLs and client a drill polls.
pub struct Probes<'a> {
    pub client: &'a reqwest::Client,
    pub readiness: &'a str,
    pub liveness: Option<&'a str>,
    pub timeout: Duration,
}

impl Probes<'_> {
    async fn both(
        &self,
    ) -> (
        Result<Observation, String>,
        Option<Result<Observation, String>>,
    ) {
        let readiness = observe::get(self.client, self.readiness, self.timeout);
        match self.liveness {
            Some(url) => {
                let (r, l) = tokio::join!(readiness, observe::get(self.client, url, self.timeout));
                (r, Some(l))
            }
            None => (readiness.await, None),
        }
    }
}

/// How often readiness is polled: a twentieth of the budget, between 50 ms and 1 s.
pub fn poll_interval(budget: Duration) -> Duration {
    (budget / 20).clamp(Duration::from_millis(50), Duration::from_secs(1))
}

/// Run the cut for one dependency. `Err` when the drill cannot reach a decision (readiness not
/// up before the cut, the proxy cannot be restored).
pub async fn cut_drill(
    probes: &Probes<'_>,
    proxy: &mut Proxy,
    soft: bool,
    mode: CutMode,
    budget: Duration,
) -> Result<Timeline, String> {
    let interval = poll_interval(budget);
    let name = proxy.name.clone();

    // Before: readiness must be up, and polling it should send traffic through the proxy.
    let traffic_at_start = proxy.stats.traffic();
    let started = Instant::now();
    let mut ready_polls = 0;
    let mut last = String::new();
    while ready_polls < 2 {
        let result = observe::get(probes.client, probes.readiness, probes.timeout).await;
        let poll = Poll::from(started, &result);
        if poll.ok {
            ready_polls += 1;
        } else {
            ready_polls = 0;
            last = poll.what;
        }
        if ready_polls < 2 {
            if started.elapsed() > budget {
                return Err(format!(
                    "readiness is not up before `{name}` is cut ({last} for {}); the drill needs a ready service",
                    human(budget)
                ));
            }
            tokio::time::sleep(interval).await;
        }
    }
    let traffic_before_cut = proxy.stats.traffic() > traffic_at_start;

    // The cut.
    proxy.cut(mode).await;
    let cut_at = Instant::now();
    let mut timeline = Timeline {
        name: name.clone(),
        soft,
        mode,
        budget,
        traffic_before_cut,
        cut: Vec::new(),
        restore: Vec::new(),
        liveness: Vec::new(),
    };
    loop {
        let round = Instant::now();
        let (readiness, liveness) = probes.both().await;
        let poll = Poll::from(cut_at, &readiness);
        let unready = !poll.ok;
        timeline.cut.push(poll);
        if let Some(liveness) = liveness {
            timeline.liveness.push(Poll::from(cut_at, &liveness));
        }
        // A hard dependency is done once readiness is down; a soft one is watched for the whole
        // budget (it must stay up all along).
        if (unready && !soft) || cut_at.elapsed() >= budget {
            break;
        }
        tokio::time::sleep(interval.saturating_sub(round.elapsed())).await;
    }

    // The restore.
    proxy.restore().await?;
    let restored_at = Instant::now();
    loop {
        let round = Instant::now();
        let (readiness, liveness) = probes.both().await;
        let poll = Poll::from(restored_at, &readiness);
        let ready = poll.ok;
        timeline.restore.push(poll);
        if let Some(liveness) = liveness {
            timeline.liveness.push(Poll::from(cut_at, &liveness));
        }
        if ready || restored_at.elapsed() >= budget {
            break;
        }
        tokio::time::sleep(interval.saturating_sub(round.elapsed())).await;
    }
    Ok(timeline)
}

/// The findings for one dependency's timeline. Pure.
pub fn judge(t: &Timeline) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mode = match t.mode {
        CutMode::Close => "connections refused",
        CutMode::Blackhole => "blackholed: accepted, never answered",
    };
    let first_unready = t.cut.iter().find(|p| !p.ok);
    let first_ready_again = t.restore.iter().find(|p| p.ok);
    let first_liveness_failure = t.liveness.iter().find(|p| !p.ok);
    let traffic_note = if t.traffic_before_cut {
        String::new()
    } else {
        format!(
            "; no traffic went through the proxy while readiness was polled before the cut, so readiness does not touch `{}` (or the service does not reach it through the proxy)",
            t.name
        )
    };

    if t.soft {
        if let Some(unready) = first_unready {
            findings.push(
                SOFT_DEPENDENCY_UNREADY
                    .finding(format!(
                        "readiness turned {} {} after the soft dependency `{}` was cut ({mode}); every replica would leave the load balancer for a dependency the service can do without",
                        unready.what,
                        human(unready.at),
                        t.name
                    ))
                    .with_evidence(timeline_text(t))
                    .with_fix(format!(
                        "degrade instead of failing readiness when `{}` is down (serve without it, report it in a non-readiness health check), or drop `soft: true` if the service cannot work without it",
                        t.name
                    )),
            );
        }
    } else {
        match first_unready {
            None => findings.push(
                CUT_NOT_DETECTED
                    .finding(format!(
                        "readiness stayed up for the whole detection budget of {} after `{}` was cut ({mode}){traffic_note}",
                        human(t.budget),
                        t.name
                    ))
                    .with_evidence(timeline_text(t))
                    .with_fix(format!(
                        "make the readiness handler check `{}` (a cheap round trip with a short timeout, e.g. `SELECT 1` with 1 s), and fail with 503 when it does not answer",
                        t.name
                    )),
            ),
            Some(_) if first_ready_again.is_none() => findings.push(
                NO_RECOVERY
                    .finding(format!(
                        "readiness did not recover within {} after `{}` was restored (last answer: {})",
                        human(t.budget),
                        t.name,
                        t.restore.last().map_or("none", |p| p.what.as_str())
                    ))
                    .with_evidence(timeline_text(t))
                    .with_fix(
                        "reconnect after a dependency failure: connection pools must drop broken connections and retry, not cache the failure",
                    ),
            ),
            Some(_) => {}
        }
    }
    if let Some(failure) = first_liveness_failure {
        findings.push(
            LIVENESS_FAILS_ON_CUT
                .finding(format!(
                    "liveness turned {} {} after `{}` was cut: Kubernetes would restart every pod during a dependency outage",
                    failure.what,
                    human(failure.at),
                    t.name
                ))
                .with_evidence(timeline_text(t))
                .with_fix(
                    "liveness checks only that the process answers; dependency checks belong in readiness",
                ),
        );
    }
    if findings.is_empty() {
        findings.push(
            DRILL_RESULT
                .finding(summary_line(t))
                .with_evidence(timeline_text(t)),
        );
    }
    findings
}

/// `db (close): unready after 0.31s, ready 0.25s after restore, liveness up (12 polls)`.
pub fn summary_line(t: &Timeline) -> String {
    let mode = match t.mode {
        CutMode::Close => "close",
        CutMode::Blackhole => "blackhole",
    };
    let unready = match (t.soft, t.cut.iter().find(|p| !p.ok)) {
        (true, None) => format!("stayed ready for {} (soft)", human(t.budget)),
        (_, None) => format!("stayed ready for {}", human(t.budget)),
        (_, Some(p)) => format!("unready after {} ({})", human(p.at), p.what),
    };
    let ready = match t.restore.iter().find(|p| p.ok) {
        Some(p) => format!("ready {} after restore", human(p.at)),
        None => format!("not ready {} after restore", human(t.budget)),
    };
    let liveness = if t.liveness.is_empty() {
        "liveness not configured".to_string()
    } else if t.liveness.iter().all(|p| p.ok) {
        format!("liveness up ({} polls)", t.liveness.len())
    } else {
        let failed = t.liveness.iter().filter(|p| !p.ok).count();
        format!("liveness failed {failed} of {} polls", t.liveness.len())
    };
    format!(
        "`{}` cut ({mode}, budget {}): {unready}, {ready}, {liveness}",
        t.name,
        human(t.budget)
    )
}

/// The polls as a compact timeline: `cut +0.05s 200, +0.31s 503 | restore +0.25s 200`.
fn timeline_text(t: &Timeline) -> String {
    let polls = |list: &[Poll]| {
        // Runs of the same answer collapse to their first and last poll.
        let mut out: Vec<String> = Vec::new();
        let mut index = 0;
        while index < list.len() {
            let mut end = index;
            while end + 1 < list.len() && list[end + 1].what == list[index].what {
                end += 1;
            }
            out.push(format!("+{} {}", human(list[index].at), list[index].what));
            if end > index {
                out.push(format!("…+{} {}", human(list[end].at), list[end].what));
            }
            index = end + 1;
        }
        out.join(", ")
    };
    let mut text = format!(
        "readiness after the cut: {}\nreadiness after the restore: {}",
        polls(&t.cut),
        polls(&t.restore)
    );
    if !t.liveness.is_empty() {
        text.push_str(&format!(
            "\nliveness (from the cut): {}",
            polls(&t.liveness)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Severity;

    fn poll(ms: u64, what: &str) -> Poll {
        Poll {
            at: Duration::from_millis(ms),
            ok: what == "200",
            what: what.to_string(),
        }
    }

    fn timeline(
        soft: bool,
        cut: &[(u64, &str)],
        restore: &[(u64, &str)],
        live: &[(u64, &str)],
    ) -> Timeline {
        Timeline {
            name: "db".into(),
            soft,
            mode: CutMode::Close,
            budget: Duration::from_secs(3),
            traffic_before_cut: true,
            cut: cut.iter().map(|(ms, w)| poll(*ms, w)).collect(),
            restore: restore.iter().map(|(ms, w)| poll(*ms, w)).collect(),
            liveness: live.iter().map(|(ms, w)| poll(*ms, w)).collect(),
        }
    }

    fn rules(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.rule.as_str()).collect()
    }

    #[test]
    fn a_dependency_check_that_works_is_info() {
        let t = timeline(
            false,
            &[(50, "200"), (310, "503")],
            &[(250, "200")],
            &[(50, "200"), (310, "200")],
        );
        let findings = judge(&t);
        assert_eq!(rules(&findings), ["readiness/drill-result"]);
        assert_eq!(findings[0].severity, Severity::Info);
        assert!(
            findings[0].message.contains("unready after 0.31s (503)"),
            "{}",
            findings[0].message
        );
        assert!(
            findings[0].message.contains("ready 0.25s after restore"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn static_readiness_fails_and_names_missing_traffic() {
        let mut t = timeline(false, &[(50, "200"), (3000, "200")], &[(20, "200")], &[]);
        t.traffic_before_cut = false;
        let findings = judge(&t);
        assert_eq!(rules(&findings), ["readiness/cut-not-detected"]);
        assert_eq!(findings[0].severity, Severity::Fail);
        assert!(
            findings[0]
                .message
                .contains("no traffic went through the proxy")
        );
        assert!(
            findings[0]
                .evidence
                .as_deref()
                .unwrap()
                .contains("+0.05s 200, …+3s 200")
        );
    }

    #[test]
    fn liveness_that_follows_the_dependency_fails() {
        let t = timeline(false, &[(300, "503")], &[(200, "200")], &[(300, "503")]);
        assert_eq!(rules(&judge(&t)), ["readiness/liveness-fails-on-cut"]);
    }

    #[test]
    fn no_recovery_and_soft_dependencies() {
        let t = timeline(false, &[(300, "503")], &[(1500, "503"), (3000, "503")], &[]);
        assert_eq!(rules(&judge(&t)), ["readiness/no-recovery"]);
        let soft_ok = timeline(true, &[(50, "200"), (3000, "200")], &[(10, "200")], &[]);
        assert_eq!(rules(&judge(&soft_ok)), ["readiness/drill-result"]);
        let soft_bad = timeline(true, &[(50, "200"), (400, "503")], &[(200, "200")], &[]);
        let findings = judge(&soft_bad);
        assert_eq!(rules(&findings), ["readiness/soft-dependency-unready"]);
        assert!(
            findings[0].message.contains("0.4s"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn poll_interval_is_bounded() {
        assert_eq!(
            poll_interval(Duration::from_millis(200)),
            Duration::from_millis(50)
        );
        assert_eq!(
            poll_interval(Duration::from_secs(2)),
            Duration::from_millis(100)
        );
        assert_eq!(
            poll_interval(Duration::from_secs(300)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn reasons_lose_the_request_preamble() {
        assert_eq!(
            short_reason(
                "error sending request for url (http://x/ready): client error (Connect): tcp connect error: Connection refused (os error 111)"
            ),
            "Connection refused (os error 111)"
        );
        assert_eq!(
            short_reason("no complete answer within 1s"),
            "no complete answer within 1s"
        );
    }
}
