//! `readiness` (static part): does every serving container have a readiness probe that can
//! take the pod out of rotation when its dependencies fail, a liveness probe that does not, and
//! probe timing that notices a bad pod before the rollout moves on?
//!
//! Reads the workloads under `checks.kubernetes.manifests` through [`crate::k8s`], like
//! `rollout`. The live part ([`live`]: observe the endpoints, cut dependencies through a proxy)
//! runs after it when `readiness.url`, `command` or a proxied dependency is configured, and adds
//! its findings; `--offline` skips only the live part.

mod file_ready_at_start;
pub mod live;
mod liveness_checks_dependencies;
mod missing_readiness_probe;
mod probes;
mod same_as_liveness;
mod slow_detection;
mod tcp_readiness;

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

pub use file_ready_at_start::FILE_READY_AT_START;
pub use liveness_checks_dependencies::LIVENESS_CHECKS_DEPENDENCIES;
pub use missing_readiness_probe::MISSING_READINESS_PROBE;
pub use probes::MAX_DETECTION_SECONDS;
pub use same_as_liveness::SAME_AS_LIVENESS;
pub use slow_detection::SLOW_DETECTION;
pub use tcp_readiness::TCP_READINESS;

/// The per-container rules, in the order their findings appear: each is one file with its
/// `declare_rule!` and a `check` over [`probes::ContainerProbes`].
static CONTAINER_RULES: &[probes::ContainerRule] = &[
    missing_readiness_probe::check,
    tcp_readiness::check,
    file_ready_at_start::check,
    same_as_liveness::check,
    liveness_checks_dependencies::check,
    slow_detection::check,
];

declare_rule! {
    order: 70;
    /// ## What it catches
    /// A probe field that has the wrong type: `periodSeconds: "10"`, `failureThreshold: three`,
    /// a `readinessProbe` that is not a mapping, ports that are not a list.
    ///
    /// ## Why it matters during a deploy
    /// Kubernetes rejects the manifest at apply time, so the deploy fails halfway through a
    /// multi-object apply; and gonogo cannot judge a probe it cannot read, so the readiness
    /// rules did not run on that field.
    ///
    /// ## Example
    /// ```yaml
    /// readinessProbe:
    ///   periodSeconds: "10"
    /// ```
    ///
    /// ## Do this instead
    /// Whole numbers unquoted: `periodSeconds: 10`.
    pub INVALID_FIELD = ("readiness/invalid-field", Warn, "a probe field gonogo needs has the wrong type");
}

pub struct Readiness;

/// Every rule: the static ones, then those of the live drill (tested against real services
/// in tests/readiness_live.rs).
pub static RULES: &[&Rule] = crate::checks::registry::READINESS;

const DOCS: &str = "\
Will Kubernetes take a pod out of rotation when it cannot serve, and only then?

The static part reads the workloads you deploy (Deployment, StatefulSet, DaemonSet, Argo
Rollouts Rollout) and looks at every serving container (one that declares ports, or every
container of a pod a Service selects when none declares ports; init containers never): it must
have a readiness probe; readiness must not be the same check as liveness (liveness must not
depend on other systems, readiness should); a tcpSocket readiness probe cannot see
dependencies; a liveness probe that looks like a dependency check restarts pods when a
database blips; and the time to notice an unready pod (periodSeconds x failureThreshold,
Kubernetes defaults 10 s x 3) must stay within 30 s.

Config:
  checks:
    kubernetes:
      manifests: [\"deploy/\"]   # shared with rollout and grace; \"-\" reads stdin

Without a `kubernetes:` section, gonogo reads the YAML files with apiVersion and kind under
deploy/, k8s/, manifests/ and kubernetes/. Waive a rule on one object with the annotation
`gonogo.dev/ignore: \"readiness/tcp-readiness\"`.

The live part runs against a running service when `readiness.url` is set. It GETs readiness a
few times and liveness once (2 s per request, bodies capped at 1 MiB), reads the body
(application/health+json, Spring Boot Actuator, MicroProfile Health, the Kubernetes verbose
list, plain text) and says which declared dependencies it names. Then, for every dependency
with a `proxy`, gonogo listens on `listen` and forwards to `upstream` for the run (point the
service at `listen`), checks traffic flows, cuts it (`mode: close` refuses and closes
connections; `blackhole` accepts and never answers) and polls: a hard dependency's cut must turn
readiness unready (not 2xx/3xx) within the detection budget (the readiness probe's
periodSeconds x failureThreshold from the manifests, else `detection_budget`, else 30 s) while
liveness stays up; after the restore readiness must recover within the budget. A `soft`
dependency's cut must leave readiness up. With `command`, gonogo starts the service itself
(with `env`), waits for readiness (`startup_timeout`, 30 s), runs the drill and stops it
(SIGTERM, then SIGKILL to its process group). Dependencies are restored and the service stopped
on every exit path; Ctrl-C, SIGTERM or SIGHUP end the drill cleanly (a second signal quits at once).

  checks:
    readiness:
      url: http://127.0.0.1:8080/ready
      liveness_url: http://127.0.0.1:8080/healthz
      detection_budget: 15s
      timeout: 2s
      dependencies:
        - name: postgres
          proxy: {listen: \"127.0.0.1:15432\", upstream: \"127.0.0.1:5432\", mode: blackhole}
        - {name: recommendations, soft: true, proxy: {listen: \"127.0.0.1:18080\", upstream: \"127.0.0.1:8081\"}}
      command: [\"./target/release/api\"]
      env: {DATABASE_URL: \"postgres://app@127.0.0.1:15432/app\"}";

impl Check for Readiness {
    fn id(&self) -> &str {
        "readiness"
    }
    fn title(&self) -> &str {
        "Readiness and liveness probes"
    }
    fn docs(&self) -> &str {
        DOCS
    }
    fn rules(&self) -> &'static [&'static Rule] {
        RULES
    }
    fn enabled_by(&self, config: &Config) -> bool {
        config.checks.kubernetes.is_some() || config.checks.readiness.is_some()
    }
    fn run(&self, ctx: Arc<Context>) -> CheckFuture {
        Box::pin(async move {
            let outcome = run_static(Arc::clone(&ctx), "readiness", run).await?;
            Ok(with_live(&ctx, outcome).await)
        })
    }
}

/// The static outcome with the live part's findings and summary added, when it is configured.
async fn with_live(ctx: &Context, mut outcome: CheckOutcome) -> CheckOutcome {
    let Some(settings) = live::settings(ctx) else {
        return outcome;
    };
    if ctx.offline {
        outcome.summary.push_str("; live drill skipped: --offline");
        return outcome;
    }
    let live = match settings {
        Ok(settings) => live::run(ctx, &settings).await,
        Err(error) => live::LiveResult {
            error: Some(error),
            ..Default::default()
        },
    };
    let result = match live.error {
        Some(error) => Err(error),
        None => Ok(format!("live: {}", live.summary)),
    };
    with_live_result(outcome, live.findings, result, "live drill")
}

fn run(ctx: &Context) -> Result<CheckOutcome, CheckError> {
    let loaded = ctx.kubernetes().map_err(|e| CheckError(e.to_string()))?;
    let loader = loader_findings(ctx, "readiness", &loaded);
    outcome(&loaded, loader)
}

/// The check's decision over loaded manifests: pure, for tests. `loader` are the manifest
/// loader's findings when this check reports them ([`loader_findings`]).
pub fn outcome(loaded: &Loaded, loader: Vec<Finding>) -> Result<CheckOutcome, CheckError> {
    Ok(container_outcome(
        loaded,
        loader,
        analyze,
        "probes look right",
    ))
}

/// Every readiness rule over the manifests. Pure: the fixture harness and the corpus test call it.
pub fn analyze(manifests: &Manifests) -> Analysis {
    let findings = invalid_fields(
        manifests,
        Concern::Probes,
        &INVALID_FIELD,
        "a probe field gonogo cannot read",
    );
    let mut out = Analysis {
        findings,
        ..Analysis::default()
    };
    for workload in &manifests.workloads {
        probes::check(manifests, workload, CONTAINER_RULES, &mut out);
    }
    out
}
