//! `rollback/slow-rollback`: how long a rollback takes: waves of pods re-created at the
//! rollout's pace, each waiting to become ready, plus the time an automated analysis takes to
//! decide the new version is bad.

use super::Settings;
use crate::checks::kubernetes::Analysis;
use crate::config::parse_duration;
use crate::declare_rule;
use crate::k8s::rollout::{DEFAULT_PERCENT, Scale, argo_references, fenceposts};
use crate::k8s::{
    DEFAULT_SCALE_DOWN_DELAY_SECONDS, Field, Manifests, StrategyKind, Workload, WorkloadKind,
};
use crate::report::{Location, Severity};

/// Seconds from scheduling to a started container when the image is already on the node, as it
/// is on a rollback (the previous version ran there minutes ago). An assumption, not a
/// measurement: image pull is excluded, process start of a typical service included.
pub const POD_START_SECONDS: i64 = 5;

/// `rollback.target_seconds` when unset.
pub const DEFAULT_TARGET_SECONDS: f64 = 60.0;

/// Kubernetes' readiness probe defaults.
const DEFAULT_INITIAL_DELAY: i64 = 0;
const DEFAULT_PERIOD: i64 = 10;
const DEFAULT_SUCCESS_THRESHOLD: i64 = 1;

declare_rule! {
    order: 10;
    /// ## What it catches
    /// A Deployment, StatefulSet or Argo Rollout whose estimated rollback takes longer than
    /// `rollback.target_seconds` (60 s by default). The estimate, shown in the finding:
    /// waves = ceil(replicas / (maxSurge + maxUnavailable)) with the values Kubernetes resolves
    /// (percentages: maxSurge rounds up, maxUnavailable down; 25% defaults; the HPA's
    /// maxReplicas as the worst case); per wave = pod start (5 s, image cached) + readiness
    /// initialDelaySeconds + periodSeconds x successThreshold (defaults 0, 10 s, 1) +
    /// minReadySeconds. That is the rollback once decided; the time an automated analysis
    /// takes to decide (Argo Rollouts: metric interval x failureLimit; Flagger: interval x
    /// threshold) is `rollback/slow-detection`'s, against its own budget. Argo canaries with traffic routing, blue-green rollouts while they
    /// keep the previous ReplicaSet (scaleDownDelaySeconds after the switch, 30 by default;
    /// never with scaleDownDelayRevisionLimit 0), plain two-Deployment blue-green whose other
    /// side still runs, and Flagger canaries keep the stable pods running: their rollback
    /// only shifts traffic back (for blue-green, a switch of the Service's selector: seconds),
    /// reported as info with what happens once the old pods are gone.
    ///
    /// ## Why it matters during a deploy
    /// Every second of a rollback is a second of the bad version serving users. A rollback is
    /// a rollout in reverse, at the same pace: 20 replicas one at a time, each waiting 30 s for
    /// readiness, is ten minutes of incident.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: 12
    ///   minReadySeconds: 30
    ///   strategy:
    ///     rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
    /// ```
    /// 12 waves x (5 s + 10 s + 30 s) = 540 s.
    ///
    /// ## Do this instead
    /// Roll faster (`maxSurge: 25%` or more, with `maxUnavailable: 0` to keep capacity), make
    /// readiness answer sooner (a lower `periodSeconds`, no long `initialDelaySeconds`: use a
    /// startupProbe), or keep the stable pods running with an Argo Rollouts canary and traffic
    /// routing, so a rollback is a traffic shift. If the service tolerates a slower rollback,
    /// raise `rollback.target_seconds`.
    pub SLOW_ROLLBACK = ("rollback/slow-rollback", Fail, "a rollback takes longer than rollback.target_seconds");
}

/// `60` or `62.5`
pub(super) fn fmt_seconds(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

fn value_or(field: &Option<Field<i64>>, default: i64) -> (i64, bool) {
    field.as_ref().map_or((default, false), |f| (f.value, true))
}

/// The time one wave of pods takes to become ready, and how it adds up.
struct Wave {
    seconds: i64,
    arithmetic: String,
}

fn wave(manifests: &Manifests, workload: &Workload) -> Wave {
    let (min_ready, _) = value_or(&workload.min_ready_seconds, 0);
    // The slowest container to become ready decides when the pod is ready.
    let slowest = manifests.pod_spec_of(workload).and_then(|pod| {
        pod.containers
            .iter()
            .filter_map(|c| c.readiness_probe.as_ref().map(|p| (c, p)))
            .map(|(container, probe)| {
                let (initial, _) = value_or(&probe.initial_delay_seconds, DEFAULT_INITIAL_DELAY);
                let (period, _) = value_or(&probe.period_seconds, DEFAULT_PERIOD);
                let (success, _) = value_or(&probe.success_threshold, DEFAULT_SUCCESS_THRESHOLD);
                (
                    initial.max(0) + period.max(0) * success.max(1),
                    container,
                    initial,
                    period,
                    success,
                )
            })
            .max_by_key(|(ready, ..)| *ready)
    });
    match slowest {
        Some((ready, container, initial, period, success)) => Wave {
            seconds: POD_START_SECONDS + ready + min_ready.max(0),
            arithmetic: format!(
                "pod start {POD_START_SECONDS} s + readiness of container {} (initialDelaySeconds {initial} + periodSeconds {period} x successThreshold {success}) + minReadySeconds {min_ready}",
                container.name
            ),
        },
        None => Wave {
            seconds: POD_START_SECONDS + min_ready.max(0),
            arithmetic: format!(
                "pod start {POD_START_SECONDS} s + no readinessProbe (ready once started) + minReadySeconds {min_ready}"
            ),
        },
    }
}

/// The replica count a rollback re-creates: the HPA's maxReplicas as the worst case.
fn worst_replicas(manifests: &Manifests, workload: &Workload) -> (i64, String) {
    let scale = Scale::of(manifests, workload);
    match (&scale.hpa, scale.hpa_max) {
        (Some(hpa), Some(max)) if max > scale.replicas => (
            max,
            format!("{max} replicas (maxReplicas of {hpa}: the worst case)"),
        ),
        (Some(hpa), _) => (
            scale.replicas,
            format!("{} replicas (minReplicas of {hpa})", scale.replicas),
        ),
        (None, _) => (scale.replicas, format!("{} replicas", scale.replicas)),
    }
}

/// A rollback that starts every pod at once: a blue-green whose previous ReplicaSet is gone
/// (Argo Rollouts scales the new ReplicaSet straight to `replicas`), or a plain blue-green
/// side scaled to 0 (the ReplicaSet controller creates all missing pods of a scale-up at
/// once, in its slow-start batches).
pub(super) struct Recreate {
    pub seconds: i64,
    /// "all 4 replicas at once: 1 wave x 15 s (pod start …) = 15 s"
    pub arithmetic: String,
}

pub(super) fn recreate_all(manifests: &Manifests, workload: &Workload) -> Recreate {
    let (_, of) = worst_replicas(manifests, workload);
    let wave = wave(manifests, workload);
    Recreate {
        seconds: wave.seconds,
        arithmetic: format!(
            "all {of} at once: 1 wave x {} s ({}) = {} s",
            wave.seconds, wave.arithmetic, wave.seconds
        ),
    }
}

/// How long an automated rollback takes to notice a bad version: (seconds, how, where the
/// interval that decides it is written).
pub(super) fn detection(
    manifests: &Manifests,
    workload: &Workload,
) -> Option<(i64, String, Location)> {
    if let Some(canary) = manifests.flagger_canary_for(workload) {
        let analysis = canary.analysis.as_ref()?;
        let interval = analysis.interval.as_ref()?;
        let seconds = parse_duration(&interval.value).ok()?.as_secs() as i64;
        let threshold = analysis.threshold.as_ref()?.value.max(1);
        return Some((
            seconds * threshold,
            format!(
                "{}: interval {} x threshold {threshold}",
                canary.meta.display(),
                interval.value
            ),
            canary.meta.at(interval.pos),
        ));
    }
    if workload.kind != WorkloadKind::Rollout {
        return None;
    }
    // The slowest metric that can fail the analysis: a bad version may trip only that one.
    slowest_metric(
        manifests,
        workload,
        argo_references(workload)
            .into_iter()
            .map(|(reference, _)| reference),
    )
}

/// The slowest non-dry-run metric of these analysis templates: seconds to fail (interval x
/// failureLimit) and how, where.
pub(super) fn slowest_metric<'a>(
    manifests: &Manifests,
    workload: &Workload,
    references: impl Iterator<Item = &'a crate::k8s::TemplateRef>,
) -> Option<(i64, String, Location)> {
    let mut slowest: Option<(i64, String, Location)> = None;
    for reference in references {
        let Some(template) = manifests.analysis_template(reference, &workload.meta) else {
            continue;
        };
        for metric in template.metrics.iter().filter(|m| !m.dry_run) {
            let Some(interval) = &metric.interval else {
                continue;
            };
            let Ok(duration) = parse_duration(&interval.value) else {
                continue;
            };
            let limit = metric.failure_limit.as_ref().map_or(0, |f| f.value.max(0));
            let seconds = duration.as_secs() as i64 * limit;
            if slowest.as_ref().is_none_or(|(s, ..)| seconds > *s) {
                slowest = Some((
                    seconds,
                    format!(
                        "{} metric `{}`: interval {} x failureLimit {limit}",
                        template.meta.display(),
                        metric.name,
                        interval.value
                    ),
                    template.meta.at(interval.pos),
                ));
            }
        }
    }
    slowest
}

/// A rollback that only shifts traffic back to pods that still run: why, if this is one.
fn traffic_shift(manifests: &Manifests, workload: &Workload) -> Option<String> {
    if let Some(canary) = manifests.flagger_canary_for(workload) {
        return Some(format!(
            "{} keeps the primary pods of {} running while it analyses the new version, so a rollback routes traffic back to them",
            canary.meta.display(),
            workload.meta.display()
        ));
    }
    if workload.kind != WorkloadKind::Rollout {
        return None;
    }
    match &workload.strategy.kind {
        StrategyKind::Canary => workload
            .strategy
            .canary
            .as_ref()
            .filter(|c| c.traffic_routing && !c.dynamic_stable_scale)
            .map(|_| {
                "the canary uses traffic routing, so the stable ReplicaSet stays at full scale until promotion and an abort shifts traffic back to it".to_string()
            }),
        StrategyKind::BlueGreen => {
            let blue_green = workload.strategy.blue_green.as_ref()?;
            if blue_green.keeps_no_previous() {
                return None; // scaled down at the switch: estimated as a re-creation below
            }
            let active = blue_green
                .active_service
                .as_ref()
                .map_or("the active Service".to_string(), |s| format!("Service/{}", s.value));
            let switch = format!(
                "a rollback switches {active}'s selector back to the previous ReplicaSet (seconds: the controller changes one label, kube-proxy follows)"
            );
            let recreate = recreate_all(manifests, workload);
            let window = match (
                blue_green.scale_down_delay_seconds.as_ref().map(|d| d.value),
                &blue_green.post_promotion_analysis,
            ) {
                (Some(0), _) => {
                    return Some(format!(
                        "blue-green with scaleDownDelaySeconds 0 never scales the previous ReplicaSet down (argo-rollouts#1992), so {switch}"
                    ));
                }
                (None, Some(_)) => format!(
                    "until its postPromotionAnalysis succeeds and {DEFAULT_SCALE_DOWN_DELAY_SECONDS} s after (scaleDownDelaySeconds unset)"
                ),
                (Some(seconds), _) => {
                    format!("for {seconds} s after the switch (scaleDownDelaySeconds)")
                }
                (None, None) => format!(
                    "for {DEFAULT_SCALE_DOWN_DELAY_SECONDS} s after the switch (scaleDownDelaySeconds, 30 by default)"
                ),
            };
            Some(format!(
                "blue-green keeps the previous ReplicaSet running {window}, so {switch}; after that a rollback starts {}",
                recreate.arithmetic
            ))
        }
        _ => None,
    }
}

/// What a rollback of a plain blue-green side is.
enum Plain<'a> {
    /// The side no user reaches: nothing to roll back.
    Idle,
    /// The other side still runs: a switch of the Service's selector.
    Switch(String),
    /// The other side runs 0 replicas: scale it up (all pods at once), then switch.
    ScaleUp { side: &'a Workload, how: String },
}

fn plain<'a>(manifests: &'a Manifests, workload: &'a Workload) -> Option<Plain<'a>> {
    let pair = manifests.plain_blue_green(workload)?;
    if !std::ptr::eq(pair.active, workload) {
        return Some(Plain::Idle);
    }
    let service = pair.service.meta.display();
    let idle = Scale::of(manifests, pair.idle).replicas;
    if idle <= 0 {
        return Some(Plain::ScaleUp {
            side: pair.idle,
            how: format!(
                "plain blue-green: {} ({}: {}) runs 0 replicas, so a rollback scales it up, all pods at once, then switches {service} back",
                pair.idle.meta.display(),
                pair.key,
                pair.idle_value()
            ),
        });
    }
    // Which side is the previous version the manifests do not say; the switch works both ways.
    Some(Plain::Switch(format!(
        "plain blue-green: {service} selects it by {}: {} while {} ({}: {}) runs {idle} replicas, so a rollback is a switch of the Service's selector between the two sides (seconds: one label, kube-proxy follows), as long as both keep running",
        pair.key,
        pair.active_value(),
        pair.idle.meta.display(),
        pair.key,
        pair.idle_value(),
    )))
}

/// The rollback estimate of one workload; returns the seconds when pods are re-created.
pub(super) fn check(
    manifests: &Manifests,
    workload: &Workload,
    settings: &Settings,
    out: &mut Analysis,
) -> Option<i64> {
    let object = workload.meta.display();
    let detected = detection(manifests, workload);
    let detection_note = |prefix: &str| match &detected {
        Some((seconds, how, _)) => format!("{prefix}detection {seconds} s ({how})"),
        None => String::new(),
    };
    let plain = plain(manifests, workload);
    let switch = match &plain {
        // The idle side of a plain blue-green: no user reaches it to roll back.
        Some(Plain::Idle) => return None,
        Some(Plain::Switch(why)) => Some(why.clone()),
        _ => traffic_shift(manifests, workload),
    };
    if let Some(why) = switch {
        let mut finding = SLOW_ROLLBACK
            .finding(format!(
                "{object}: a rollback is near-instant: {why}{}",
                detection_note("; after ")
            ))
            .at(workload.meta.location());
        finding.severity = Severity::Info;
        out.push(finding, &workload.meta, "traffic shift");
        return None;
    }

    let (replicas, of) = worst_replicas(manifests, workload);
    if replicas <= 0 {
        return None;
    }
    let strategy = &workload.strategy;
    let (waves, waves_arithmetic) = match (&workload.kind, &strategy.kind) {
        _ if let Some(Plain::ScaleUp { how, .. }) = &plain => (1, format!("1 wave ({how}: {of})")),
        (WorkloadKind::Deployment | WorkloadKind::Rollout, StrategyKind::Recreate) => (
            1,
            format!("1 wave (Recreate: all {of} at once, after the old ones stop)"),
        ),
        (
            WorkloadKind::Deployment | WorkloadKind::Rollout,
            StrategyKind::RollingUpdate | StrategyKind::Canary,
        ) => {
            let surge = strategy
                .max_surge
                .as_ref()
                .map_or(DEFAULT_PERCENT, |f| f.value);
            let unavailable = strategy
                .max_unavailable
                .as_ref()
                .map_or(DEFAULT_PERCENT, |f| f.value);
            let posts = fenceposts(surge, unavailable, replicas);
            let pace = (posts.surge + posts.unavailable).max(1);
            let waves = (replicas + pace - 1) / pace;
            (
                waves,
                format!(
                    "{waves} wave{} = ceil({of} / (maxSurge {surge} -> {} + maxUnavailable {unavailable} -> {}{}))",
                    if waves == 1 { "" } else { "s" },
                    posts.surge,
                    posts.unavailable,
                    if posts.forced { ", forced to 1" } else { "" }
                ),
            )
        }
        (WorkloadKind::Rollout, StrategyKind::BlueGreen) => (
            1,
            format!(
                "1 wave (blue-green with scaleDownDelayRevisionLimit 0: the previous ReplicaSet is scaled down at the switch, so all {of} start at once)"
            ),
        ),
        (WorkloadKind::StatefulSet, StrategyKind::RollingUpdate) => {
            // In place, maxUnavailable (rounded up, at least 1) at a time; never surges.
            let unavailable = strategy.max_unavailable.as_ref().map(|f| f.value);
            let pace = unavailable.map_or(1, |u| u.scaled(replicas, true)).max(1);
            let waves = (replicas + pace - 1) / pace;
            (
                waves,
                format!(
                    "{waves} wave{} = ceil({of} / (maxSurge 0 (a StatefulSet replaces in place) + maxUnavailable {} -> {pace}))",
                    if waves == 1 { "" } else { "s" },
                    unavailable.map_or("1 (the default)".to_string(), |u| u.to_string())
                ),
            )
        }
        _ => return None, // DaemonSets (one pod per node), OnDelete: nothing to estimate
    };
    // A scaled-up plain blue-green side becomes ready at its own (the old version's) pace.
    let wave = match &plain {
        Some(Plain::ScaleUp { side, .. }) => wave(manifests, side),
        _ => wave(manifests, workload),
    };
    // Rollback once decided, alone: the time to decide (an analysis's detection) is judged
    // against its own budget by `rollback/slow-detection`, so each finding names what to fix.
    let rolled = waves * wave.seconds;
    let total = rolled;
    let target = settings.target();
    if (total as f64) <= target {
        return Some(total);
    }
    let target_source = if settings.target_seconds.is_some() {
        "rollback.target_seconds"
    } else {
        "rollback.target_seconds unset: the default"
    };
    let detection_sum = match &detected {
        Some((seconds, how, _)) => format!(
            "; deciding to roll back takes another {seconds} s ({how}), judged on its own (rollback/slow-detection)"
        ),
        None => String::new(),
    };
    let pos = strategy
        .pos
        .or(workload.replicas.as_ref().map(|r| r.pos))
        .unwrap_or(workload.meta.pos);
    out.push(
        SLOW_ROLLBACK
            .finding(format!(
                "{object}: a rollback takes about {total} s once decided, over the {} s target ({target_source}): {waves_arithmetic} x {} s per wave ({}) = {rolled} s{detection_sum}",
                fmt_seconds(target),
                wave.seconds,
                wave.arithmetic,
            ))
            .at(workload.meta.at(pos))
            .with_fix(format!(
                "roll {object} faster (a larger maxSurge with maxUnavailable 0), make readiness answer sooner, or keep the stable pods running (an Argo Rollouts canary with traffic routing); or raise rollback.target_seconds"
            )),
        &workload.meta,
        format!("rollback about {total} s"),
    );
    Some(total)
}

declare_rule! {
    order: 20;
    /// ## What it catches
    /// An automated analysis (Argo Rollouts AnalysisTemplate metric: interval x
    /// failureLimit; Flagger Canary: interval x threshold) that takes longer to decide a new
    /// version is bad than `rollback.detection_budget_seconds`. Without that budget the time
    /// to detect is reported as `info`, so it shows next to the rollback estimate.
    ///
    /// ## Why it matters during a deploy
    /// Until the analysis fails, the bad version keeps serving its share of traffic: the
    /// time to detect adds to the incident as much as the rollback itself, but it is fixed in
    /// a different place (the analysis, not the rollout's pace). Two findings, each against
    /// its own target, say which one to change.
    ///
    /// ## Example
    /// ```yaml
    /// metrics:
    ///   - name: success-rate
    ///     interval: 1m
    ///     failureLimit: 3     # 3 minutes before an abort, with a 60 s budget
    /// ```
    ///
    /// ## Do this instead
    /// A shorter `interval` or a lower `failureLimit` (with a metric that is stable at that
    /// resolution), or a budget that says what the service tolerates:
    /// `rollback: {detection_budget_seconds: 180}`.
    pub SLOW_DETECTION = ("rollback/slow-detection", Fail, "the automated analysis takes longer than rollback.detection_budget_seconds to detect a bad version");
}

/// The time to detect a bad version, against `rollback.detection_budget_seconds`.
pub(super) fn check_detection(
    manifests: &Manifests,
    workload: &Workload,
    settings: &Settings,
    out: &mut Analysis,
) {
    let Some((seconds, how, location)) = detection(manifests, workload) else {
        return;
    };
    let object = workload.meta.display();
    match settings.detection_budget_seconds {
        Some(budget) if seconds as f64 > budget => {
            let finding = SLOW_DETECTION
                .finding(format!(
                    "{object}: the analysis takes {seconds} s to decide a version is bad ({how}), over the {} s budget (rollback.detection_budget_seconds); the bad version serves until then",
                    fmt_seconds(budget)
                ))
                .at(location)
                .with_fix("shorten the metric's interval or lower its failure limit, or raise rollback.detection_budget_seconds");
            out.push(finding, &workload.meta, format!("detection {seconds} s"));
        }
        Some(budget) => {
            let mut finding = SLOW_DETECTION
                .finding(format!(
                    "{object}: the analysis decides a version is bad within {seconds} s ({how}), inside the {} s budget",
                    fmt_seconds(budget)
                ))
                .at(location);
            finding.severity = Severity::Info;
            out.push(finding, &workload.meta, "detection");
        }
        None => {
            let mut finding = SLOW_DETECTION
                .finding(format!(
                    "{object}: the analysis takes {seconds} s to decide a version is bad ({how}); set rollback.detection_budget_seconds to judge it"
                ))
                .at(location);
            finding.severity = Severity::Info;
            out.push(finding, &workload.meta, "detection");
        }
    }
}
