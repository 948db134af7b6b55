//! What the four Kubernetes checks (`readiness`, `grace`, `rollout`, `rollback`) share: the
//! findings-and-risks accumulator, the summary that names workloads, and the skips and notes
//! about how the manifests were found, running the static part off the async runtime, and
//! merging a live drill's result into the static outcome. The manifests themselves are loaded
//! once per run (`Context::kubernetes`).
//!
//! The shape of each of the four checks: facts first, computed once per workload (or container)
//! from the model in [`crate::k8s`] (`ServingPod` for readiness and grace, `Scale` for rollout
//! and rollback), then rules as units: one file per rule holding its `declare_rule!` and a
//! `check` over those facts, run in the order of one table in the check's `mod.rs`
//! (`CONTAINER_RULES`, `WORKLOAD_RULES`). A rule returns a [`Flag`] (or pushes into the
//! accumulator), which records what the finding is about ([`Subject`]): the object whose
//! `gonogo.dev/ignore` annotation can waive it and the workload it puts at risk. The waiver
//! layer (`crate::waivers::apply`) decides annotation waivers with the config and inline ones,
//! after every check ran; the summary's "at risk" list is filled after that
//! ([`crate::report::at_risk_slot`]), so a workload whose findings are all waived, in any of the
//! three ways, is not named.
//!
//! The loader's own problems concern all four checks, so they are reported here, once, by the
//! first check of [`LOADER_REPORTERS`] the run includes ([`loader_findings`]): a typo in
//! `checks.kubernetes.manifests` still shows with `--skip rollout`. An input that cannot be read
//! or parsed (`Loaded::unreadable`) is reported as `rollout/unreadable-manifest` at its file:line
//! and makes every Kubernetes check `error`, but every input that parses is still judged: one
//! bad file must not hide the findings of the others.

use crate::checks::{CheckError, CheckOutcome, Rule};
use crate::context::Context;
use crate::declare_rule;
use crate::k8s::{self, Concern, Inputs, Loaded, Manifests, Meta};
use crate::report::{Finding, Location, Status, Subject, at_risk_slot};
use std::sync::Arc;

declare_rule! {
    order: 110;
    /// ## What it catches
    /// A path or glob in `checks.kubernetes.manifests` that matches no file.
    ///
    /// ## Why it matters during a deploy
    /// A typo in the path silently turns the Kubernetes checks off for those manifests.
    ///
    /// ## Example
    /// `manifests: ["deploy/*.yml"]` when the files end in `.yaml`.
    ///
    /// ## Do this instead
    /// Fix the pattern; a folder name reads every YAML file under it.
    pub UNMATCHED_PATH = ("rollout/unmatched-path", Warn, "a configured manifests path matches no file");
}

declare_rule! {
    order: 120;
    /// ## What it catches
    /// A configured manifest input (a file, or one document of a file or of standard input)
    /// that gonogo could not read: not valid YAML, an unrendered Helm template, not UTF-8,
    /// too large, or unreadable.
    ///
    /// ## Why it matters during a deploy
    /// `kubectl apply` rejects the same input, so the deploy fails halfway through; and gonogo
    /// could not judge the objects in it. The other files are still judged, and each
    /// Kubernetes check ends `error` until the input reads, because not knowing is not a go.
    ///
    /// ## Example
    /// `deploy/chart/templates/deployment.yaml` listed in `checks.kubernetes.manifests`:
    /// `replicas: {{ .Values.replicas }}` is not a Kubernetes manifest.
    ///
    /// ## Do this instead
    /// Fix the document, or feed rendered output instead of templates
    /// (`helm template . | gonogo check` with `manifests: ["-"]`), or narrow the pattern.
    pub UNREADABLE_MANIFEST = ("rollout/unreadable-manifest", Fail, "a configured manifest input could not be read or parsed");
}

/// The checks that report the manifest loader's findings, by preference: `rollout` (where a
/// mistyped manifests path has always been reported, under its rule id), else the first of the
/// others in report order.
pub const LOADER_REPORTERS: [&str; 4] = ["rollout", "readiness", "grace", "rollback"];

/// The manifest loader's findings for `check` to report: all of them when it is the first of
/// [`LOADER_REPORTERS`] this run includes, else none (another check reports them).
pub fn loader_findings(ctx: &Context, check: &str, loaded: &Loaded) -> Vec<Finding> {
    let reporter = LOADER_REPORTERS
        .iter()
        .find(|id| ctx.checks.iter().any(|selected| selected == *id));
    if reporter != Some(&check) {
        return Vec::new();
    }
    let config_path = ctx.config_path.as_deref().unwrap_or("gonogo.yaml");
    let mut findings = unmatched_paths(loaded, config_path);
    findings.extend(unreadable_inputs(loaded));
    findings
}

/// A finding for each configured input that could not be read or parsed, at its file:line.
pub fn unreadable_inputs(loaded: &Loaded) -> Vec<Finding> {
    loaded
        .unreadable
        .iter()
        .map(|problem| {
            let location = match problem.pos {
                Some(pos) => Location::new(&problem.path, pos.line, pos.column),
                None => Location::file(&problem.path),
            };
            UNREADABLE_MANIFEST
                .finding(problem.message.clone())
                .at(location)
                .with_fix("fix the document or render templates first (`helm template . | gonogo check` with `manifests: [\"-\"]`); the other inputs were judged")
        })
        .collect()
}

/// The check's `error` when configured inputs could not be read: the outcome judged over the
/// rest keeps its findings, and its summary says first what was not read.
fn with_unreadable(loaded: &Loaded, mut outcome: CheckOutcome) -> CheckOutcome {
    let Some(first) = loaded.unreadable.first() else {
        return outcome;
    };
    let more = loaded.unreadable.len() - 1;
    outcome.status = Some(Status::Error);
    outcome.summary = format!(
        "could not read {first}{}; judged the rest: {}",
        if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        },
        outcome.summary
    );
    outcome
}

/// A finding for each configured manifests pattern that matched no file, at the config file.
pub fn unmatched_paths(loaded: &Loaded, config_path: &str) -> Vec<Finding> {
    loaded
        .unmatched
        .iter()
        .map(|pattern| {
            UNMATCHED_PATH
                .finding(format!(
                    "`{pattern}` matches no file under the project root"
                ))
                .at(Location::file(config_path))
                .with_fix("fix the pattern in checks.kubernetes.manifests")
        })
        .collect()
}

/// Run a check's static part on a blocking thread: loading and analysing manifests is CPU
/// work, and the first check to ask parses a stream the others wait for.
pub async fn run_static(
    ctx: Arc<Context>,
    check: &str,
    run: fn(&Context) -> Result<CheckOutcome, CheckError>,
) -> Result<CheckOutcome, CheckError> {
    tokio::task::spawn_blocking(move || run(&ctx))
        .await
        .map_err(|e| CheckError(format!("the {check} check crashed: {e}")))?
}

/// The static outcome with a live drill's result added: its findings, its summary (`Ok`) in
/// front of the static one, or, when the drill could not decide (`Err`), the check's `error`
/// with the reason, labelled `label`, and the static summary kept in parentheses.
pub fn with_live_result(
    mut outcome: CheckOutcome,
    findings: Vec<Finding>,
    result: Result<String, String>,
    label: &str,
) -> CheckOutcome {
    let static_summary = if outcome.status == Some(Status::Skip) {
        format!("static: {}", outcome.summary)
    } else {
        outcome.summary.clone()
    };
    outcome.findings.extend(findings);
    match result {
        Ok(live_summary) => {
            outcome.status = None;
            outcome.summary = format!("{live_summary}; {static_summary}");
        }
        Err(error) => {
            outcome.status = Some(Status::Error);
            outcome.summary = format!("{label}: {error} ({static_summary})");
        }
    }
    outcome
}

pub fn found_under(files: &[String]) -> String {
    let mut dirs: Vec<&str> = files
        .iter()
        .map(|f| f.split('/').next().unwrap_or("."))
        .collect();
    dirs.dedup();
    dirs.iter()
        .map(|d| format!("{d}/"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn skipped_note(skipped: &[String]) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = skipped.iter().take(3).map(String::as_str).collect();
    let more = skipped.len().saturating_sub(shown.len());
    format!(
        "; left out: {}{}",
        shown.join("; "),
        if more > 0 {
            format!(" …and {more} more")
        } else {
            String::new()
        }
    )
}

/// Findings (each with the workload it puts at risk) and what was looked at.
#[derive(Debug, Default)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    /// Serving containers checked.
    pub serving: usize,
    /// Workloads with at least one serving container.
    pub workloads: usize,
}

impl Analysis {
    /// Record a rule's [`Flag`] on the object `meta` describes.
    pub fn flag(&mut self, flag: Flag, meta: &Meta) {
        self.push(flag.finding, meta, flag.risk);
    }

    /// Record a finding about the object `meta` describes: waivable by its `gonogo.dev/ignore`
    /// annotation, putting it at risk for `reason` while it counts.
    pub fn push(&mut self, finding: Finding, meta: &Meta, reason: impl Into<String>) {
        let subject = Subject::object(&meta.ignore, meta.display(), reason.into());
        self.findings.push(finding.about(subject));
    }
}

/// One rule's verdict on one object: the finding, and why the summary puts the object at risk
/// when the finding is not waived.
#[derive(Debug)]
pub struct Flag {
    pub finding: Finding,
    pub risk: String,
}

impl Flag {
    pub fn new(finding: Finding, risk: impl Into<String>) -> Flag {
        Flag {
            finding,
            risk: risk.into(),
        }
    }
}

/// A check's `invalid-field` findings (`rule`): one per field of its `concern` that has the
/// wrong type, waivable by the object's annotation, each putting its object at risk for
/// `reason` while it counts.
pub fn invalid_fields(
    manifests: &Manifests,
    concern: Concern,
    rule: &'static Rule,
    reason: &str,
) -> Vec<Finding> {
    manifests
        .problems
        .iter()
        .filter(|p| p.concern == concern)
        .map(|problem| {
            rule.finding(problem.message.clone())
                .at(Location::new(
                    &problem.file,
                    problem.pos.line,
                    problem.pos.column,
                ))
                .about(Subject::object(
                    &problem.ignore,
                    problem.object.clone(),
                    reason.to_string(),
                ))
        })
        .collect()
}

/// The skip every Kubernetes check reports when there is nothing to read.
pub fn nothing_to_check(loaded: &Loaded) -> Option<CheckOutcome> {
    let manifests = &loaded.manifests;
    match &loaded.inputs {
        Inputs::Configured(patterns) if patterns.is_empty() => {
            return Some(CheckOutcome::skip(
                "checks.kubernetes.manifests is empty: no manifests to check",
            ));
        }
        Inputs::Discovered if manifests.files.is_empty() => {
            return Some(CheckOutcome::skip(format!(
                "no Kubernetes manifests found (looked for YAML with apiVersion and kind under {}; set checks.kubernetes.manifests){}",
                k8s::load::DISCOVERY_DIRS
                    .iter()
                    .map(|d| format!("{d}/"))
                    .collect::<Vec<_>>()
                    .join(", "),
                skipped_note(&loaded.skipped)
            )));
        }
        _ => {}
    }
    None
}

/// What a Kubernetes check judged in the manifests, for its outcome ([`judged_outcome`]).
pub struct Judged {
    /// How many of the things the check judges it found (serving containers, workloads).
    pub found: usize,
    /// Why the check skips when it found none and flagged nothing, given the number of
    /// manifest files read: "no workloads in 3 manifest files".
    pub none_in: fn(usize) -> String,
    /// The summary's opening: "3 serving containers in 2 workloads".
    pub head: String,
    /// The summary's ending when no workload is at risk: "probes look right".
    pub all_good: &'static str,
    pub findings: Vec<Finding>,
}

/// A Kubernetes check's outcome: the skip when there is nothing to read or nothing to judge,
/// otherwise the findings under a summary naming what was judged, where the manifests were
/// found, the workloads at risk and the files left out. `loader` ([`loader_findings`]) come
/// first.
pub fn judged_outcome(
    loaded: &Loaded,
    loader: Vec<Finding>,
    judge: impl FnOnce(&Manifests) -> Judged,
) -> CheckOutcome {
    with_unreadable(loaded, judged_over_readable(loaded, loader, judge))
}

fn judged_over_readable(
    loaded: &Loaded,
    loader: Vec<Finding>,
    judge: impl FnOnce(&Manifests) -> Judged,
) -> CheckOutcome {
    if let Some(skip) = nothing_to_check(loaded) {
        return skip;
    }
    let manifests = &loaded.manifests;
    let judged = judge(manifests);
    if judged.found == 0 && judged.findings.is_empty() && loader.is_empty() {
        let source = if manifests.files.is_empty() {
            "no manifest file matched".to_string()
        } else {
            (judged.none_in)(manifests.files.len())
        };
        return CheckOutcome::skip(format!("{source}{}", skipped_note(&loaded.skipped)));
    }
    let mut summary = judged.head;
    if loaded.inputs == Inputs::Discovered {
        summary.push_str(&format!(
            " (no config: found under {})",
            found_under(&manifests.files)
        ));
    }
    // Named once waivers are known (`CheckResult::settle`).
    summary.push_str(&at_risk_slot(judged.all_good));
    summary.push_str(&skipped_note(&loaded.skipped));
    let mut findings = loader;
    findings.extend(judged.findings);
    CheckOutcome::findings(summary, findings)
}

/// The outcome of a check that judges serving containers (`readiness`, `grace`) from
/// `analyze`'s [`Analysis`].
pub fn container_outcome(
    loaded: &Loaded,
    loader: Vec<Finding>,
    analyze: impl FnOnce(&Manifests) -> Analysis,
    all_good: &'static str,
) -> CheckOutcome {
    judged_outcome(loaded, loader, |manifests| {
        let analysis = analyze(manifests);
        Judged {
            found: analysis.serving,
            none_in: |files| {
                format!(
                    "no serving containers in {}",
                    counted(files, "manifest file")
                )
            },
            head: format!(
                "{} in {}",
                counted(analysis.serving, "serving container"),
                counted(analysis.workloads, "workload")
            ),
            all_good,
            findings: analysis.findings,
        }
    })
}

/// "1 workload", "3 workloads"
pub fn counted(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}
