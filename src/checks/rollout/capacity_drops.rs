//! `rollout/capacity-drops`: how many pods Kubernetes may take down at once, computed the way
//! the controllers compute it, against the replica count (or the HPA's range), for each kind of
//! workload.

use super::{Out, WorkloadFacts};
use crate::declare_rule;
use crate::k8s::rollout::{DEFAULT_PERCENT, Scale, fenceposts};
use crate::k8s::{Fronted, IntOrPercent, Manifests, StrategyKind, Traffic, Workload, WorkloadKind};
use crate::report::{Finding, Severity};

declare_rule! {
    order: 10;
    /// ## What it catches
    /// A rolling update that may take serving pods down before their replacements are ready:
    /// the effective `maxUnavailable`, computed as Kubernetes computes it, is at least one pod.
    /// Percentages are taken of the replica count (the HPA's `minReplicas`, and its
    /// `maxReplicas` too, when an HPA scales the workload); `maxSurge` rounds up and
    /// `maxUnavailable` rounds down; both default to 25%; and when both come out as 0,
    /// Kubernetes takes one pod down at a time anyway. So the default strategy keeps capacity
    /// with 3 replicas (25% of 3 rounds down to 0 unavailable, and up to 1 surge pod) and drops
    /// it with 8 (25% of 8 is 2 pods down).
    ///
    /// A StatefulSet replaces each pod in place (there is no surge), so capacity always drops
    /// by `maxUnavailable` (default 1): reported as a warning, and as a failure when it drops to
    /// zero. A DaemonSet replaces each node's pod stop-first unless `maxSurge` is set: reported
    /// as a warning when a Service sends traffic to it. An Argo Rollouts canary with traffic
    /// routing keeps the stable pods scaled until promotion, so it keeps capacity.
    ///
    /// ## Why it matters during a deploy
    /// A deploy happens under production load. With 8 replicas sized for peak traffic, 2 pods
    /// down means 25% less capacity for as long as the rollout lasts; the remaining pods slow
    /// down, readiness probes time out, and the rollout takes more pods out of service.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 8          # default strategy: maxUnavailable 25% -> 2 pods down
    /// ```
    ///
    /// ## Do this instead
    /// ```yaml
    /// spec:
    ///   strategy:
    ///     rollingUpdate:
    ///       maxUnavailable: 0   # never fewer ready pods than replicas
    ///       maxSurge: 2         # as fast as before: 2 new pods at a time
    /// ```
    pub CAPACITY_DROPS = ("rollout/capacity-drops", Fail, "the rollout may take serving pods down before their replacements are ready");
}

pub(super) fn check(facts: &WorkloadFacts<'_>, out: &mut Out) {
    if facts.manifests.plain_blue_green(facts.workload).is_some() {
        // A side of a plain blue-green pair is updated while its Service selects the other
        // side: its rolling update loses no served capacity; the switch is judged by
        // `rollout/blue-green-switch-capacity`.
        return;
    }
    match facts.workload.kind {
        WorkloadKind::Deployment | WorkloadKind::Rollout => rolling(
            facts.workload,
            &facts.scale,
            facts.traffic != Traffic::None,
            out,
        ),
        WorkloadKind::StatefulSet => stateful(
            facts.workload,
            &facts.scale,
            facts.traffic != Traffic::None,
            out,
        ),
        WorkloadKind::DaemonSet => daemon(facts.manifests, facts.workload, out),
    }
}

/// Capacity matters for user traffic: a workload that serves none (a controller behind only a
/// metrics Service, a worker) loses no request while fewer of its pods run, so its drop is
/// `info`, saying why.
fn unless_serving(mut finding: Finding, serving: bool) -> Finding {
    if !serving {
        finding.severity = Severity::Info;
        finding.message.push_str(
            "; it serves no user traffic (no Service sends it requests, or only a metrics Service), so no request is lost",
        );
    }
    finding
}

fn describe(value: IntOrPercent, written: bool) -> String {
    if written {
        format!("maxUnavailable {value}")
    } else {
        format!("maxUnavailable {value} (the default)")
    }
}

/// Deployments and Argo canaries: the rolling-update arithmetic.
fn rolling(workload: &Workload, scale: &Scale, serving: bool, out: &mut Out) {
    let strategy = &workload.strategy;
    if !matches!(
        strategy.kind,
        StrategyKind::RollingUpdate | StrategyKind::Canary
    ) {
        return;
    }
    if strategy
        .canary
        .as_ref()
        .is_some_and(|canary| canary.traffic_routing && !canary.dynamic_stable_scale)
    {
        // The stable ReplicaSet stays at full scale until promotion; Argo ignores
        // maxSurge/maxUnavailable with traffic routing.
        return;
    }
    let surge_spec = strategy.max_surge.as_ref().map(|f| f.value);
    let unavailable_spec = strategy.max_unavailable.as_ref().map(|f| f.value);
    let surge = surge_spec.unwrap_or(DEFAULT_PERCENT);
    let unavailable = unavailable_spec.unwrap_or(DEFAULT_PERCENT);

    // With an HPA the count at deploy time is anywhere in [min, max]; percentages only round
    // to more pods as the count grows, so the range's ends decide.
    let mut counts = vec![scale.replicas];
    if let Some(max) = scale.hpa_max.filter(|max| *max > scale.replicas) {
        counts.push(max);
    }
    for replicas in counts {
        if replicas <= 0 {
            continue;
        }
        let posts = fenceposts(surge, unavailable, replicas);
        if posts.unavailable == 0 {
            continue;
        }
        let object = workload.meta.display();
        let of = scale.of_replicas(replicas);
        let remaining = replicas - posts.unavailable;
        let arithmetic = if posts.forced {
            format!(
                "maxSurge {surge} and {} of {of} both round to 0, so Kubernetes takes 1 pod down at a time",
                describe(unavailable, unavailable_spec.is_some())
            )
        } else {
            match unavailable {
                IntOrPercent::Percent(_) => format!(
                    "{} of {of} rounds down to {}: {} down during the rollout",
                    describe(unavailable, unavailable_spec.is_some()),
                    posts.unavailable,
                    pods(posts.unavailable)
                ),
                IntOrPercent::Int(_) => format!(
                    "maxUnavailable {unavailable} lets {} of {of} be down during the rollout",
                    pods(posts.unavailable)
                ),
            }
        };
        let pos = strategy
            .max_unavailable
            .as_ref()
            .map(|f| f.pos)
            .or(strategy.pos)
            .or(workload.replicas.as_ref().map(|r| r.pos))
            .unwrap_or(workload.meta.pos);
        let keep_pace = posts.surge.max(posts.unavailable).max(1);
        let path = if workload.kind == WorkloadKind::Rollout {
            "strategy.canary"
        } else {
            "strategy.rollingUpdate"
        };
        out.push(
            unless_serving(CAPACITY_DROPS
                .finding(format!(
                    "{object}: {arithmetic} (capacity drops to {remaining} of {replicas})"
                ))
                .at(workload.meta.at(pos))
                .with_evidence(format!(
                    "maxSurge {surge} -> {} surge pods; maxUnavailable {unavailable} -> {} unavailable{}",
                    posts.surge,
                    posts.unavailable,
                    if posts.forced { " (forced to 1: both were 0)" } else { "" }
                ))
                .with_fix(format!(
                    "in {object} set `{path}.maxUnavailable: 0` and `{path}.maxSurge: {keep_pace}`: new pods start before old ones stop, at the same pace"
                )), serving),
            &[&workload.meta],
            &object,
            format!("capacity drops to {remaining} of {replicas}"),
        );
        break;
    }
}

/// StatefulSets replace pods in place, one ordinal at a time by default.
fn stateful(workload: &Workload, scale: &Scale, serving: bool, out: &mut Out) {
    let strategy = &workload.strategy;
    if strategy.kind != StrategyKind::RollingUpdate || scale.replicas <= 0 {
        return;
    }
    let replicas = scale.replicas;
    let partition = strategy.partition.as_ref().map_or(0, |p| p.value.max(0));
    let updated = replicas - partition;
    if updated <= 0 {
        // A staged rollout: no ordinal at or above the partition exists, nothing is replaced.
        return;
    }
    // maxUnavailable (MaxUnavailableStatefulSet) rounds up and is at least 1.
    let unavailable = strategy
        .max_unavailable
        .as_ref()
        .map_or(1, |f| f.value.scaled(replicas, true))
        .max(1)
        .min(updated);
    let remaining = replicas - unavailable;
    let object = workload.meta.display();
    let pos = strategy
        .max_unavailable
        .as_ref()
        .map(|f| f.pos)
        .or(strategy.pos)
        .or(workload.replicas.as_ref().map(|r| r.pos))
        .unwrap_or(workload.meta.pos);
    let mut finding = CAPACITY_DROPS
        .finding(format!(
            "{object} replaces pods in place (a StatefulSet cannot surge): {} of {} down at a time during the rollout (capacity drops to {remaining} of {replicas}){}",
            pods(unavailable),
            scale.of_replicas(replicas),
            if partition > 0 {
                format!("; partition {partition} keeps ordinals below it on the old version")
            } else {
                String::new()
            }
        ))
        .at(workload.meta.at(pos));
    if remaining > 0 {
        finding.severity = Severity::Warn;
        finding = finding.with_fix(format!(
            "make sure {remaining} pods of {object} carry peak load (and keep quorum), or stage the rollout with `updateStrategy.rollingUpdate.partition`"
        ));
    } else {
        finding = finding.with_fix(format!(
            "run at least 2 replicas of {object}, so one pod serves while the other restarts"
        ));
    }
    out.push(
        unless_serving(finding, serving),
        &[&workload.meta],
        &object,
        format!("capacity drops to {remaining} of {replicas}"),
    );
}

/// DaemonSets replace each node's pod stop-first unless they surge.
fn daemon(manifests: &Manifests, workload: &Workload, out: &mut Out) {
    let strategy = &workload.strategy;
    if strategy.kind != StrategyKind::RollingUpdate {
        return;
    }
    let surge = strategy
        .max_surge
        .as_ref()
        .map_or(IntOrPercent::Int(0), |f| f.value);
    let unavailable = strategy
        .max_unavailable
        .as_ref()
        .map_or(IntOrPercent::Int(1), |f| f.value);
    let surges = surge.scaled(1, true) > 0;
    let takes_down = unavailable.scaled(1, true) > 0 || !surges;
    if !takes_down {
        return;
    }
    if manifests.fronted_by(workload) == Fronted::MetricsOnly {
        return; // a node exporter: Prometheus retries a scrape, no user request is lost
    }
    let services = manifests.serving_services_for(workload);
    let host_port = manifests.pod_spec_of(workload).is_some_and(|pod| {
        pod.host_network
            || pod
                .containers
                .iter()
                .any(|c| c.ports.iter().any(|p| p.host_port.is_some()))
    });
    if services.is_empty() && !host_port {
        return; // node agents (log shippers, exporters) serve no traffic
    }
    let object = workload.meta.display();
    let serving = match services.first() {
        Some(service) => format!("{} sends traffic to it", service.meta.display()),
        None => "it serves on the node's own ports".to_string(),
    };
    let pos = strategy
        .max_unavailable
        .as_ref()
        .map(|f| f.pos)
        .or(strategy.pos)
        .unwrap_or(workload.meta.pos);
    let fix = if host_port {
        format!(
            "{object} binds host ports, so it cannot surge: take each node out of the load balancer before its pod restarts (readiness failing on SIGTERM, a preStop delay), or waive this with the reason"
        )
    } else {
        format!(
            "in {object} set `updateStrategy.rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}` (Kubernetes 1.25+): the new pod on each node is ready before the old one stops"
        )
    };
    let mut finding = CAPACITY_DROPS
        .finding(format!(
            "{object} replaces each node's pod stop-first (maxUnavailable {unavailable}, maxSurge {surge}): that node's pod is down while its replacement starts, and {serving}"
        ))
        .at(workload.meta.at(pos))
        .with_fix(fix);
    finding.severity = Severity::Warn;
    out.push(
        finding,
        &[&workload.meta],
        &object,
        "each node's pod down during its restart",
    );
}

fn pods(n: i64) -> String {
    if n == 1 {
        "1 pod".to_string()
    } else {
        format!("{n} pods")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_strategy_keeps_capacity_up_to_3_replicas() {
        for replicas in 1..=3 {
            let posts = fenceposts(DEFAULT_PERCENT, DEFAULT_PERCENT, replicas);
            assert_eq!(
                (posts.unavailable, posts.surge),
                (0, 1),
                "{replicas} replicas"
            );
        }
        let posts = fenceposts(DEFAULT_PERCENT, DEFAULT_PERCENT, 8);
        assert_eq!((posts.unavailable, posts.surge), (2, 2));
    }

    #[test]
    fn both_zero_forces_one_unavailable() {
        let posts = fenceposts(IntOrPercent::Int(0), IntOrPercent::Percent(10), 3);
        assert!(posts.forced);
        assert_eq!(posts.unavailable, 1);
        let posts = fenceposts(IntOrPercent::Int(1), IntOrPercent::Int(0), 3);
        assert_eq!((posts.unavailable, posts.forced), (0, false));
    }
}
