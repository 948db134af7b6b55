//! `grace` (static part): does a pod that receives SIGTERM get to finish its requests before
//! Kubernetes kills it, and does it stop receiving new ones first?
//!
//! Reads the workloads under `checks.kubernetes.manifests` through [`crate::k8s`], like
//! `rollout` and `readiness`, and adds up terminationGracePeriodSeconds, the preStop delay, the
//! longest request (`grace.max_request_seconds`) and the load balancer's deregistration delay.
//! The live SIGTERM drill ([`drill`]: `grace.command`, `grace.url`) runs after it when
//! configured and adds its findings; `--offline` skips only the drill.

pub mod drill;
mod grace_period_too_short;
mod missing_prestop;
mod prestop_exceeds_grace;
mod prestop_shorter_than_deregistration;
mod shell_entrypoint;
mod termination;

use crate::checks::kubernetes::{
    Analysis, container_outcome, invalid_fields, loader_findings, run_static, with_live_result,
};
use crate::checks::{Check, CheckError, CheckFuture, CheckOutcome, Rule};
use crate::config::Config;
use crate::context::Context;
use crate::declare_rule;
use crate::k8s::{Concern, Loaded, Manifests};
use crate::report::Finding;
use std::sync::Arc;

pub use grace_period_too_short::GRACE_PERIOD_TOO_SHORT;
pub use missing_prestop::MISSING_PRESTOP;
pub use prestop_exceeds_grace::PRESTOP_EXCEEDS_GRACE;
pub use prestop_shorter_than_deregistration::PRESTOP_SHORTER_THAN_DEREGISTRATION;
pub use shell_entrypoint::SHELL_ENTRYPOINT;
pub use termination::{DEFAULT_GRACE_SECONDS, DEFAULT_MAX_REQUEST_SECONDS, MARGIN_SECONDS};

/// The per-container rules, in the order their findings appear: each is one file with its
/// `declare_rule!` and a `check` over [`termination::ContainerShutdown`].
static CONTAINER_RULES: termination::ContainerRules = termination::ContainerRules {
    any_container: &[shell_entrypoint::check],
    serving: &[
        missing_prestop::check,
        prestop_exceeds_grace::check,
        grace_period_too_short::check,
        prestop_shorter_than_deregistration::check,
    ],
};

declare_rule! {
    order: 60;
    /// ## What it catches
    /// A termination field that has the wrong type: `terminationGracePeriodSeconds: "60"`,
    /// a `command` that is not a list of strings, `sleep: {seconds: ten}`.
    ///
    /// ## Why it matters during a deploy
    /// Kubernetes rejects the manifest at apply time, so the deploy fails halfway through a
    /// multi-object apply; and gonogo cannot add up what it cannot read.
    ///
    /// ## Example
    /// ```yaml
    /// terminationGracePeriodSeconds: "60"
    /// ```
    ///
    /// ## Do this instead
    /// `terminationGracePeriodSeconds: 60`; `command: ["/app/server"]`.
    pub INVALID_FIELD = ("grace/invalid-field", Warn, "a termination field gonogo needs has the wrong type");
}

pub struct Grace;

/// Every rule: the static ones, then those of the live drill (tested against real services
/// in tests/grace_drill.rs).
pub static RULES: &[&Rule] = crate::checks::registry::GRACE;

const DOCS: &str = "\
Does a pod that is told to stop get to finish its requests, and stop receiving new ones first?

When Kubernetes deletes a pod it sends SIGTERM and, at the same time and asynchronously,
removes the pod from the Service's endpoints and the load balancer's targets. gonogo adds up,
for every serving container: the preStop delay (exec `sleep N` or the native `sleep` action),
the longest request (`grace.max_request_seconds`, 10 s when unset) and a margin for the process
to exit (`grace.margin_seconds`, 2 s when unset), against
terminationGracePeriodSeconds (30 s when unset); a missing preStop delay behind a Service; a
preStop delay that reaches the grace period (SIGKILL before draining); a preStop delay shorter
than the load balancer's deregistration delay (the AWS load balancer controller's
`deregistration_delay.timeout_seconds` annotation on the Service or Ingress, else
`grace.lb_deregistration_seconds`); and a shell-form command whose PID 1 does not forward
SIGTERM.

Config:
  checks:
    grace:
      max_request_seconds: 30          # the longest request the service serves
      lb_deregistration_seconds: 15    # when no annotation says it
      margin_seconds: 2                # from the last request to the process's exit
    kubernetes:
      manifests: [\"deploy/\"]

Waive a rule on one object with the annotation `gonogo.dev/ignore: \"grace/missing-prestop\"`.

The SIGTERM drill runs when `grace.command` is set: gonogo starts the service (with `env`),
waits for readiness (`grace.readiness_url`, else `readiness.url`, else the port of `grace.url`
accepting connections), opens `requests` (5) long requests against `grace.url`, sends SIGTERM to
the process and records a timeline in ms after SIGTERM. Every in-flight request must complete
with success; readiness should fail within 1 s; the process must stop within
terminationGracePeriodSeconds (from the manifests, else `termination_grace_seconds`, else
30 s), after which it is killed like the kubelet would; exit 0 and ending by the SIGTERM itself
after the drain (uvicorn re-raises it) are both normal stops.

New connections are judged in the order Kubernetes makes them: it removes the endpoints and
runs the preStop hook, and sends SIGTERM after it. The preStop delay comes from the manifests
(the same workload as the grace period), else `prestop_seconds`. With one, connections after
SIGTERM are past the endpoints' removal and only `new_connections: served | refused` is held
against them; without one, each readiness poll (a new connection) must be served or cleanly
refused, and a listener that closes within 2 s of SIGTERM (`lb_deregistration_seconds` when
set) is `grace/listener-close-race`, whether or not a probe happened to be reset at that
instant: the verdict rests on the cause, the probes are its evidence.

  checks:
    grace:
      command: [\"./target/release/api\"]
      env: {PORT: \"8080\"}
      url: http://127.0.0.1:8080/slow?ms=3000
      readiness_url: http://127.0.0.1:8080/ready
      requests: 5
      prestop_seconds: 10              # when no manifest says it";

/// What the config says about requests and the load balancer.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub max_request_seconds: Option<f64>,
    pub lb_deregistration_seconds: Option<f64>,
    /// `grace.margin_seconds`: what the process needs after its last request to exit.
    pub margin_seconds: Option<f64>,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        match &config.checks.grace {
            Some(grace) => Settings {
                max_request_seconds: grace.max_request_seconds,
                lb_deregistration_seconds: grace.lb_deregistration_seconds,
                margin_seconds: grace.margin_seconds,
            },
            None => Settings::default(),
        }
    }
}

impl Check for Grace {
    fn id(&self) -> &str {
        "grace"
    }
    fn title(&self) -> &str {
        "Graceful shutdown"
    }
    fn docs(&self) -> &str {
        DOCS
    }
    fn rules(&self) -> &'static [&'static Rule] {
        RULES
    }
    fn enabled_by(&self, config: &Config) -> bool {
        config.checks.kubernetes.is_some() || config.checks.grace.is_some()
    }
    fn run(&self, ctx: Arc<Context>) -> CheckFuture {
        Box::pin(async move {
            let outcome = run_static(Arc::clone(&ctx), "grace", run).await?;
            Ok(with_drill(&ctx, outcome).await)
        })
    }
}

/// The static outcome with the SIGTERM drill's findings and timeline added, when configured.
async fn with_drill(ctx: &Context, mut outcome: CheckOutcome) -> CheckOutcome {
    let Some(settings) = drill::settings(ctx) else {
        return outcome;
    };
    if ctx.offline {
        outcome
            .summary
            .push_str("; SIGTERM drill skipped: --offline");
        return outcome;
    }
    let result = match settings {
        Ok(settings) => drill::run(ctx, &settings).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(timeline) => with_live_result(
            outcome,
            drill::judge(&timeline),
            Ok(drill::summary(&timeline)),
            "SIGTERM drill",
        ),
        Err(error) => with_live_result(outcome, Vec::new(), Err(error), "SIGTERM drill"),
    }
}

fn run(ctx: &Context) -> Result<CheckOutcome, CheckError> {
    let loaded = ctx.kubernetes().map_err(|e| CheckError(e.to_string()))?;
    let loader = loader_findings(ctx, "grace", &loaded);
    outcome(&loaded, loader, &Settings::from_config(&ctx.config))
}

/// The check's decision over loaded manifests: pure, for tests. `loader` are the manifest
/// loader's findings when this check reports them ([`loader_findings`]).
pub fn outcome(
    loaded: &Loaded,
    loader: Vec<Finding>,
    settings: &Settings,
) -> Result<CheckOutcome, CheckError> {
    Ok(container_outcome(
        loaded,
        loader,
        |manifests| analyze(manifests, settings),
        "shutdown adds up",
    ))
}

/// Every grace rule over the manifests. Pure: the fixture harness and the corpus test call it.
pub fn analyze(manifests: &Manifests, settings: &Settings) -> Analysis {
    let findings = invalid_fields(
        manifests,
        Concern::Termination,
        &INVALID_FIELD,
        "a termination field gonogo cannot read",
    );
    let mut out = Analysis {
        findings,
        ..Analysis::default()
    };
    for workload in &manifests.workloads {
        termination::check(manifests, workload, settings, &CONTAINER_RULES, &mut out);
    }
    out
}
