//! The probe rules, per serving container.

use crate::checks::kubernetes::Analysis;
use crate::declare_rule;
use crate::k8s::{Action, Container, Manifests, PortRef, Probe, Workload};

/// The longest a pod may stay in rotation after it stops being ready, in seconds:
/// periodSeconds × failureThreshold above this warns (`readiness/slow-detection`).
pub const MAX_DETECTION_SECONDS: i64 = 30;
/// Kubernetes' default `periodSeconds`.
const DEFAULT_PERIOD: i64 = 10;
/// Kubernetes' default `failureThreshold`.
const DEFAULT_FAILURE_THRESHOLD: i64 = 3;

declare_rule! {
    /// ## What it catches
    /// A serving container without a `readinessProbe`. Serving: the container declares
    /// `ports` (except when they are all metrics ports, named like `metrics` or `prometheus`,
    /// and no Service selects the pods), or no container declares ports and a Service selects
    /// the pods. Init containers are not looked at.
    ///
    /// ## Why it matters during a deploy
    /// Without a readiness probe a pod counts as ready as soon as its process starts: the
    /// Service sends it traffic before it has opened its connection pools or warmed its
    /// caches, and the rollout moves on to the next batch while the new version cannot serve.
    /// Every rollout then has a burst of errors, and a version that never becomes able to
    /// serve replaces the old one completely.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: api
    ///     ports: [{containerPort: 8080}]
    ///     livenessProbe: {httpGet: {path: /healthz, port: 8080}}
    /// ```
    ///
    /// ## Do this instead
    /// ```yaml
    ///     readinessProbe:
    ///       httpGet: {path: /ready, port: 8080}   # checks the database, caches, …
    ///       periodSeconds: 5
    ///       failureThreshold: 3
    /// ```
    pub MISSING_READINESS_PROBE = ("readiness/missing-readiness-probe", Fail, "a serving container has no readiness probe");
}

declare_rule! {
    /// ## What it catches
    /// A readiness probe that runs the same check as the liveness probe: the same HTTP path
    /// and port, the same TCP port, the same exec command or the same gRPC port and service.
    ///
    /// ## Why it matters during a deploy
    /// The two probes answer different questions. Liveness asks "is this process stuck?" and
    /// restarts the container when it fails, so it must not depend on other systems: when the
    /// database blips, every pod fails liveness at once and Kubernetes restarts them all.
    /// Readiness asks "can this pod serve now?" and only takes the pod out of rotation, so it
    /// should check the dependencies. One endpoint for both is either too shallow to stop
    /// traffic to a pod that cannot serve, or deep enough to restart the whole fleet.
    ///
    /// ## Example
    /// ```yaml
    /// readinessProbe: {httpGet: {path: /health, port: 8080}}
    /// livenessProbe:  {httpGet: {path: /health, port: 8080}}
    /// ```
    ///
    /// ## Do this instead
    /// ```yaml
    /// readinessProbe: {httpGet: {path: /ready, port: 8080}}    # checks dependencies
    /// livenessProbe:  {httpGet: {path: /healthz, port: 8080}}  # the process answers
    /// ```
    pub SAME_AS_LIVENESS = ("readiness/same-as-liveness", Fail, "readiness and liveness run the same check");
}

declare_rule! {
    /// ## What it catches
    /// A readiness probe with `tcpSocket`.
    ///
    /// ## Why it matters during a deploy
    /// A TCP connect succeeds as soon as the process listens, before it can reach its
    /// database or has loaded its configuration, and keeps succeeding when it no longer can.
    /// The pod is marked ready, receives traffic and the rollout continues while every
    /// request fails.
    ///
    /// ## Example
    /// ```yaml
    /// readinessProbe:
    ///   tcpSocket: {port: 8080}
    /// ```
    ///
    /// ## Do this instead
    /// An HTTP (or gRPC, or exec) readiness check that exercises what a request needs:
    /// `httpGet: {path: /ready, port: 8080}`.
    pub TCP_READINESS = ("readiness/tcp-readiness", Warn, "a tcpSocket readiness probe cannot test dependencies");
}

declare_rule! {
    /// ## What it catches
    /// A liveness probe whose HTTP path looks like a dependency or readiness check: it
    /// contains `ready`, `deps`, `dependencies`, `db` or `database`, or it is the readiness
    /// probe's path (on another port). `/healthz` and `/livez` are not flagged. Every container
    /// with a liveness probe is looked at, serving or not (a queue worker restarts too).
    ///
    /// ## Why it matters during a deploy
    /// A liveness failure restarts the container. When liveness checks the database, a
    /// database failover or a slow migration makes every pod fail liveness at once, and
    /// Kubernetes restarts the whole fleet, turning a short dependency blip into an outage
    /// and a crash loop during the deploy.
    ///
    /// ## Example
    /// ```yaml
    /// livenessProbe:
    ///   httpGet: {path: /health/db, port: 8080}
    /// ```
    ///
    /// ## Do this instead
    /// Liveness checks only that the process itself responds (`/healthz`); the database
    /// check belongs in readiness (`/ready`).
    pub LIVENESS_CHECKS_DEPENDENCIES = ("readiness/liveness-checks-dependencies", Warn, "the liveness probe looks like a dependency check");
}

declare_rule! {
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

/// The rules over one workload's serving containers.
pub fn check(manifests: &Manifests, workload: &Workload, out: &mut Analysis) {
    let Some(pod) = &workload.pod else {
        return; // an Argo Rollout with workloadRef: its Deployment's template is checked
    };
    let meta = &workload.meta;
    let selected = !manifests.services_for(workload).is_empty();
    let any_ports = pod.containers.iter().any(|c| serves_on_ports(c, selected));
    let mut serving = 0;
    for container in &pod.containers {
        let name = format!("{}, container {}", meta.display(), container.name);
        if !serves_on_ports(container, selected) && (any_ports || !selected) {
            // Not serving, but a liveness probe still restarts it: a worker fleet that restarts
            // whenever the database blips is an outage too.
            liveness_dependencies(&name, container, None, meta, out);
            continue;
        }
        serving += 1;
        let Some(readiness) = &container.readiness_probe else {
            let why = if container.ports.is_empty() {
                "a Service selects its pods"
            } else {
                "it declares ports"
            };
            out.push(
                MISSING_READINESS_PROBE
                    .finding(format!(
                        "{name} serves traffic ({why}) but has no readinessProbe: its pods receive traffic as soon as the process starts, before they can serve"
                    ))
                    .at(meta.at(container.pos))
                    .with_fix("add a readinessProbe that checks what a request needs (e.g. httpGet /ready)"),
                meta,
                "no readiness probe",
            );
            liveness_dependencies(&name, container, None, meta, out);
            continue;
        };
        let readiness_action = readiness.handler.as_ref().map(|h| &h.action);
        if let Some(Action::TcpSocket { .. }) = readiness_action {
            out.push(
                TCP_READINESS
                    .finding(format!(
                        "{name}: the readinessProbe is a tcpSocket connect, which succeeds as soon as the process listens and cannot see a broken dependency"
                    ))
                    .at(meta.at(readiness.pos))
                    .with_fix("use an httpGet (or grpc/exec) readiness check that exercises the dependencies"),
                meta,
                "tcpSocket readiness",
            );
        }
        let mut identical = false;
        if let Some(liveness) = &container.liveness_probe {
            let live_action = liveness.handler.as_ref().map(|h| &h.action);
            if let (Some(r), Some(l)) = (readiness_action, live_action)
                && same_check(container, r, l)
            {
                identical = true;
                out.push(
                    SAME_AS_LIVENESS
                        .finding(format!(
                            "{name}: readiness and liveness run the same check ({}): a liveness check must not depend on other systems (a failure restarts the container), a readiness check should (a failure only takes the pod out of rotation)",
                            describe(r)
                        ))
                        .at(meta.at(readiness.pos))
                        .with_fix("give readiness its own endpoint that checks dependencies (/ready) and keep liveness shallow (/healthz)"),
                    meta,
                    "readiness same as liveness",
                );
            }
        }
        if !identical {
            liveness_dependencies(&name, container, readiness_action, meta, out);
        }
        slow_detection(&name, readiness, meta, out);
    }
    if serving > 0 {
        out.serving += serving;
        out.workloads += 1;
    }
}

/// Whether a container serves on its declared ports: any port counts, except when every port
/// is a metrics port (named `metrics`, `prometheus`, `monitoring`, …) and no Service selects
/// the pods: a queue worker that Prometheus scrapes serves no traffic.
pub(crate) fn serves_on_ports(container: &Container, selected: bool) -> bool {
    !container.ports.is_empty()
        && (selected
            || container.ports.iter().any(|p| {
                !p.name.as_deref().is_some_and(|n| {
                    let n = n.to_ascii_lowercase();
                    n.contains("metrics") || n.contains("prom") || n.contains("monitor")
                })
            }))
}

fn liveness_dependencies(
    name: &str,
    container: &Container,
    readiness: Option<&Action>,
    meta: &crate::k8s::Meta,
    out: &mut Analysis,
) {
    let Some(liveness) = &container.liveness_probe else {
        return;
    };
    let live_action = liveness.handler.as_ref().map(|h| &h.action);
    if let Some(reason) = dependency_like(readiness, live_action) {
        out.push(
            LIVENESS_CHECKS_DEPENDENCIES
                .finding(format!(
                    "{name}: the livenessProbe {reason}: when a dependency fails, every pod fails liveness and Kubernetes restarts them all"
                ))
                .at(meta.at(liveness.pos))
                .with_fix("point liveness at an endpoint that only checks the process itself (/healthz)"),
            meta,
            "liveness checks dependencies",
        );
    }
}

fn slow_detection(name: &str, probe: &Probe, meta: &crate::k8s::Meta, out: &mut Analysis) {
    let period = probe.period_seconds.as_ref();
    let threshold = probe.failure_threshold.as_ref();
    let p = period.map_or(DEFAULT_PERIOD, |f| f.value);
    let t = threshold.map_or(DEFAULT_FAILURE_THRESHOLD, |f| f.value);
    let total = p.saturating_mul(t);
    if total <= MAX_DETECTION_SECONDS {
        return;
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
    out.push(
        SLOW_DETECTION
            .finding(format!(
                "{name}: an unready pod keeps receiving traffic for up to periodSeconds {} × failureThreshold {} = {total} s (more than {MAX_DETECTION_SECONDS} s)",
                show(p, period.is_some(), " s"),
                show(t, threshold.is_some(), ""),
            ))
            .at(meta.at(pos))
            .with_fix(format!(
                "keep periodSeconds × failureThreshold at or under {MAX_DETECTION_SECONDS} s (e.g. periodSeconds: 5, failureThreshold: 3); use a startupProbe for slow starts"
            )),
        meta,
        format!("{total} s to notice an unready pod"),
    );
}

/// A port as a number when the container names it.
fn port_number(container: &Container, port: &Option<PortRef>) -> Option<PortRef> {
    match port {
        Some(PortRef::Name(name)) => Some(
            container
                .ports
                .iter()
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .and_then(|p| p.container_port)
                .map_or_else(|| PortRef::Name(name.clone()), PortRef::Number),
        ),
        other => other.clone(),
    }
}

fn http_path(path: &Option<String>) -> &str {
    match path.as_deref() {
        None | Some("") => "/",
        Some(p) => p,
    }
}

/// Whether two probe actions run the same check.
fn same_check(container: &Container, a: &Action, b: &Action) -> bool {
    match (a, b) {
        (Action::HttpGet { path: pa, port: qa }, Action::HttpGet { path: pb, port: qb }) => {
            http_path(pa) == http_path(pb)
                && port_number(container, qa) == port_number(container, qb)
        }
        (Action::TcpSocket { port: qa }, Action::TcpSocket { port: qb }) => {
            port_number(container, qa) == port_number(container, qb)
        }
        (Action::Exec { command: ca }, Action::Exec { command: cb }) => ca == cb,
        (
            Action::Grpc {
                port: pa,
                service: sa,
            },
            Action::Grpc {
                port: pb,
                service: sb,
            },
        ) => pa == pb && sa.as_deref().unwrap_or("") == sb.as_deref().unwrap_or(""),
        _ => false,
    }
}

fn show_port(port: &Option<PortRef>) -> String {
    match port {
        Some(PortRef::Number(n)) => n.to_string(),
        Some(PortRef::Name(n)) => n.clone(),
        None => "?".to_string(),
    }
}

/// "httpGet /health on port 8080"
fn describe(action: &Action) -> String {
    match action {
        Action::HttpGet { path, port } => {
            format!("httpGet {} on port {}", http_path(path), show_port(port))
        }
        Action::TcpSocket { port } => format!("tcpSocket on port {}", show_port(port)),
        Action::Exec { command } => format!("exec `{}`", command.join(" ")),
        Action::Grpc { port, service } => format!(
            "grpc on port {}{}",
            port.map_or("?".to_string(), |p| p.to_string()),
            service
                .as_ref()
                .map(|s| format!(" service {s}"))
                .unwrap_or_default()
        ),
        Action::Sleep { seconds } => format!("sleep {}", seconds.unwrap_or(0)),
    }
}

/// Words in a liveness path that say it checks more than the process itself.
const DEPENDENCY_WORDS: &[&str] = &[
    "ready",
    "readiness",
    "readyz",
    "deps",
    "dependencies",
    "dependency",
    "db",
    "database",
];

/// Why a liveness action looks like a dependency check, if it does.
fn dependency_like(readiness: Option<&Action>, liveness: Option<&Action>) -> Option<String> {
    let Some(Action::HttpGet { path, .. }) = liveness else {
        return None;
    };
    let live = http_path(path);
    if let Some(Action::HttpGet { path: ready, .. }) = readiness
        && http_path(ready) == live
        && live != "/"
    {
        return Some(format!("uses the readiness path {live}"));
    }
    let lower = live.to_ascii_lowercase();
    let word = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| DEPENDENCY_WORDS.contains(w))?;
    Some(format!(
        "path {live} looks like a dependency check (`{word}`)"
    ))
}
