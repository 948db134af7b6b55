//! The facts the grace rules judge, per serving container: the pod's grace period, the preStop
//! delay, the longest request, the load balancer's deregistration delay; and the loop that runs
//! each rule (one file each, listed in [`super::CONTAINER_RULES`]) over them.

use crate::checks::kubernetes::{Analysis, Flag};
use crate::k8s::{
    Action, BackendConfig, Handler, Manifests, Meta, PodContainer, Pos, ServingPod, Workload,
};
use crate::report::Location;

use super::Settings;

/// Kubernetes' default `terminationGracePeriodSeconds`.
pub const DEFAULT_GRACE_SECONDS: i64 = 30;
/// The longest request assumed when `grace.max_request_seconds` is unset: a common upper bound
/// for HTTP request timeouts. Set the real value in the config.
pub const DEFAULT_MAX_REQUEST_SECONDS: f64 = 10.0;
/// Time left between the last request finishing and SIGKILL when `grace.margin_seconds` is
/// unset: process exit, flushing logs and telemetry, closing connections. 2 s covers a service
/// that exits on its own once drained (Go's `Shutdown`, Node's `server.close`); a service with
/// a slow flush sets its own margin. (It was 5 s, which failed every pod with
/// `terminationGracePeriodSeconds: 5` whatever its longest request.)
pub const MARGIN_SECONDS: f64 = 2.0;

/// AWS load balancer controller annotations that carry target group attributes.
const TARGET_GROUP_ANNOTATIONS: &[&str] = &[
    "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes",
    "alb.ingress.kubernetes.io/target-group-attributes",
];
const DEREGISTRATION_KEY: &str = "deregistration_delay.timeout_seconds";

/// What every container of one pod shares: the grace period, the longest request and the load
/// balancer in front of it.
pub struct PodShutdown<'a> {
    pub meta: &'a Meta,
    /// terminationGracePeriodSeconds, or Kubernetes' default.
    pub grace: i64,
    /// "terminationGracePeriodSeconds 30 (the default)"
    pub grace_shown: String,
    /// The field, or the object when it is unset.
    pub grace_location: Location,
    /// `grace.max_request_seconds`, or the assumed default.
    pub max_request: f64,
    /// "longest request 10 s (grace.max_request_seconds unset: assumed)"
    pub request_shown: String,
    /// `grace.max_request_seconds` is unset: the longest request is an assumption.
    pub request_assumed: bool,
    /// `grace.margin_seconds`, or [`MARGIN_SECONDS`].
    pub margin: f64,
    /// "margin 2 s (grace.margin_seconds unset: the default)"
    pub margin_shown: String,
    /// A Service selects the pods.
    pub selected: bool,
    /// The deregistration delay of the load balancers in front of the pods (seconds, where it
    /// comes from), when a Service selects them and a delay is known.
    pub lb: Option<(f64, String)>,
}

/// One container with its pod's shutdown facts: what each grace rule reads.
pub struct ContainerShutdown<'a> {
    pub pod: &'a PodShutdown<'a>,
    pub container: &'a PodContainer<'a>,
    pub delay: Delay,
}

impl ContainerShutdown<'_> {
    /// The preStop delay when gonogo knows its length: (seconds, where the hook is).
    pub fn prestop(&self) -> Option<(i64, Pos)> {
        match self.delay {
            Delay::Seconds(n, pos) => Some((n, pos)),
            _ => None,
        }
    }

    /// The preStop delay reaches the grace period: SIGKILL before SIGTERM
    /// (`grace/prestop-exceeds-grace`), which makes the other sums moot.
    pub fn prestop_reaches_grace(&self) -> bool {
        self.prestop().is_some_and(|(n, _)| n >= self.pod.grace)
    }

    /// The grace period the container needs: preStop + longest request + margin.
    pub fn needed_seconds(&self) -> f64 {
        self.prestop().map_or(0, |(n, _)| n) as f64 + self.pod.max_request + self.pod.margin
    }
}

impl<'a> PodShutdown<'a> {
    fn of(manifests: &Manifests, serving: &ServingPod<'a>, settings: &Settings) -> Self {
        let meta = &serving.workload.meta;
        let grace_field = serving.pod.termination_grace_period_seconds.as_ref();
        let grace = grace_field.map_or(DEFAULT_GRACE_SECONDS, |f| f.value);
        let grace_shown = match grace_field {
            Some(_) => format!("terminationGracePeriodSeconds {grace}"),
            None => format!("terminationGracePeriodSeconds {grace} (the default)"),
        };
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
        PodShutdown {
            meta,
            grace,
            grace_shown,
            grace_location: grace_field.map_or_else(|| meta.location(), |f| meta.at(f.pos)),
            max_request: settings
                .max_request_seconds
                .unwrap_or(DEFAULT_MAX_REQUEST_SECONDS),
            request_shown,
            request_assumed: settings.max_request_seconds.is_none(),
            margin: settings.margin_seconds.unwrap_or(MARGIN_SECONDS),
            margin_shown: match settings.margin_seconds {
                Some(n) => format!("margin {} s (grace.margin_seconds)", seconds(n)),
                None => format!(
                    "margin {} s (grace.margin_seconds unset: the default)",
                    seconds(MARGIN_SECONDS)
                ),
            },
            selected: serving.selected,
            lb: if serving.selected {
                deregistration(manifests, serving.workload, settings)
            } else {
                None
            },
        }
    }
}

/// A grace rule over one container: what it found, if anything.
pub type ContainerRule = fn(&ContainerShutdown<'_>) -> Option<Flag>;

/// The grace rules in the order they run: the entrypoint on every container, the rest on
/// serving containers.
pub struct ContainerRules {
    pub any_container: &'static [ContainerRule],
    pub serving: &'static [ContainerRule],
}

/// Run `rules` over the containers of one workload: `any_container` on every container (the
/// entrypoint matters whether or not it serves), `serving` on serving containers, in order.
pub fn check(
    manifests: &Manifests,
    workload: &Workload,
    settings: &Settings,
    rules: &ContainerRules,
    out: &mut Analysis,
) {
    let Some(serving_pod) = manifests.serving_pod(workload) else {
        return; // an Argo Rollout with workloadRef: its Deployment's template is checked
    };
    let pod = PodShutdown::of(manifests, &serving_pod, settings);
    for container in &serving_pod.containers {
        let facts = ContainerShutdown {
            pod: &pod,
            container,
            delay: prestop_delay(container.container.pre_stop.as_ref()),
        };
        let applicable = rules.any_container.iter().chain(if container.serving {
            rules.serving
        } else {
            &[]
        });
        for rule in applicable {
            if let Some(flag) = rule(&facts) {
                out.flag(flag, &workload.meta);
            }
        }
    }
    let serving = serving_pod.serving();
    if serving > 0 {
        out.serving += serving;
        out.workloads += 1;
    }
}

/// A container's preStop delay: none, a known number of seconds, or a hook whose length
/// gonogo cannot tell (an HTTP call, a script).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delay {
    None,
    Seconds(i64, Pos),
    Unknown,
}

pub fn prestop_delay(hook: Option<&Handler>) -> Delay {
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

pub fn seconds(value: f64) -> String {
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
    let services = manifests.serving_services_for(workload);
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
