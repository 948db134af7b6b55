//! `rollout/blue-green-behind-alb`: an Argo Rollouts blue-green switch behind an AWS
//! Application Load Balancer whose target group holds pod IPs.

use super::{Out, WorkloadFacts};
use crate::declare_rule;
use crate::k8s::{Ingress, Manifests, Meta, WorkloadKind};

declare_rule! {
    order: 88;
    /// ## What it catches
    /// An Argo Rollout with `strategy.blueGreen` whose `activeService` is a backend of an
    /// Ingress served by the AWS Load Balancer Controller (an IngressClass whose controller is
    /// `ingress.k8s.aws/alb`, named or the default class, `ingressClassName: alb`, the
    /// `kubernetes.io/ingress.class: alb` annotation, or `alb.ingress.kubernetes.io/*`
    /// annotations) in IP mode: `alb.ingress.kubernetes.io/target-type: ip` on the Service or
    /// the Ingress (the Service's wins, as the controller's annotation docs say). Instance
    /// mode (the controller's default) is left alone: there the target group holds nodes, and
    /// kube-proxy follows the selector switch like any other Service change.
    ///
    /// ## Why it matters during a deploy
    /// Argo Rollouts' docs (docs/features/bluegreen.md, added in argo-rollouts#4259): "ALB
    /// Ingress with Rollouts blue-green strategy is not supported without a chance of
    /// downtime": at promotion the controller changes the active Service's selector, and the
    /// AWS Load Balancer Controller then deregisters the old pods' IPs from the target group
    /// and registers the new ones, not atomically; the new targets must first pass the ALB's
    /// health check, so for a while the target group can have no healthy target. The ALB page
    /// (docs/features/traffic-management/alb.md, "Zero-Downtime Updates with AWS TargetGroup
    /// Verification") explains why the usual guard fails here: the controller's pod readiness
    /// gates are injected only into pods that a Service selected when they were created, and
    /// blue-green selects the new pods only after they exist; if registration is delayed (the
    /// controller down, AWS API rate limits), the old ReplicaSet is scaled down while the
    /// target group still points at its IPs: HTTP 502s. Running the Rollouts controller with
    /// `--aws-verify-target-group` blocks the scale-down until the target group holds the new
    /// IPs, but the bluegreen page's warning still stands (argo-rollouts#4834: downtime with
    /// the flag on).
    ///
    /// ## Example
    /// ```yaml
    /// kind: Ingress
    /// metadata:
    ///   annotations: {alb.ingress.kubernetes.io/target-type: ip}
    /// spec:
    ///   ingressClassName: alb
    ///   rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
    /// ---
    /// kind: Rollout
    /// spec:
    ///   strategy:
    ///     blueGreen: {activeService: web, previewService: web-preview}
    /// ```
    ///
    /// ## Do this instead
    /// Use the canary strategy with ALB traffic routing, which shifts traffic by target-group
    /// weights instead of re-registering pods in one target group, with `pingPong` (the ALB
    /// page's "Zero-Downtime Updates with Ping-Pong feature" for IP mode):
    /// ```yaml
    /// strategy:
    ///   canary:
    ///     pingPong: {pingService: web-ping, pongService: web-pong}
    ///     trafficRouting:
    ///       alb: {ingress: web, rootService: web, servicePort: 80}
    ///     steps: [{setWeight: 20}, {pause: {duration: 5m}}]
    /// ```
    /// or `alb.ingress.kubernetes.io/target-type: instance`, so the ALB sends traffic to the
    /// nodes and kube-proxy follows the switch.
    pub BLUE_GREEN_BEHIND_ALB = ("rollout/blue-green-behind-alb", Warn, "an Argo blue-green Rollout switches a Service behind an AWS ALB in IP mode: Argo Rollouts documents this as not supported without a chance of downtime");
}

const TARGET_TYPE: &str = "alb.ingress.kubernetes.io/target-type";

/// The controller name of the AWS Load Balancer Controller, in an IngressClass's
/// `spec.controller`.
const ALB_CONTROLLER: &str = "ingress.k8s.aws/alb";

/// Whether the AWS Load Balancer Controller serves this Ingress: its IngressClass in the
/// manifests (named, or the default one) names the controller, or, when the manifests do not
/// hold the class, it is called `alb` (as in the controller's docs) or the older class
/// annotation says `alb`; or the Ingress carries one of the controller's own annotations,
/// which no other controller reads.
fn served_by_alb(manifests: &Manifests, ingress: &Ingress) -> bool {
    let named_alb = match manifests.ingress_controller(ingress) {
        Some(controller) => controller == ALB_CONTROLLER,
        None => {
            ingress.class_name.as_deref() == Some("alb")
                || ingress
                    .meta
                    .annotations
                    .get("kubernetes.io/ingress.class")
                    .is_some_and(|class| class.value == "alb")
        }
    };
    named_alb
        || ingress
            .meta
            .annotations
            .keys()
            .any(|k| k.starts_with("alb.ingress.kubernetes.io/"))
}

/// The target type the controller uses for `service` behind `ingress`: the Service's
/// annotation, else the Ingress's, else `instance` (the controller's default), with the
/// object that set it.
fn target_type<'a>(service: Option<&'a Meta>, ingress: &'a Ingress) -> Option<(&'a Meta, String)> {
    [service, Some(&ingress.meta)]
        .into_iter()
        .flatten()
        .find_map(|meta| {
            meta.annotations
                .get(TARGET_TYPE)
                .map(|t| (meta, t.value.trim().to_ascii_lowercase()))
        })
}

fn alb_ingresses<'a>(manifests: &'a Manifests, service: &str, near: &Meta) -> Vec<&'a Ingress> {
    manifests
        .ingresses
        .iter()
        .filter(|i| {
            i.meta.same_namespace(near)
                && i.backends.iter().any(|b| b == service)
                && served_by_alb(manifests, i)
        })
        .collect()
}

pub(super) fn check(facts: &WorkloadFacts<'_>, out: &mut Out) {
    let (manifests, workload) = (facts.manifests, facts.workload);
    if workload.kind != WorkloadKind::Rollout {
        return;
    }
    let Some(active) = workload
        .strategy
        .blue_green
        .as_ref()
        .and_then(|b| b.active_service.as_ref())
    else {
        return;
    };
    let service = manifests
        .services
        .iter()
        .find(|s| s.meta.name == active.value && s.meta.same_namespace(&workload.meta))
        .map(|s| &s.meta);
    for ingress in alb_ingresses(manifests, &active.value, &workload.meta) {
        let Some((set_by, kind)) = target_type(service, ingress) else {
            continue;
        };
        if kind != "ip" {
            continue;
        }
        let object = workload.meta.display();
        let finding = BLUE_GREEN_BEHIND_ALB
            .finding(format!(
                "{object} promotes by switching the selector of its activeService `{}`, which {} routes to through the AWS Load Balancer Controller in IP mode ({TARGET_TYPE}: ip on {}): at the switch the controller deregisters the old pods' IPs from the target group and registers the new ones, which must pass the ALB health check first, and the new pods carry no ALB readiness gate because no Service behind the ALB selected them when they were created; Argo Rollouts documents blue-green behind an ALB as not supported without a chance of downtime (502s while the target group has no healthy target, or still points at scaled-down pods)",
                active.value,
                ingress.meta.display(),
                set_by.display(),
            ))
            .at(workload.meta.at(active.pos))
            .with_fix(format!(
                "switch {object} to `strategy.canary` with `trafficRouting.alb` (ingress {}) and `pingPong`, which moves traffic by target-group weights; or use `{TARGET_TYPE}: instance`; keeping blue-green, at least run the Rollouts controller with `--aws-verify-target-group`",
                ingress.meta.name
            ));
        out.push(
            finding,
            &[&workload.meta, &ingress.meta],
            &object,
            format!("blue-green switch behind ALB {}", ingress.meta.display()),
        );
    }
}
