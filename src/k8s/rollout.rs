//! The rollout arithmetic the controllers do, shared by the `rollout` and `rollback` checks: the
//! replica count a rolling update works with (or the HPA's range), the surge and unavailable pods
//! it resolves to, and the analysis templates an Argo Rollouts strategy references.

use super::{CanaryStep, IntOrPercent, Manifests, TemplateRef, Workload};

/// The replica count the arithmetic uses: `replicas`, or the HPA's range when one scales the
/// workload.
pub struct Scale {
    pub replicas: i64,
    pub hpa_max: Option<i64>,
    /// `HorizontalPodAutoscaler/shop-api`
    pub hpa: Option<String>,
}

impl Scale {
    pub fn of(manifests: &Manifests, workload: &Workload) -> Scale {
        let flagger_hpa = manifests
            .flagger_canary_for(workload)
            .and_then(|c| c.autoscaler.as_ref())
            .and_then(|a| {
                manifests
                    .hpas
                    .iter()
                    .find(|h| h.meta.name == a.name && h.meta.same_namespace(&workload.meta))
            });
        match manifests.hpa_for(workload).or(flagger_hpa) {
            Some(hpa) => Scale {
                replicas: hpa.min_replicas.as_ref().map_or(1, |m| m.value),
                hpa_max: hpa.max_replicas.as_ref().map(|m| m.value),
                hpa: Some(hpa.meta.display()),
            },
            None => Scale {
                replicas: workload.replicas_or_default(),
                hpa_max: None,
                hpa: None,
            },
        }
    }

    /// "8 replicas" or "the 8 replicas HorizontalPodAutoscaler/x allows at most"
    pub fn of_replicas(&self, replicas: i64) -> String {
        match &self.hpa {
            Some(hpa) if Some(replicas) == self.hpa_max && replicas != self.replicas => {
                format!("{replicas} replicas (maxReplicas of {hpa})")
            }
            Some(hpa) => format!("{replicas} replicas (minReplicas of {hpa})"),
            None => format!("{replicas} replicas"),
        }
    }
}

/// What a rolling update of a Deployment or Rollout does to capacity at `replicas` pods.
pub struct Fenceposts {
    pub surge: i64,
    pub unavailable: i64,
    /// Both resolved to 0, so Kubernetes forced `unavailable` to 1.
    pub forced: bool,
}

/// `ResolveFenceposts` in kubernetes/pkg/controller/deployment/util (and Argo Rollouts' copy).
pub fn fenceposts(surge: IntOrPercent, unavailable: IntOrPercent, replicas: i64) -> Fenceposts {
    let surge = surge.scaled(replicas, true);
    let unavailable_resolved = unavailable.scaled(replicas, false);
    let forced = surge == 0 && unavailable_resolved == 0;
    Fenceposts {
        surge,
        unavailable: if forced {
            1
        } else {
            unavailable_resolved.min(replicas)
        },
        forced,
    }
}

pub const DEFAULT_PERCENT: IntOrPercent = IntOrPercent::Percent(25);

/// Argo Rollouts: every template referenced anywhere in the strategy.
pub fn argo_references(workload: &Workload) -> Vec<(&TemplateRef, &'static str)> {
    let mut refs = Vec::new();
    if let Some(canary) = &workload.strategy.canary {
        if let Some(background) = &canary.background_analysis {
            refs.extend(
                background
                    .templates
                    .iter()
                    .map(|t| (t, "background analysis")),
            );
        }
        for step in &canary.steps {
            match step {
                CanaryStep::Analysis(analysis) => {
                    refs.extend(analysis.templates.iter().map(|t| (t, "analysis step")))
                }
                CanaryStep::Experiment { analyses, .. } => {
                    refs.extend(analyses.iter().map(|t| (t, "experiment")))
                }
                _ => {}
            }
        }
    }
    if let Some(blue_green) = &workload.strategy.blue_green {
        for analysis in [
            &blue_green.pre_promotion_analysis,
            &blue_green.post_promotion_analysis,
        ]
        .into_iter()
        .flatten()
        {
            refs.extend(analysis.templates.iter().map(|t| (t, "promotion analysis")));
        }
    }
    refs
}
