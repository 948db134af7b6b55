//! The grace rules, per serving container: the shutdown arithmetic and the entrypoint.

use crate::checks::kubernetes::Analysis;
use crate::checks::readiness::probes::serves_on_ports;
use crate::declare_rule;
use crate::k8s::{Action, BackendConfig, Container, Handler, Manifests, Meta, Pos, Workload};

use super::Settings;

/// Kubernetes' default `terminationGracePeriodSeconds`.
pub const DEFAULT_GRACE_SECONDS: i64 = 30;
/// The longest request assumed when `grace.max_request_seconds` is unset: a common upper bound
/// for HTTP request timeouts. Set the real value in the config.
pub const DEFAULT_MAX_REQUEST_SECONDS: f64 = 10.0;
/// Time left between the last request finishing and SIGKILL: process exit, flushing logs and
/// telemetry, closing connections.
pub const MARGIN_SECONDS: f64 = 5.0;

/// AWS load balancer controller annotations that carry target group attributes.
const TARGET_GROUP_ANNOTATIONS: &[&str] = &[
    "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes",
    "alb.ingress.kubernetes.io/target-group-attributes",
];
const DEREGISTRATION_KEY: &str = "deregistration_delay.timeout_seconds";

declare_rule! {
    /// ## What it catches
    /// A pod whose `terminationGracePeriodSeconds` (30 s when unset) is shorter than
    /// preStop delay + the longest request (`grace.max_request_seconds`, 10 s when unset) +
    /// a 5 s margin. The finding shows the sum.
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
    ///     - lifecycle: {preStop: {sleep: {seconds: 20}}}   # 20 + 10 + 5 = 35 s > 30 s
    /// ```
    ///
    /// ## Do this instead
    /// `terminationGracePeriodSeconds: 45` (at least preStop + longest request + 5 s), and set
    /// `grace.max_request_seconds` to the real longest request.
    pub GRACE_PERIOD_TOO_SHORT = ("grace/grace-period-too-short", Fail, "the grace period does not cover preStop delay + longest request + margin");
}

declare_rule! {
    /// ## What it catches
    /// A serving container without a preStop delay (an exec `sleep N` or the native `sleep`
    /// action) in a pod that a Service selects.
    ///
    /// ## Why it matters during a deploy
    /// Kubernetes sends SIGTERM and removes the pod from the endpoints at the same time, and
    /// kube-proxy, ingress controllers and cloud load balancers learn about it seconds later.
    /// An application that stops accepting connections on SIGTERM refuses the requests that
    /// still arrive in those seconds: a burst of 502s on every rollout.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: api
    ///     ports: [{containerPort: 8080}]
    /// ```
    ///
    /// ## Do this instead
    /// ```yaml
    ///     lifecycle:
    ///       preStop:
    ///         sleep: {seconds: 10}       # Kubernetes 1.29+; else exec: {command: [sleep, "10"]}
    /// ```
    pub MISSING_PRESTOP = ("grace/missing-prestop", Warn, "no preStop delay while a Service sends traffic to the pod");
}

declare_rule! {
    /// ## What it catches
    /// A preStop delay at or beyond `terminationGracePeriodSeconds` (30 s when unset).
    ///
    /// ## Why it matters during a deploy
    /// The grace period counts from the start of the preStop hook. When the hook sleeps that
    /// long, Kubernetes sends SIGKILL before the application has even received SIGTERM: every
    /// request in flight is cut off, on every pod the rollout replaces.
    ///
    /// ## Example
    /// ```yaml
    /// terminationGracePeriodSeconds: 30
    /// containers:
    ///   - lifecycle: {preStop: {exec: {command: [sleep, "30"]}}}
    /// ```
    ///
    /// ## Do this instead
    /// A preStop delay a little above the load balancer's deregistration delay, and a grace
    /// period that covers it plus the longest request plus a margin.
    pub PRESTOP_EXCEEDS_GRACE = ("grace/prestop-exceeds-grace", Fail, "the preStop delay reaches the grace period: SIGKILL before draining");
}

declare_rule! {
    /// ## What it catches
    /// A preStop delay shorter than the load balancer's deregistration delay: the AWS load
    /// balancer controller's `deregistration_delay.timeout_seconds=N` in the
    /// `service.beta.kubernetes.io/aws-load-balancer-target-group-attributes` annotation of a
    /// Service that selects the pods, or in `alb.ingress.kubernetes.io/target-group-attributes`
    /// of an Ingress that routes to such a Service; on GKE, `connectionDraining.drainingTimeoutSec`
    /// of the BackendConfig the Service names in `cloud.google.com/backend-config`; else
    /// `grace.lb_deregistration_seconds`.
    ///
    /// ## Why it matters during a deploy
    /// The load balancer keeps sending new connections to a target until it has deregistered
    /// it. When the pod stops accepting connections earlier, those connections fail.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     alb.ingress.kubernetes.io/target-group-attributes: deregistration_delay.timeout_seconds=30
    /// # and a preStop of sleep 5
    /// ```
    ///
    /// ## Do this instead
    /// A preStop delay at least as long as the deregistration delay (and a grace period to
    /// match), or a shorter deregistration delay.
    pub PRESTOP_SHORTER_THAN_DEREGISTRATION = ("grace/prestop-shorter-than-deregistration", Warn, "the preStop delay ends before the load balancer stops sending traffic");
}

declare_rule! {
    /// ## What it catches
    /// A container whose `command` is the shell form: `sh -c "…"`, `/bin/sh -c`, `bash -c`,
    /// unless the script `exec`s the server.
    ///
    /// ## Why it matters during a deploy
    /// The shell is PID 1 and does not forward SIGTERM to the server it started. The server
    /// never learns it should drain; it keeps serving until SIGKILL at the end of the grace
    /// period, and every request in flight then is cut off. Every rollout also takes the full
    /// grace period per pod.
    ///
    /// ## Example
    /// ```yaml
    /// command: ["/bin/sh", "-c", "./migrate && ./server"]
    /// ```
    ///
    /// ## Do this instead
    /// `command: ["/bin/sh", "-c", "./migrate && exec ./server"]`, or run the server directly,
    /// or an init such as tini or dumb-init that forwards signals.
    pub SHELL_ENTRYPOINT = ("grace/shell-entrypoint", Warn, "a shell is PID 1 and does not forward SIGTERM");
}

/// A container's preStop delay: none, a known number of seconds, or a hook whose length
/// gonogo cannot tell (an HTTP call, a script).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Delay {
    None,
    Seconds(i64, Pos),
    Unknown,
}

fn prestop_delay(hook: Option<&Handler>) -> Delay {
    let Some(hook) = hook else {
        return Delay::None;
    };
    match &hook.action {
        Action::Sleep { seconds: Some(n) } => Delay::Seconds(*n, hook.pos),
        Action::Exec { command } => {
            sleep_in(command).map_or(Delay::Unknown, |n| Delay::Seconds(n, hook.pos))
        }
        _ => Delay::Unknown,
    }
}

/// `sleep 15` anywhere in an exec command: `[sleep, "15"]`, `[sh, -c, "sleep 5 && nginx -s quit"]`.
fn sleep_in(command: &[String]) -> Option<i64> {
    let words: Vec<&str> = command
        .iter()
        .flat_map(|part| part.split(|c: char| c.is_whitespace() || ";&|()".contains(c)))
        .filter(|w| !w.is_empty())
        .collect();
    words.windows(2).find_map(|pair| {
        let program = pair[0].rsplit('/').next().unwrap_or(pair[0]);
        if program != "sleep" {
            return None;
        }
        let n = pair[1].trim_matches(|c| c == '"' || c == '\'');
        let n = n.strip_suffix('s').unwrap_or(n);
        n.parse::<f64>().ok().map(|s| s.ceil() as i64)
    })
}

fn seconds(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

/// The deregistration delay of the load balancers in front of the workload, and where it
/// comes from.
fn deregistration(
    manifests: &Manifests,
    workload: &Workload,
    settings: &Settings,
) -> Option<(f64, String)> {
    let services = manifests.services_for(workload);
    let mut found: Option<(f64, String)> = None;
    let mut gke: Vec<(f64, String)> = Vec::new();
    let mut consider = |meta: &Meta| {
        for key in TARGET_GROUP_ANNOTATIONS {
            if let Some(value) = meta.annotations.get(*key)
                && let Some(n) = value.value.split(',').find_map(|attr| {
                    let (k, v) = attr.split_once('=')?;
                    (k.trim() == DEREGISTRATION_KEY)
                        .then(|| v.trim().parse::<f64>().ok())
                        .flatten()
                })
                && found.as_ref().is_none_or(|(m, _)| n > *m)
            {
                found = Some((
                    n,
                    format!("{DEREGISTRATION_KEY}={} on {}", seconds(n), meta.display()),
                ));
            }
        }
    };
    for service in &services {
        consider(&service.meta);
        // GKE: the Service names a BackendConfig whose connectionDraining.drainingTimeoutSec is
        // how long the load balancer keeps sending to a pod being removed.
        for backend_config in gke_backend_configs(manifests, &service.meta) {
            if let Some(draining) = &backend_config.draining_timeout_seconds {
                gke.push((
                    draining.value as f64,
                    format!(
                        "connectionDraining.drainingTimeoutSec {} on {}",
                        seconds(draining.value as f64),
                        backend_config.meta.display()
                    ),
                ));
            }
        }
        for ingress in &manifests.ingresses {
            if ingress.meta.same_namespace(&service.meta)
                && ingress.backends.contains(&service.meta.name)
            {
                consider(&ingress.meta);
            }
        }
    }
    for (n, source) in gke {
        if found.as_ref().is_none_or(|(m, _)| n > *m) {
            found = Some((n, source));
        }
    }
    found.or_else(|| {
        settings
            .lb_deregistration_seconds
            .map(|n| (n, "grace.lb_deregistration_seconds".to_string()))
    })
}

/// BackendConfigs a Service names in `cloud.google.com/backend-config` (or the older
/// `beta.cloud.google.com/backend-config`): `{"default": "name"}` or `{"ports": {"80": "name"}}`.
fn gke_backend_configs<'a>(manifests: &'a Manifests, service: &Meta) -> Vec<&'a BackendConfig> {
    let mut names = Vec::new();
    for key in [
        "cloud.google.com/backend-config",
        "beta.cloud.google.com/backend-config",
    ] {
        let Some(value) = service.annotations.get(key) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&value.value) else {
            continue;
        };
        if let Some(name) = json.get("default").and_then(|n| n.as_str()) {
            names.push(name.to_string());
        }
        if let Some(ports) = json.get("ports").and_then(|p| p.as_object()) {
            names.extend(
                ports
                    .values()
                    .filter_map(|n| n.as_str().map(str::to_string)),
            );
        }
    }
    manifests
        .backend_configs
        .iter()
        .filter(|config| config.meta.same_namespace(service) && names.contains(&config.meta.name))
        .collect()
}

/// `sh -c "…"` without `exec`: the shell stays PID 1.
fn shell_form(container: &Container) -> Option<(String, Pos)> {
    let command = container.command.as_ref()?;
    let mut argv: Vec<&str> = command.value.iter().map(String::as_str).collect();
    if let Some(args) = &container.args {
        argv.extend(args.value.iter().map(String::as_str));
    }
    let program = argv.first()?.rsplit('/').next()?;
    if !["sh", "bash", "ash", "dash", "zsh"].contains(&program) {
        return None;
    }
    let flag = argv
        .iter()
        .position(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'))?;
    let script = argv.get(flag + 1).copied().unwrap_or("");
    let execs = script
        .split(|c: char| c.is_whitespace() || ";&|(".contains(c))
        .any(|w| w == "exec");
    if execs {
        return None;
    }
    let shown: Vec<&str> = argv.iter().take(flag + 1).copied().collect();
    Some((shown.join(" "), command.pos))
}

/// The rules over one workload.
pub fn check(manifests: &Manifests, workload: &Workload, settings: &Settings, out: &mut Analysis) {
    let Some(pod) = &workload.pod else {
        return; // an Argo Rollout with workloadRef: its Deployment's template is checked
    };
    let meta = &workload.meta;
    let selected = !manifests.services_for(workload).is_empty();
    let any_ports = pod.containers.iter().any(|c| serves_on_ports(c, selected));
    let grace_field = pod.termination_grace_period_seconds.as_ref();
    let grace = grace_field.map_or(DEFAULT_GRACE_SECONDS, |f| f.value);
    let grace_shown = match grace_field {
        Some(_) => format!("terminationGracePeriodSeconds {grace}"),
        None => format!("terminationGracePeriodSeconds {grace} (the default)"),
    };
    let grace_location = grace_field.map_or_else(|| meta.location(), |f| meta.at(f.pos));
    let max_request = settings
        .max_request_seconds
        .unwrap_or(DEFAULT_MAX_REQUEST_SECONDS);
    let request_shown = match settings.max_request_seconds {
        Some(n) => format!(
            "longest request {} s (grace.max_request_seconds)",
            seconds(n)
        ),
        None => format!(
            "longest request {} s (grace.max_request_seconds unset: assumed)",
            seconds(DEFAULT_MAX_REQUEST_SECONDS)
        ),
    };
    let lb = if selected {
        deregistration(manifests, workload, settings)
    } else {
        None
    };
    let mut serving = 0;
    for container in &pod.containers {
        let name = format!("{}, container {}", meta.display(), container.name);
        if let Some((shell, pos)) = shell_form(container) {
            out.push(
                SHELL_ENTRYPOINT
                    .finding(format!(
                        "{name}: the command starts with `{shell}`, so the shell is PID 1 and does not forward SIGTERM: the server is SIGKILLed after {grace} s instead of draining"
                    ))
                    .at(meta.at(pos))
                    .with_fix("`exec` the server at the end of the script, run it directly, or use tini/dumb-init"),
                meta,
                "shell is PID 1",
            );
        }
        if !serves_on_ports(container, selected) && (any_ports || !selected) {
            continue;
        }
        serving += 1;
        let delay = prestop_delay(container.pre_stop.as_ref());
        if matches!(delay, Delay::None) && selected {
            out.push(
                MISSING_PRESTOP
                    .finding(format!(
                        "{name}: no preStop delay while a Service sends it traffic: endpoints are removed asynchronously, so new connections still arrive after SIGTERM{}",
                        lb.as_ref()
                            .map(|(n, from)| format!(" (for {} s: {from})", seconds(*n)))
                            .unwrap_or_default()
                    ))
                    .at(meta.at(container.pos))
                    .with_fix("add `lifecycle: {preStop: {sleep: {seconds: 10}}}` (or exec `sleep 10` before Kubernetes 1.29)"),
                meta,
                "no preStop delay",
            );
        }
        let prestop = match delay {
            Delay::Seconds(n, pos) => Some((n, pos)),
            _ => None,
        };
        if let Some((n, pos)) = prestop
            && n >= grace
        {
            out.push(
                PRESTOP_EXCEEDS_GRACE
                    .finding(format!(
                        "{name}: the preStop delay of {n} s reaches {grace_shown}: Kubernetes sends SIGKILL before the server even gets SIGTERM"
                    ))
                    .at(meta.at(pos))
                    .with_fix(format!(
                        "set terminationGracePeriodSeconds to at least {} (preStop + longest request + margin)",
                        (n as f64 + max_request + MARGIN_SECONDS).ceil() as i64
                    )),
                meta,
                "preStop reaches the grace period",
            );
            continue;
        }
        let delay_seconds = prestop.map_or(0, |(n, _)| n);
        let needed = delay_seconds as f64 + max_request + MARGIN_SECONDS;
        if needed > grace as f64 {
            let prestop_shown = match delay {
                Delay::Seconds(n, _) => format!("preStop delay {n} s"),
                Delay::None => "no preStop delay (0 s)".to_string(),
                Delay::Unknown => "preStop hook of unknown length (counted as 0 s)".to_string(),
            };
            out.push(
                GRACE_PERIOD_TOO_SHORT
                    .finding(format!(
                        "{name}: {grace_shown} < {prestop_shown} + {request_shown} + margin {} s = {} s: requests still running at SIGKILL are cut off",
                        seconds(MARGIN_SECONDS),
                        seconds(needed)
                    ))
                    .at(grace_location.clone())
                    .with_fix(format!(
                        "set terminationGracePeriodSeconds: {} (or set grace.max_request_seconds to the real longest request)",
                        needed.ceil() as i64
                    )),
                meta,
                format!("grace period {grace} s < {} s needed", seconds(needed)),
            );
        }
        if let (Some((n, pos)), Some((lb_seconds, from))) = (prestop, &lb)
            && (n as f64) < *lb_seconds
        {
            out.push(
                PRESTOP_SHORTER_THAN_DEREGISTRATION
                    .finding(format!(
                        "{name}: the preStop delay of {n} s ends before the load balancer deregisters the target after {} s ({from}): connections arriving in between fail",
                        seconds(*lb_seconds)
                    ))
                    .at(meta.at(pos))
                    .with_fix(format!(
                        "make the preStop delay at least {} s (and the grace period to match)",
                        lb_seconds.ceil() as i64
                    )),
                meta,
                "preStop shorter than LB deregistration",
            );
        }
    }
    if serving > 0 {
        out.serving += serving;
        out.workloads += 1;
    }
}
