//! `readiness/slow-detection`: periodSeconds × failureThreshold too long to notice an unready pod.

use super::probes::{
    ContainerProbes, DEFAULT_FAILURE_THRESHOLD, DEFAULT_PERIOD, MAX_DETECTION_SECONDS,
};
use crate::checks::kubernetes::Flag;
use crate::declare_rule;

declare_rule! {
    order: 60;
    /// ## What it catches
    /// A readiness probe that takes more than 30 seconds to notice an unready pod: the time is
    /// `periodSeconds × failureThreshold` (Kubernetes defaults: 10 s × 3 = 30 s). The threshold
    /// is gonogo's `MAX_DETECTION_SECONDS` (30 s).
    ///
    /// ## Why it matters during a deploy
    /// Until readiness fails `failureThreshold` times in a row, the Service keeps sending
    /// requests to a pod that cannot serve them. During a rollout that is also how long a bad
    /// new pod keeps receiving traffic, and how long the old pods receive none of it.
    ///
    /// ## Example
    /// ```yaml
    /// readinessProbe:
    ///   httpGet: {path: /ready, port: 8080}
    ///   periodSeconds: 30
    ///   failureThreshold: 5     # 30 s × 5 = 150 s of errors
    /// ```
    ///
    /// ## Do this instead
    /// `periodSeconds: 5` and `failureThreshold: 3` (15 s); a slow start belongs in a
    /// `startupProbe`, not in a lenient readiness probe.
    pub SLOW_DETECTION = ("readiness/slow-detection", Warn, "the readiness probe takes too long to notice an unready pod");
}

pub fn check(facts: &ContainerProbes<'_>) -> Option<Flag> {
    let probe = facts.readiness()?;
    let period = probe.period_seconds.as_ref();
    let threshold = probe.failure_threshold.as_ref();
    let p = period.map_or(DEFAULT_PERIOD, |f| f.value);
    let t = threshold.map_or(DEFAULT_FAILURE_THRESHOLD, |f| f.value);
    let total = p.saturating_mul(t);
    if total <= MAX_DETECTION_SECONDS {
        return None;
    }
    let show = |value: i64, given: bool, unit: &str| {
        if given {
            format!("{value}{unit}")
        } else {
            format!("{value}{unit} (the default)")
        }
    };
    // Point at the field that makes it slow: the threshold when set, else the period.
    let pos = threshold
        .map(|f| f.pos)
        .or(period.map(|f| f.pos))
        .unwrap_or(probe.pos);
    Some(Flag::new(
        SLOW_DETECTION
            .finding(format!(
                "{}: an unready pod keeps receiving traffic for up to periodSeconds {} × failureThreshold {} = {total} s (more than {MAX_DETECTION_SECONDS} s)",
                facts.container.name,
                show(p, period.is_some(), " s"),
                show(t, threshold.is_some(), ""),
            ))
            .at(facts.meta.at(pos))
            .with_fix(format!(
                "keep periodSeconds × failureThreshold at or under {MAX_DETECTION_SECONDS} s (e.g. periodSeconds: 5, failureThreshold: 3); use a startupProbe for slow starts"
            )),
        format!("{total} s to notice an unready pod"),
    ))
}
