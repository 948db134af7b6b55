//! `readiness` (live part): does readiness really test the dependencies? Answered by
//! experiment against a running service: gonogo observes the readiness and liveness endpoints,
//! then, for every dependency reached through its proxy, cuts the dependency and watches.
//!
//! - [`health`]: what a readiness body says (pure).
//! - [`drill`]: one dependency's cut, and the pure judgement of its timeline.
//!
//! The machinery (probe client, proxy, the service gonogo starts, interrupts) is shared with
//! the grace drill and lives in [`crate::live`].

pub(crate) mod drill;
pub(crate) mod health;

use crate::config::{Config, CutMode};
use crate::context::Context;
use crate::declare_rule;
use crate::live::{
    DEFAULT_STARTUP_TIMEOUT, ca_file, human, interrupt, observe, process, proxy, wait_ready,
};
use crate::report::Finding;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_DETECTION_BUDGET: Duration = Duration::from_secs(30);
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a service gonogo started gets to exit on SIGTERM when the drill is over.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Readiness is asked this many times before any cut, to see whether it looks static.
const OBSERVATIONS: usize = 5;

declare_rule! {
    order: 80;
    /// ## What it catches
    /// A readiness endpoint that, while dependencies are declared in `readiness.dependencies`,
    /// answers every time in under 2 ms with the same body, and that body names none of them.
    ///
    /// ## Why it matters during a deploy
    /// A handler that returns 200 without looking at anything keeps a pod in rotation while
    /// its database is unreachable: every request it receives fails, and a rollout of a version
    /// that cannot reach its dependencies goes ahead.
    ///
    /// ## Example
    /// ```text
    /// GET /ready -> 200 "OK" in 90 µs, five times, with `postgres` declared
    /// ```
    ///
    /// ## Do this instead
    /// Check each hard dependency with a cheap round trip and a short timeout, and say so in
    /// the body (`application/health+json` `checks`, or Spring's `components`). The cut drill
    /// (`proxy:` on a dependency) proves it.
    pub LOOKS_STATIC = ("readiness/looks-static", Warn, "readiness answers instantly with a constant body while dependencies are declared");
}

declare_rule! {
    order: 90;
    /// ## What it catches
    /// A declared dependency that the readiness body does not name among the checks it reports
    /// (health+json `checks`, Spring Boot `components`, MicroProfile `checks[].name`, the
    /// Kubernetes verbose `[+]name` list). Common aliases count: Spring's `db` for `postgres`.
    ///
    /// ## Why it matters during a deploy
    /// It is a hint, not a verdict: a handler may check a dependency without reporting it.
    /// But a body that lists its checks and leaves one out usually means that one is not
    /// checked, and the pod stays ready when it is down.
    ///
    /// ## Example
    /// ```json
    /// {"status": "pass", "checks": {"uptime": [{"status": "pass"}]}}
    /// ```
    ///
    /// ## Do this instead
    /// Report every hard dependency in the body, or give it a `proxy:` so the cut drill tests
    /// it for real.
    pub BODY_OMITS_DEPENDENCY = ("readiness/body-omits-dependency", Info, "the readiness body does not name a declared dependency");
}

declare_rule! {
    order: 100;
    /// ## What it catches
    /// A hard dependency (not `soft: true`) cut through gonogo's proxy while readiness stays
    /// successful (2xx/3xx, as Kubernetes counts it) for the whole detection budget: the
    /// readiness probe's periodSeconds × failureThreshold from the manifests, else
    /// `readiness.detection_budget`, else 30 s.
    ///
    /// ## Why it matters during a deploy
    /// This is the readiness probe that returns 200 while the database is down. Kubernetes
    /// keeps sending traffic to pods that cannot serve it, and a new version that cannot reach
    /// a dependency passes its readiness gate and replaces the old one.
    ///
    /// ## Example
    /// ```text
    /// `postgres` cut (close, budget 15s): stayed ready for 15s
    /// ```
    ///
    /// ## Do this instead
    /// Make the readiness handler test the dependency (a round trip with a timeout shorter
    /// than the probe's `timeoutSeconds`) and return 503 when it fails.
    pub CUT_NOT_DETECTED = ("readiness/cut-not-detected", Fail, "readiness stays up when a hard dependency is cut");
}

declare_rule! {
    order: 110;
    /// ## What it catches
    /// Liveness (`readiness.liveness_url`) failing, or not answering, while a dependency is cut
    /// or after it is restored.
    ///
    /// ## Why it matters during a deploy
    /// Kubernetes restarts a container whose liveness fails. A liveness that follows a
    /// dependency restarts every pod at once during that dependency's outage: a database
    /// failover becomes a crash loop of the whole service, and the restarts pile load on the
    /// dependency when it comes back.
    ///
    /// ## Example
    /// ```text
    /// liveness turned 503 0.4s after `postgres` was cut
    /// ```
    ///
    /// ## Do this instead
    /// Liveness answers whether the process itself works (it answers HTTP, its event loop is
    /// not stuck); dependency checks belong in readiness.
    pub LIVENESS_FAILS_ON_CUT = ("readiness/liveness-fails-on-cut", Fail, "liveness fails when a dependency is cut");
}

declare_rule! {
    order: 120;
    /// ## What it catches
    /// Readiness that turned unready when a dependency was cut and did not become ready again
    /// within the detection budget after the dependency was restored.
    ///
    /// ## Why it matters during a deploy
    /// A pod that does not recover on its own stays out of rotation after a dependency blip
    /// until someone restarts it; after a short database failover the whole service is down.
    ///
    /// ## Example
    /// ```text
    /// readiness did not recover within 15s after `postgres` was restored
    /// ```
    ///
    /// ## Do this instead
    /// Let the connection pool drop broken connections and reconnect; do not cache a failed
    /// dependency check forever.
    pub NO_RECOVERY = ("readiness/no-recovery", Fail, "readiness does not recover after a dependency comes back");
}

declare_rule! {
    order: 130;
    /// ## What it catches
    /// Readiness turning unready when a dependency marked `soft: true` is cut.
    ///
    /// ## Why it matters during a deploy
    /// A soft dependency is one the service can serve without (recommendations, a cache).
    /// Every replica shares it, so when it goes down every replica turns unready at once and
    /// the load balancer has nowhere to send traffic: a degraded feature becomes a full outage.
    ///
    /// ## Example
    /// ```text
    /// readiness turned 503 0.3s after the soft dependency `recommendations` was cut
    /// ```
    ///
    /// ## Do this instead
    /// Degrade (serve without it, show a fallback) and keep readiness up; report the
    /// dependency in a health endpoint that is not the readiness probe.
    pub SOFT_DEPENDENCY_UNREADY = ("readiness/soft-dependency-unready", Fail, "a soft dependency's outage takes readiness down");
}

declare_rule! {
    order: 140;
    /// ## What it catches
    /// Nothing wrong: the record of a live observation or a dependency cut that went as it
    /// should (time to unready, time to ready again, liveness behaviour), so the report shows
    /// the measured numbers.
    ///
    /// ## Why it matters during a deploy
    /// The times are how long a broken pod keeps receiving traffic and how long a recovered
    /// one stays out; they are worth comparing release to release.
    ///
    /// ## Example
    /// ```text
    /// `postgres` cut (close, budget 15s): unready after 0.31s (503), ready 0.25s after restore
    /// ```
    ///
    /// ## Do this instead
    /// Nothing to do.
    pub DRILL_RESULT = ("readiness/drill-result", Info, "what the live readiness drill observed");
}

/// A dependency as the drill sees it.
#[derive(Debug, Clone)]
pub struct Dependency {
    pub name: String,
    pub soft: bool,
    /// `(listen, upstream, mode)` when gonogo proxies it.
    pub proxy: Option<(String, String, CutMode)>,
}

/// How long readiness may take to notice, and where that number comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub duration: Duration,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub url: String,
    pub liveness_url: Option<String>,
    pub dependencies: Vec<Dependency>,
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub timeout: Duration,
    pub startup_timeout: Duration,
    pub budget: Budget,
    /// `checks.readiness.ca_file` against the project root: a private CA to trust for https.
    pub ca_file: Option<PathBuf>,
}

/// Whether the config asks for the live part at all (a URL, a command or a proxied
/// dependency); `Some(Err)` when it does but cannot be run as written.
pub fn settings(ctx: &Context) -> Option<Result<Settings, String>> {
    let config = ctx.config.checks.readiness.as_ref()?;
    let proxied = config.dependencies.iter().any(|d| d.proxy.is_some());
    if config.url.is_none() && config.command.is_empty() && !proxied {
        return None;
    }
    let Some(url) = &config.url else {
        return Some(Err(
            "checks.readiness.url is needed for the live drill (the readiness endpoint to watch, e.g. http://127.0.0.1:8080/ready)"
                .to_string(),
        ));
    };
    let dependencies = config
        .dependencies
        .iter()
        .map(|d| Dependency {
            name: d.name.clone(),
            soft: d.soft,
            proxy: d
                .proxy
                .as_ref()
                .map(|p| (p.listen.value.clone(), p.upstream.value.clone(), p.mode)),
        })
        .collect();
    let budget = budget(ctx, config.detection_budget.map(|d| d.0));
    Some(Ok(Settings {
        url: url.value.clone(),
        liveness_url: config.liveness_url.as_ref().map(|u| u.value.clone()),
        dependencies,
        command: config.command.iter().map(|c| c.value.clone()).collect(),
        env: config
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect(),
        timeout: config.timeout.map_or(DEFAULT_REQUEST_TIMEOUT, |t| t.0),
        startup_timeout: config
            .startup_timeout
            .map_or(DEFAULT_STARTUP_TIMEOUT, |t| t.0),
        budget,
        ca_file: ca_file(ctx),
    }))
}

/// The detection budget: the readiness probe in the manifests (the workload named like
/// `service:`, else the strictest one), else the config, else 30 s.
fn budget(ctx: &Context, configured: Option<Duration>) -> Budget {
    let from_manifests = ctx.kubernetes().ok().and_then(|loaded| {
        probe_budget(
            &loaded.manifests,
            ctx.config.service.as_ref().map(|s| s.as_str()),
        )
    });
    from_manifests
        .or_else(|| {
            configured.map(|duration| Budget {
                duration,
                source: "readiness.detection_budget".to_string(),
            })
        })
        .unwrap_or(Budget {
            duration: DEFAULT_DETECTION_BUDGET,
            source: "the default (Kubernetes' periodSeconds 10 × failureThreshold 3)".to_string(),
        })
}

/// periodSeconds × failureThreshold of the readiness probes in the manifests. Pure.
pub fn probe_budget(manifests: &crate::k8s::Manifests, service: Option<&str>) -> Option<Budget> {
    let mut candidates: Vec<(bool, Duration, String)> = Vec::new();
    for workload in &manifests.workloads {
        let Some(pod) = &workload.pod else { continue };
        for container in &pod.containers {
            let Some(probe) = &container.readiness_probe else {
                continue;
            };
            let period = probe.period_seconds.as_ref().map_or(10, |f| f.value).max(1);
            let threshold = probe
                .failure_threshold
                .as_ref()
                .map_or(3, |f| f.value)
                .max(1);
            let named = service == Some(workload.meta.name.as_str());
            candidates.push((
                named,
                Duration::from_secs((period * threshold) as u64),
                format!(
                    "{} container `{}`: readiness periodSeconds {period} × failureThreshold {threshold}",
                    workload.meta.display(),
                    container.name
                ),
            ));
        }
    }
    let chosen = candidates
        .iter()
        .filter(|c| c.0)
        .min_by_key(|c| c.1)
        .or_else(|| candidates.iter().min_by_key(|c| c.1))?;
    Some(Budget {
        duration: chosen.1,
        source: chosen.2.clone(),
    })
}

/// What the live part found, to merge into the check's outcome.
#[derive(Debug, Default)]
pub struct LiveResult {
    pub findings: Vec<Finding>,
    pub summary: String,
    /// Set when the drill could not reach a decision: the check is `error`.
    pub error: Option<String>,
}

/// Run the live part: start proxies (and the service, with `command`), observe, cut each
/// proxied dependency in turn. Proxies and the service are cleaned up on every path: here on
/// the normal ones, by their `Drop` on a timeout or panic.
pub async fn run(ctx: &Context, settings: &Settings) -> LiveResult {
    let _cleaning = interrupt::arm();
    let mut result = LiveResult::default();
    let client = match observe::client(settings.timeout, settings.ca_file.as_deref()) {
        Ok(client) => client,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    let mut proxies = Vec::new();
    for dependency in &settings.dependencies {
        if let Some((listen, upstream, _)) = &dependency.proxy {
            match proxy::Proxy::start(&dependency.name, listen, upstream).await {
                Ok(p) => proxies.push(p),
                Err(e) => {
                    result.error = Some(e);
                    return result;
                }
            }
        }
    }
    let mut service = None;
    if !settings.command.is_empty() {
        match process::Service::start(&settings.command, &settings.env, &ctx.root) {
            Ok(s) => service = Some(s),
            Err(e) => {
                result.error = Some(e);
                return result;
            }
        }
    }

    let mut lines = Vec::new();
    let mut findings = Vec::new();
    let ended = {
        let work = drills(
            settings,
            &client,
            &mut proxies,
            service.is_some(),
            &mut lines,
            &mut findings,
        );
        tokio::select! {
            r = work => Ended::Done(r),
            status = wait_for(&mut service) => Ended::Exited(status),
            () = interrupt::interrupted() => Ended::Interrupted,
        }
    };
    // Restore every dependency before anything else, then stop the service.
    for proxy in &mut proxies {
        let _ = proxy.restore().await;
    }
    let error = match ended {
        Ended::Done(Ok(())) => None,
        Ended::Done(Err(e)) => Some(e),
        Ended::Exited(status) => {
            let last = match &service {
                Some(s) => s.last_line_after_exit().await,
                None => None,
            }
            .map(|l| format!("; its last output: {l}"))
            .unwrap_or_default();
            Some(format!(
                "the service (`{}`) exited during the drill with {}{last}",
                service.as_ref().map_or("", |s| s.shown.as_str()),
                process::describe_exit(status)
            ))
        }
        Ended::Interrupted => Some(format!(
            "interrupted ({}) during the drill; every dependency was restored and the service gonogo started was stopped",
            interrupt::cause()
        )),
    };
    if let Some(service) = &mut service {
        service.stop(STOP_GRACE).await;
    }
    drop(proxies);
    result.findings = findings;
    result.summary = lines.join("; ");
    result.error = error;
    result
}

enum Ended {
    Done(Result<(), String>),
    Exited(std::process::ExitStatus),
    Interrupted,
}

async fn wait_for(service: &mut Option<process::Service>) -> std::process::ExitStatus {
    match service {
        Some(service) => service.wait().await,
        None => std::future::pending().await,
    }
}

async fn drills(
    settings: &Settings,
    client: &reqwest::Client,
    proxies: &mut [proxy::Proxy],
    started_service: bool,
    lines: &mut Vec<String>,
    findings: &mut Vec<Finding>,
) -> Result<(), String> {
    if started_service {
        wait_ready(
            client,
            &settings.url,
            settings.timeout,
            settings.startup_timeout,
        )
        .await?;
    }
    observe_endpoints(settings, client, lines, findings).await?;
    let probes = drill::Probes {
        client,
        readiness: &settings.url,
        liveness: settings.liveness_url.as_deref(),
        timeout: settings.timeout,
    };
    for dependency in &settings.dependencies {
        let Some((_, _, mode)) = &dependency.proxy else {
            continue;
        };
        let Some(proxy) = proxies.iter_mut().find(|p| p.name == dependency.name) else {
            continue;
        };
        let timeline = drill::cut_drill(
            &probes,
            proxy,
            dependency.soft,
            *mode,
            settings.budget.duration,
        )
        .await
        .map_err(|e| format!("{e} (dependency `{}`)", dependency.name))?;
        lines.push(drill::summary_line(&timeline));
        findings.extend(drill::judge(&timeline));
    }
    let unproxied: Vec<String> = settings
        .dependencies
        .iter()
        .filter(|d| d.proxy.is_none())
        .map(|d| format!("`{}`", d.name))
        .collect();
    if !unproxied.is_empty() {
        lines.push(format!("not cut (no proxy): {}", unproxied.join(", ")));
    }
    if settings.dependencies.iter().any(|d| d.proxy.is_some()) {
        lines.push(format!(
            "detection budget {} from {}",
            human(settings.budget.duration),
            settings.budget.source
        ));
    }
    Ok(())
}

/// GET readiness a few times and liveness once; what the bodies say.
async fn observe_endpoints(
    settings: &Settings,
    client: &reqwest::Client,
    lines: &mut Vec<String>,
    findings: &mut Vec<Finding>,
) -> Result<(), String> {
    let mut samples = Vec::new();
    for _ in 0..OBSERVATIONS {
        let answer = observe::get(client, &settings.url, settings.timeout)
            .await
            .map_err(|e| format!("readiness at {}: {e}", settings.url))?;
        samples.push(answer);
    }
    let first = &samples[0];
    if !samples.iter().all(observe::Observation::success) {
        let bad = samples.iter().find(|s| !s.success()).unwrap_or(first);
        return Err(format!(
            "readiness at {} answers HTTP {} ({}) before anything was cut; the drill needs a ready service",
            settings.url,
            bad.status,
            health::body_preview(&bad.body)
        ));
    }
    let health = health::parse_health(first.content_type.as_deref(), &first.body);
    let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    let components: Vec<String> = health
        .components
        .iter()
        .map(|c| match c.up {
            Some(true) => format!("{} up", c.name),
            Some(false) => format!("{} down", c.name),
            None => c.name.clone(),
        })
        .collect();
    let mut observed = format!(
        "readiness {}: HTTP {} in {} (median of {}), {}",
        settings.url,
        first.status,
        human_latency(median),
        samples.len(),
        health.format.describe()
    );
    if !components.is_empty() {
        observed.push_str(&format!(" naming {}", components.join(", ")));
    }
    if samples.iter().any(|s| s.truncated) {
        observed.push_str(&format!(
            "; the body is longer than {} KiB and was cut there (a probe body should be small: the kubelet reads only its first 10 KiB)",
            observe::MAX_BODY_BYTES / 1024
        ));
    }
    if let Some(liveness) = &settings.liveness_url {
        let answer = observe::get(client, liveness, settings.timeout)
            .await
            .map_err(|e| format!("liveness at {liveness}: {e}"))?;
        if !answer.success() {
            return Err(format!(
                "liveness at {liveness} answers HTTP {} before anything was cut",
                answer.status
            ));
        }
        observed.push_str(&format!(
            "; liveness HTTP {} in {}",
            answer.status,
            human_latency(answer.latency)
        ));
    }
    lines.push(format!(
        "readiness HTTP {} ({}{})",
        first.status,
        health.format.describe(),
        if components.is_empty() {
            String::new()
        } else {
            format!(": {}", components.join(", "))
        }
    ));
    findings.push(DRILL_RESULT.finding(observed));

    let declared: Vec<String> = settings
        .dependencies
        .iter()
        .map(|d| d.name.clone())
        .collect();
    if let Some(reason) = health::looks_static(&samples, &declared) {
        findings.push(
            LOOKS_STATIC
                .finding(format!("readiness at {} looks static: {reason}", settings.url))
                .with_fix("check each hard dependency in the readiness handler and name it in the body; give the dependency a `proxy:` so the cut drill proves it"),
        );
    } else {
        let omitted: Vec<String> = declared
            .iter()
            .filter(|d| !health::mentions(&health, d))
            .map(|d| format!("`{d}`"))
            .collect();
        if !omitted.is_empty() {
            findings.push(BODY_OMITS_DEPENDENCY.finding(format!(
                "the readiness body ({}) does not name {}",
                health.format.describe(),
                omitted.join(", ")
            )));
        }
    }
    Ok(())
}

/// Latencies are often below a millisecond: `180 µs`, `2.4 ms`, `1.2s`.
fn human_latency(duration: Duration) -> String {
    if duration < Duration::from_millis(1) {
        format!("{} µs", duration.as_micros())
    } else if duration < Duration::from_secs(1) {
        format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
    } else {
        human(duration)
    }
}

/// Whether `config` turns the live part on (for `gonogo list`).
pub fn configured(config: &Config) -> bool {
    config.checks.readiness.as_ref().is_some_and(|r| {
        r.url.is_some() || !r.command.is_empty() || r.dependencies.iter().any(|d| d.proxy.is_some())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_read_well() {
        assert_eq!(human_latency(Duration::from_micros(180)), "180 µs");
        assert_eq!(human_latency(Duration::from_micros(2400)), "2.4 ms");
    }

    #[test]
    fn budget_prefers_the_named_workload_then_the_strictest() {
        let yaml = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
        - name: api
          readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 5, failureThreshold: 4}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  template:
    spec:
      containers:
        - name: worker
          readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 2}
";
        let mut manifests = crate::k8s::Manifests::default();
        crate::k8s::parse_stream(&mut manifests, "deploy/app.yaml", yaml).unwrap();
        let named = probe_budget(&manifests, Some("api")).unwrap();
        assert_eq!(named.duration, Duration::from_secs(20));
        assert!(named.source.contains("Deployment/api"), "{}", named.source);
        let strictest = probe_budget(&manifests, None).unwrap();
        assert_eq!(
            strictest.duration,
            Duration::from_secs(6),
            "2 × the default 3"
        );
        assert!(probe_budget(&crate::k8s::Manifests::default(), None).is_none());
    }
}
