//! `grace/grace-period-too-short`: the grace period does not cover preStop + longest request +
//! margin.

use super::termination::{ContainerShutdown, Delay, seconds};
use crate::checks::kubernetes::Flag;
use crate::declare_rule;
use crate::report::Severity;

declare_rule! {
    order: 10;
    /// ## What it catches
    /// A pod whose `terminationGracePeriodSeconds` (30 s when unset) is shorter than
    /// preStop delay + the longest request (`grace.max_request_seconds`, 10 s when unset) +
    /// a margin for the process to exit (`grace.margin_seconds`, 2 s when unset). The finding
    /// shows the sum and where each term comes from. While `grace.max_request_seconds` is
    /// unset the request length is an assumption, so the finding is a warning until the
    /// config says the real value.
    ///
    /// ## Why it matters during a deploy
    /// Every pod the rollout replaces gets SIGTERM, then SIGKILL when the grace period ends.
    /// The preStop delay spends part of that period before the application even sees SIGTERM;
    /// whatever is left must cover the slowest request in flight. When it does not, every
    /// deploy cuts off the slowest requests (uploads, reports, long polls) with a reset
    /// connection.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   # terminationGracePeriodSeconds unset: 30 s
    ///   containers:
    ///     - lifecycle: {preStop: {sleep: {seconds: 20}}}   # 20 + 10 + 2 = 32 s > 30 s
    /// ```
    ///
    /// ## Do this instead
    /// `terminationGracePeriodSeconds: 45` (at least preStop + longest request + margin), and
    /// set `grace.max_request_seconds` to the real longest request (and `grace.margin_seconds`
    /// to how long the process takes to exit once drained, when it is not about 2 s).
    pub GRACE_PERIOD_TOO_SHORT = ("grace/grace-period-too-short", Fail, "the grace period does not cover preStop delay + longest request + margin");
}

/// The rule over one serving container; a preStop delay that reaches the grace period is
/// `grace/prestop-exceeds-grace`'s finding instead.
pub fn check(facts: &ContainerShutdown<'_>) -> Option<Flag> {
    let pod = facts.pod;
    let needed = facts.needed_seconds();
    if facts.prestop_reaches_grace() || needed <= pod.grace as f64 {
        return None;
    }
    let prestop_shown = match facts.delay {
        Delay::Seconds(n, _) => format!("preStop delay {n} s"),
        Delay::None => "no preStop delay (0 s)".to_string(),
        Delay::Unknown => "preStop hook of unknown length (counted as 0 s)".to_string(),
    };
    let mut finding = GRACE_PERIOD_TOO_SHORT
            .finding(format!(
                "{}: {} < {prestop_shown} + {} + {} = {} s: requests still running at SIGKILL are cut off",
                facts.container.name,
                pod.grace_shown,
                pod.request_shown,
                pod.margin_shown,
                seconds(needed)
            ))
            .at(pod.grace_location.clone())
            .with_fix(format!(
                "set terminationGracePeriodSeconds: {} (or set grace.max_request_seconds to the real longest request, and grace.margin_seconds to how long the process takes to exit)",
                needed.ceil() as i64
            ));
    if pod.request_assumed {
        // The sum rests on an assumed request length: worth a look, not a NO-GO.
        finding.severity = Severity::Warn;
        finding
            .message
            .push_str("; the longest request is assumed: set grace.max_request_seconds to decide");
    }
    Some(Flag::new(
        finding,
        format!(
            "grace period {} s < {} s needed",
            pod.grace,
            seconds(needed)
        ),
    ))
}
