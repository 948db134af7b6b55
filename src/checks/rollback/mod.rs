//! `rollback`: when the new version is bad, how fast is the old one back, and can it come back
//! at all?
//!
//! Reads the workloads under `checks.kubernetes.manifests` through [`crate::k8s`], like
//! `rollout`, `readiness` and `grace`. Estimates the time a rollback takes from the rollout
//! arithmetic `rollout` already does (waves of maxSurge + maxUnavailable pods against the
//! replica count or the HPA's range), the readiness probe timing and the automated analysis
//! that triggers it, and checks that the previous version still exists: an immutable image
//! reference and an old ReplicaSet to scale back up.

mod blue_green_scale_down;
pub mod database;
mod mutable_image_tag;
mod no_revision_history;
mod slow_rollback;

use crate::checks::kubernetes::{
    Analysis, Judged, counted, invalid_fields, judged_outcome, loader_findings, run_static,
};
use crate::checks::{Check, CheckError, CheckFuture, CheckOutcome, Rule};
use crate::config::Config;
use crate::context::Context;
use crate::declare_rule;
use crate::k8s::{Concern, Loaded, Manifests};
use crate::report::Finding;
use std::sync::Arc;

pub use blue_green_scale_down::BLUE_GREEN_SCALE_DOWN;
pub use mutable_image_tag::MUTABLE_IMAGE_TAG;
pub use no_revision_history::NO_REVISION_HISTORY;
pub use slow_rollback::{DEFAULT_TARGET_SECONDS, POD_START_SECONDS, SLOW_DETECTION, SLOW_ROLLBACK};

declare_rule! {
    order: 50;
    /// ## What it catches
    /// A field the rollback estimate or the revision rules need that has the wrong type:
    /// `revisionHistoryLimit: "0"`, an `image` that is not a string, an analysis
    /// `failureLimit: two`, `scaleDownDelaySeconds: 30s`.
    ///
    /// ## Why it matters during a deploy
    /// Kubernetes (or the Argo Rollouts / Flagger controller) rejects the object at apply time,
    /// so the deploy fails halfway through a multi-object apply; and gonogo cannot estimate a
    /// rollback from what it cannot read.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   revisionHistoryLimit: "3"
    /// ```
    ///
    /// ## Do this instead
    /// `revisionHistoryLimit: 3`; `failureLimit: 2`; durations as strings (`interval: 1m`).
    pub INVALID_FIELD = ("rollback/invalid-field", Warn, "a rollback field gonogo needs has the wrong type");
}

pub struct Rollback;

pub static RULES: &[&Rule] = crate::checks::registry::ROLLBACK;

const DOCS: &str = "\
When the new version is bad, how long until the old one serves again, and can it come back at all?

gonogo estimates a rollback of every Deployment, StatefulSet and Argo Rollout the way the
controllers run it: waves = ceil(replicas / (maxSurge + maxUnavailable)), with the resolved
values the rollout check computes (Kubernetes' rounding, 25% defaults; StatefulSets replace
maxUnavailable pods at a time and never surge; an HPA's maxReplicas is the worst case); each
wave takes pod start (5 s: the image is cached on a rollback) + readiness initialDelaySeconds +
periodSeconds x successThreshold (Kubernetes defaults 0, 10 s, 1) + minReadySeconds. That
rollback, once decided, must stay within `rollback.target_seconds` (60 s by default). The time
an automated analysis takes to decide (Argo Rollouts: interval x failureLimit; Flagger:
interval x threshold) is judged on its own, against `rollback.detection_budget_seconds`
(reported as info when unset), so each finding says which one to fix. An Argo Rollouts canary
with traffic routing (or a blue-green that keeps the old ReplicaSet for scaleDownDelaySeconds)
and a Flagger canary keep the stable pods running: their rollback only shifts traffic back,
which gonogo reports as info. DaemonSets are not estimated (their pod count is the node count).

Rolling back must also be possible: an image by mutable tag (`latest`, or no tag: fail; a
floating tag such as `redis:alpine`, `node:lts`, `postgres:16`: warn) re-pulls whatever the tag
points to now, and `revisionHistoryLimit: 0` leaves no old ReplicaSet.

The database must be able to go back too (the migrations of this deploy, as `migrations`
finds them): a migration that destroys data the previous version needs (DROP TABLE/COLUMN,
TRUNCATE, DELETE without WHERE, a rounding type change, an enum recreated without values) is
a warning; where the runner rolls back with down migrations (golang-migrate/sqlx/diesel
`.down.sql`, dbmate `-- migrate:down`, goose `-- +goose Down`, Flyway `U__` undo scripts), a
migration without one is a warning, and a PostgreSQL down that does not give back the schema
from before its up (followed statically: tables, columns, types, NOT NULL, defaults,
constraints, indexes, enum values) fails. A DROP TABLE/COLUMN the deployed code already let go
of (compat's markers, or no use under checks.compat.database.code_paths at the base) is info.

With checks.migrations.database.scratch_url (not --offline), the rollback is drilled for real:
the ups, then each down from the state its up left, in one transaction that is always rolled
back (PostgreSQL's DDL is transactional); the real catalog after each down is compared with the
one before its up, and every difference, every down PostgreSQL refuses, and every statement that
cannot run in a rolled-back transaction (CREATE INDEX CONCURRENTLY, INSERT, sequences) is
reported, with the time of both directions in the summary.

Config:
  checks:
    rollback:
      target_seconds: 60        # the longest a rollback may take once decided
      detection_budget_seconds: 120   # the longest an analysis may take to decide
    kubernetes:
      manifests: [\"deploy/\"]

Waive a rule on one object with the annotation `gonogo.dev/ignore: \"rollback/slow-rollback\"`.";

/// What the config says about rollbacks.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `rollback.target_seconds`; [`DEFAULT_TARGET_SECONDS`] when unset.
    pub target_seconds: Option<f64>,
    /// `rollback.detection_budget_seconds`: how long an automated analysis may take to decide
    /// a version is bad; unset, the time is reported as info.
    pub detection_budget_seconds: Option<f64>,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        let section = config.checks.rollback.as_ref();
        Settings {
            target_seconds: section.and_then(|r| r.target_seconds),
            detection_budget_seconds: section.and_then(|r| r.detection_budget_seconds),
        }
    }
}

impl Check for Rollback {
    fn id(&self) -> &str {
        "rollback"
    }
    fn title(&self) -> &str {
        "Rollback time and possibility"
    }
    fn docs(&self) -> &str {
        DOCS
    }
    fn rules(&self) -> &'static [&'static Rule] {
        RULES
    }
    fn enabled_by(&self, config: &Config) -> bool {
        config.checks.kubernetes.is_some()
            || config.checks.rollback.is_some()
            || config.checks.migrations.is_some()
    }
    fn run(&self, ctx: Arc<Context>) -> CheckFuture {
        Box::pin(async move {
            let pods = run_static(ctx.clone(), "rollback", run).await;
            database::with_database(ctx, pods).await
        })
    }
}

fn run(ctx: &Context) -> Result<CheckOutcome, CheckError> {
    let loaded = ctx.kubernetes().map_err(|e| CheckError(e.to_string()))?;
    let loader = loader_findings(ctx, "rollback", &loaded);
    outcome(&loaded, loader, &Settings::from_config(&ctx.config))
}

/// The check's decision over loaded manifests: pure, for tests. `loader` are the manifest
/// loader's findings when this check reports them ([`loader_findings`]).
pub fn outcome(
    loaded: &Loaded,
    loader: Vec<Finding>,
    settings: &Settings,
) -> Result<CheckOutcome, CheckError> {
    Ok(judged_outcome(loaded, loader, |manifests| {
        let report = analyze_with_slowest(manifests, settings);
        let analysis = report.analysis;
        let mut head = counted(analysis.workloads, "workload");
        if let Some((object, seconds)) = &report.slowest {
            head.push_str(&format!(
                ", slowest rollback {object} about {seconds} s (target {} s)",
                slow_rollback::fmt_seconds(settings.target())
            ));
        }
        Judged {
            found: analysis.workloads,
            none_in: |files| format!("no workloads in {}", counted(files, "manifest file")),
            head,
            all_good: "rollbacks are fast and possible",
            findings: analysis.findings,
        }
    }))
}

impl Settings {
    pub fn target(&self) -> f64 {
        self.target_seconds.unwrap_or(DEFAULT_TARGET_SECONDS)
    }
}

struct Report {
    analysis: Analysis,
    /// The slowest estimated rollback that re-creates pods: (object, seconds).
    slowest: Option<(String, i64)>,
}

/// Every rollback rule over the manifests. Pure: the fixture harness and the corpus test call
/// it. `workloads` counts the workloads looked at; `serving` stays 0.
pub fn analyze(manifests: &Manifests, settings: &Settings) -> Analysis {
    analyze_with_slowest(manifests, settings).analysis
}

fn analyze_with_slowest(manifests: &Manifests, settings: &Settings) -> Report {
    let findings = invalid_fields(
        manifests,
        Concern::Rollback,
        &INVALID_FIELD,
        "a rollback field gonogo cannot read",
    );
    let mut out = Analysis {
        findings,
        ..Analysis::default()
    };
    let mut slowest: Option<(String, i64)> = None;
    for workload in &manifests.workloads {
        mutable_image_tag::check(workload, &mut out);
        if manifests.is_rollout_template(workload) {
            continue;
        }
        out.workloads += 1;
        no_revision_history::check(workload, &mut out);
        slow_rollback::check_detection(manifests, workload, settings, &mut out);
        blue_green_scale_down::check(manifests, workload, settings, &mut out);
        if let Some(seconds) = slow_rollback::check(manifests, workload, settings, &mut out)
            && slowest.as_ref().is_none_or(|(_, s)| seconds > *s)
        {
            slowest = Some((workload.meta.display(), seconds));
        }
    }
    Report {
        analysis: out,
        slowest,
    }
}
