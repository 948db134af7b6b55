//! `rollout`: does capacity ever drop while the new version rolls out, and does a canary abort
//! by itself when the new version is bad?
//!
//! Reads the workloads under `checks.kubernetes.manifests` (shared with `readiness`, `grace`
//! and `rollback` through [`crate::k8s`]) and does the controllers' arithmetic: effective
//! maxSurge/maxUnavailable against the replica count or the HPA's range, StatefulSet and
//! DaemonSet update semantics, PodDisruptionBudgets, and Argo Rollouts / Flagger analysis.

mod analysis_template_missing;
mod blue_green_behind_alb;
mod blue_green_switch_capacity;
mod blue_green_without_analysis;
mod canary_without_analysis;
mod capacity_drops;
mod config;
mod missing_pdb;
mod pdb_allows_full_outage;
mod pdb_blocks_drains;
mod recreate_strategy;
mod replicas_pinned_with_hpa;
mod single_replica;

use crate::checks::kubernetes::{
    Judged, counted, invalid_fields, judged_outcome, loader_findings, run_static,
};
use crate::checks::{Check, CheckError, CheckFuture, CheckOutcome, Rule};
use crate::config::Config;
use crate::context::Context;
use crate::declare_rule;
use crate::k8s::base::Deployed;
use crate::k8s::rollout::Scale;
use crate::k8s::{Concern, FlaggerCanary, Loaded, Manifests, Meta, Traffic, Workload};
use crate::report::{Finding, Subject};
use std::sync::Arc;

pub use analysis_template_missing::ANALYSIS_TEMPLATE_MISSING;
pub use blue_green_behind_alb::BLUE_GREEN_BEHIND_ALB;
pub use blue_green_switch_capacity::BLUE_GREEN_SWITCH_CAPACITY;
pub use blue_green_without_analysis::BLUE_GREEN_WITHOUT_ANALYSIS;
pub use canary_without_analysis::CANARY_WITHOUT_ANALYSIS;
pub use capacity_drops::CAPACITY_DROPS;
pub use config::{
    CONFIG_CHANGE_NOT_ROLLED, CONFIG_CHANGED_IN_PLACE, CONFIG_DELETED_WHILE_REFERENCED,
    CONFIG_IMMUTABLE_CHANGED, CONFIG_KEY_REMOVED, CONFIG_NOT_COMPARED,
};
pub use missing_pdb::MISSING_PDB;
pub use pdb_allows_full_outage::PDB_ALLOWS_FULL_OUTAGE;
pub use pdb_blocks_drains::PDB_BLOCKS_DRAINS;
pub use recreate_strategy::RECREATE_STRATEGY;
pub use replicas_pinned_with_hpa::REPLICAS_PINNED_WITH_HPA;
pub use single_replica::SINGLE_REPLICA;

/// What the rules over one workload read: the workload, its scale (replicas or the HPA's
/// range) and the manifests around it (PDBs, Services, analysis templates).
pub struct WorkloadFacts<'a> {
    pub manifests: &'a Manifests,
    pub workload: &'a Workload,
    pub scale: Scale,
    /// Whether it serves user traffic ([`Manifests::traffic`]): capacity findings about a
    /// workload that serves none are `info`.
    pub traffic: Traffic,
}

/// A rule over one workload; each is one file with its `declare_rule!`, and decides itself
/// which kinds of workload it applies to.
type WorkloadRule = fn(&WorkloadFacts<'_>, &mut Out);

/// The rules over each workload, in the order their findings appear.
static WORKLOAD_RULES: &[WorkloadRule] = &[
    recreate_strategy::check,
    capacity_drops::check,
    single_replica::check,
    replicas_pinned_with_hpa::check,
    missing_pdb::check,
    pdb_allows_full_outage::check,
    pdb_blocks_drains::check,
    analysis_template_missing::check,
    canary_without_analysis::check,
    blue_green_without_analysis::check,
    blue_green_switch_capacity::check,
    blue_green_behind_alb::check,
];

/// The rules over each Flagger Canary, in the order their findings appear.
static FLAGGER_RULES: &[fn(&Manifests, &FlaggerCanary, &mut Out)] = &[
    analysis_template_missing::flagger,
    canary_without_analysis::flagger,
];

declare_rule! {
    order: 100;
    /// ## What it catches
    /// A field the rollout arithmetic needs that has the wrong type: `replicas: "3"`,
    /// `maxSurge: 1.5`, `maxUnavailable: two`, a `strategy` that is not a mapping, an
    /// annotation value that is not a string.
    ///
    /// ## Why it matters during a deploy
    /// Kubernetes rejects the manifest at apply time, so the deploy fails halfway through a
    /// multi-object apply; and gonogo cannot judge what it cannot read, so the rules that need
    /// the field did not run on that workload.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: "3"
    /// ```
    ///
    /// ## Do this instead
    /// `replicas: 3`; percentages as strings (`maxSurge: 25%`), whole numbers unquoted.
    pub INVALID_FIELD = ("rollout/invalid-field", Warn, "a manifest field gonogo needs has the wrong type");
}

pub struct Rollout;

pub static RULES: &[&Rule] = crate::checks::registry::ROLLOUT;

const DOCS: &str = "\
Does capacity ever drop while the new version rolls out, and does a canary abort by itself when
the new version is bad?

gonogo reads the workloads you deploy and does the controllers' arithmetic: the effective
maxSurge/maxUnavailable of each Deployment and Argo Rollouts canary against its replicas (or its
HPA's minReplicas..maxReplicas), with Kubernetes' rounding (maxSurge up, maxUnavailable down,
25% defaults, 1 unavailable when both are 0); in-place StatefulSet updates (partition,
maxUnavailable); stop-first DaemonSet updates behind a Service; Recreate; single replicas;
PodDisruptionBudgets; and whether Argo Rollouts and Flagger canaries run an analysis that
aborts a bad version.

It also compares the ConfigMaps and Secrets with the deployed version (the same manifest paths at
the base ref, read from git): objects changed in place while the deployed pods read them, keys the
old pods name removed, immutable objects changed, changes that restart nothing, old objects dropped
while still read. Secret values are never printed, only key names.

Config:
  checks:
    kubernetes:
      manifests: [\"deploy/\", \"k8s/**/*.yaml\"]   # files, folders or globs; \"-\" reads stdin
                                                # (helm template . | gonogo check)

Without a `kubernetes:` section, gonogo reads the YAML files with apiVersion and kind under
deploy/, k8s/, manifests/ and kubernetes/ (Helm templates and files that do not parse are left
out and named in the summary). A document that is not valid YAML in a configured input makes
the check `error`, naming file:line. Waive a rule on one object with the annotation
`gonogo.dev/ignore: \"rollout/missing-pdb,rollout/single-replica\"` (on the object or its pod
template).";

impl Check for Rollout {
    fn id(&self) -> &str {
        "rollout"
    }
    fn title(&self) -> &str {
        "Capacity during the rollout"
    }
    fn docs(&self) -> &str {
        DOCS
    }
    fn rules(&self) -> &'static [&'static Rule] {
        RULES
    }
    fn enabled_by(&self, config: &Config) -> bool {
        config.checks.kubernetes.is_some() || config.checks.rollout.is_some()
    }
    fn run(&self, ctx: Arc<Context>) -> CheckFuture {
        Box::pin(run_static(ctx, "rollout", run))
    }
}

fn run(ctx: &Context) -> Result<CheckOutcome, CheckError> {
    let loaded = ctx.kubernetes().map_err(|e| CheckError(e.to_string()))?;
    // The deployed version is read from git only when there is configuration to compare.
    let base = config::has_config(&loaded.manifests).then(|| ctx.kubernetes_base());
    let base = match &base {
        Some(Ok(deployed)) => Ok(&**deployed),
        Some(Err(why)) => Err(why.as_str()),
        None => Err("nothing to compare"),
    };
    outcome(&loaded, base, loader_findings(ctx, "rollout", &loaded))
}

/// The check's decision over loaded manifests: pure, for tests. `base` is the deployed
/// version's manifests, or why they could not be read; `loader` are the manifest loader's
/// findings when this check reports them ([`loader_findings`]).
pub fn outcome(
    loaded: &Loaded,
    base: Result<&Deployed, &str>,
    loader: Vec<Finding>,
) -> Result<CheckOutcome, CheckError> {
    Ok(judged_outcome(loaded, loader, |manifests| {
        let analysis = analyze_against(base, manifests);
        let rolled = manifests
            .workloads
            .iter()
            .filter(|w| !manifests.is_rollout_template(w))
            .count();
        Judged {
            found: rolled,
            none_in: |files| format!("no workloads in {files} manifest files"),
            head: format!(
                "{} in {}",
                counted(rolled, "workload"),
                counted(manifests.files.len(), "file")
            ),
            all_good: "capacity never drops",
            findings: analysis.findings,
        }
    }))
}

/// Findings, each with the workloads it puts at risk.
#[derive(Debug, Default)]
pub struct Analysis {
    pub findings: Vec<Finding>,
}

type Out = Analysis;

impl Analysis {
    /// Record a finding that puts `object` at risk for `reason` while it counts, waivable by
    /// the annotation of any one of `objects`.
    fn push(
        &mut self,
        finding: Finding,
        objects: &[&Meta],
        object: &str,
        reason: impl Into<String>,
    ) {
        let subject = Subject::default()
            .waivable_by_any(objects.iter().map(|meta| &meta.ignore))
            .at_risk(object.to_string(), reason.into());
        self.findings.push(finding.about(subject));
    }
}

/// Every rollout rule, the configuration rules with them: they compare `base`, the deployed
/// version's manifests (or say why they could not).
pub fn analyze_against(base: Result<&Deployed, &str>, manifests: &Manifests) -> Analysis {
    let mut out = analyze(manifests);
    config::check(base, manifests, &mut out);
    out
}

/// Every rollout rule that reads one version of the manifests. Pure: the fixture harness and
/// the corpus test call it.
pub fn analyze(manifests: &Manifests) -> Analysis {
    let findings = invalid_fields(
        manifests,
        Concern::Rollout,
        &INVALID_FIELD,
        "a field gonogo cannot read",
    );
    let mut out = Analysis { findings };
    for workload in &manifests.workloads {
        if manifests.is_rollout_template(workload) {
            continue;
        }
        let facts = WorkloadFacts {
            manifests,
            workload,
            scale: Scale::of(manifests, workload),
            traffic: manifests.traffic(workload),
        };
        for rule in WORKLOAD_RULES {
            rule(&facts, &mut out);
        }
    }
    for canary in &manifests.flagger_canaries {
        for rule in FLAGGER_RULES {
            rule(manifests, canary, &mut out);
        }
    }
    out
}
