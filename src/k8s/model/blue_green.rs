//! Plain blue-green: two Deployments whose pods differ by one colour-like label
//! (`color: blue` / `color: green`, `slot`, `version`), and a Service that selects one of them
//! by that label. The deploy updates the side no Service sends users to, and the release is
//! the switch of the Service's selector; a rollback switches it back. Recognizing the pair
//! keeps the checks from judging the sides as two unrelated rolling updates.

use super::{Labels, Manifests, Service, Workload, WorkloadKind};

/// A Deployment that is one side of a plain blue-green pair.
#[derive(Debug, Clone, Copy)]
pub struct PlainBlueGreen<'a> {
    /// The Service whose selector picks the side users reach.
    pub service: &'a Service,
    /// The label the selector switches on (`color`).
    pub key: &'a str,
    /// The side the Service selects now.
    pub active: &'a Workload,
    /// The other side: what a rollback switches back to.
    pub idle: &'a Workload,
}

impl PlainBlueGreen<'_> {
    /// `color: green`
    pub fn active_value(&self) -> &str {
        self.active
            .pod_labels
            .get(self.key)
            .map_or("", String::as_str)
    }

    /// `color: blue`
    pub fn idle_value(&self) -> &str {
        self.idle
            .pod_labels
            .get(self.key)
            .map_or("", String::as_str)
    }
}

/// Label keys teams switch a blue-green Service on: the key's name (after any `prefix/`)
/// holds one of these words. Values `blue`/`green` count whatever the key.
fn switch_key(key: &str, a: &str, b: &str) -> bool {
    // Tested for every Service against every Deployment: no allocation unless a value names a
    // colour.
    switch_name(key) || (names_colour(a) && colour_pair(a, b))
}

/// The key's name (after any `prefix/`) says it switches sides.
fn switch_name(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    ["color", "colour", "slot", "version", "stack", "side"]
        .iter()
        .any(|word| contains_ignore_case(name, word))
}

fn names_colour(value: &str) -> bool {
    contains_ignore_case(value, "blue") || contains_ignore_case(value, "green")
}

fn contains_ignore_case(text: &str, word: &str) -> bool {
    text.as_bytes()
        .windows(word.len())
        .any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
}

/// `blue`/`green`, or the same value with blue and green in it (`nginx-blue`/`nginx-green`).
fn colour_pair(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    let strip = |v: &str| {
        if v.contains("blue") {
            Some(v.replacen("blue", "", 1))
        } else if v.contains("green") {
            Some(v.replacen("green", "", 1))
        } else {
            None
        }
    };
    a != b
        && a.contains("blue") != b.contains("blue")
        && strip(&a).is_some_and(|rest| Some(rest) == strip(&b))
}

/// Whether `labels` match `service`'s selector everywhere except `key`, where they hold another
/// value.
fn other_side(service: &Service, key: &str, labels: &Labels) -> bool {
    let Some(selector) = &service.selector else {
        return false;
    };
    let selected = selector.match_labels.get(key);
    selector
        .match_labels
        .iter()
        .all(|(k, v)| k == key || labels.get(k) == Some(v))
        && labels.get(key).is_some_and(|v| Some(v) != selected)
}

/// Names of Services that reach a side for testing, not users.
fn preview_like(service: &Service) -> bool {
    let name = service.meta.name.to_ascii_lowercase();
    ["preview", "test", "staging", "canary", "idle", "next"]
        .iter()
        .any(|word| name.contains(word))
}

impl Manifests {
    /// The plain blue-green pair `workload` is a side of, if any: a Deployment, another
    /// Deployment in its namespace whose pods differ by one colour-like label, and a Service
    /// (not a metrics or preview one) that selects exactly one of them by that label; no
    /// serving Service may select both (that is a split of traffic, a canary by replica count).
    pub fn plain_blue_green<'a>(&'a self, workload: &'a Workload) -> Option<PlainBlueGreen<'a>> {
        if workload.kind != WorkloadKind::Deployment || self.is_rollout_template(workload) {
            return None;
        }
        let deployments = || {
            self.workloads.iter().filter(move |w| {
                w.kind == WorkloadKind::Deployment
                    && !std::ptr::eq(*w, workload)
                    && w.meta.same_namespace(&workload.meta)
                    && !self.is_rollout_template(w)
            })
        };
        // This workload's pod labels, read once: the services are many (an umbrella chart has
        // thousands), and copying the labels for each one made a large stream quadratic in
        // copies. The label tests come before the name tests, which allocate.
        let own = self.pod_labels_of(workload);
        // Either side of a pair carries the switch in its own pod labels: a key that names one
        // (`switch_key` on the selector's key, which both sides have) or a colour value (a
        // `colour_pair` needs a colour on both sides). A workload without one pairs with nothing,
        // so the Services are not searched: this keeps a stream of thousands linear.
        if !own.iter().any(|(k, v)| switch_name(k) || names_colour(v)) {
            return None;
        }
        let switching = self.services.iter().filter(|s| {
            s.meta.same_namespace(&workload.meta)
                && s.selector
                    .as_ref()
                    .is_some_and(|sel| sel.match_expressions.is_empty())
        });
        for service in switching {
            let selector = service.selector.as_ref()?;
            let selects_own = selector.matches(&own);
            let mut candidate = None;
            for (key, value) in selector.match_labels.iter() {
                let own_value = own.get(key).map_or("", String::as_str);
                if selects_own
                    || (other_side(service, key, &own) && switch_key(key, value, own_value))
                {
                    candidate = Some((key, value));
                    break;
                }
            }
            let Some((key, value)) = candidate else {
                continue;
            };
            if self.is_metrics_service(service) || preview_like(service) {
                continue;
            }
            let selects = |w: &Workload| selector.matches(&self.pod_labels_of(w));
            for (key, value) in std::iter::once((key, value)).chain(
                selector
                    .match_labels
                    .iter()
                    .skip_while(move |(k, _)| *k != key)
                    .skip(1),
            ) {
                let (active, idle) = if selects_own {
                    let Some(idle) = deployments().find(|w| {
                        // Most Deployments carry their own pod labels: read them in place.
                        let copied;
                        let labels = if w.workload_ref.is_none() {
                            &w.pod_labels
                        } else {
                            copied = self.pod_labels_of(w);
                            &copied
                        };
                        other_side(service, key, labels)
                            && switch_key(key, value, labels.get(key).map_or("", String::as_str))
                    }) else {
                        continue;
                    };
                    (workload, idle)
                } else {
                    if !other_side(service, key, &own)
                        || !switch_key(key, value, own.get(key).map_or("", String::as_str))
                    {
                        continue;
                    }
                    let Some(active) = deployments().find(|w| selects(w)) else {
                        continue;
                    };
                    (active, workload)
                };
                if self.shared_service(active, idle) {
                    return None;
                }
                return Some(PlainBlueGreen {
                    service,
                    key,
                    active,
                    idle,
                });
            }
        }
        None
    }

    /// A serving Service that selects the pods of both workloads.
    fn shared_service(&self, a: &Workload, b: &Workload) -> bool {
        let b_labels = self.pod_labels_of(b);
        self.serving_services_for(a).iter().any(|s| {
            s.selector
                .as_ref()
                .is_some_and(|sel| !sel.is_empty() && sel.matches(&b_labels))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{parse_document, split_documents};

    fn model(text: &str) -> Manifests {
        let mut manifests = Manifests::default();
        for raw in split_documents(text) {
            if let Some(node) = parse_document(&raw).unwrap() {
                manifests.add_document("deploy/app.yaml", &node);
            }
        }
        manifests
    }

    fn deployment(name: &str, labels: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {labels}}}\n  template:\n    metadata: {{labels: {labels}}}\n    spec: {{containers: [{{name: app, image: x:1}}]}}\n---\n"
        )
    }

    fn service(name: &str, selector: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec:\n  selector: {selector}\n  ports: [{{port: 80}}]\n---\n"
        )
    }

    /// (active, idle, key) of the pair each Deployment belongs to, in order.
    fn pairs(text: &str) -> Vec<Option<(String, String, String)>> {
        let manifests = model(text);
        manifests
            .workloads
            .iter()
            .map(|w| {
                manifests.plain_blue_green(w).map(|p| {
                    (
                        p.active.meta.name.clone(),
                        p.idle.meta.name.clone(),
                        p.key.to_string(),
                    )
                })
            })
            .collect()
    }

    #[test]
    fn a_service_selecting_one_colour_makes_a_pair_seen_from_both_sides() {
        let text = deployment("web-blue", "{app: web, color: blue}")
            + &deployment("web-green", "{app: web, color: green}")
            + &service("web", "{app: web, color: green}")
            + &service("web-preview", "{app: web, color: blue}");
        let pair = Some(("web-green".into(), "web-blue".into(), "color".into()));
        assert_eq!(pairs(&text), vec![pair.clone(), pair]);
    }

    #[test]
    fn colour_in_the_value_of_any_key_counts() {
        let text = deployment("nginx-blue", "{app: nginx-blue}")
            + &deployment("nginx-green", "{app: nginx-green}")
            + &service("web", "{app: nginx-blue}");
        assert_eq!(
            pairs(&text)[1],
            Some(("nginx-blue".into(), "nginx-green".into(), "app".into()))
        );
    }

    #[test]
    fn tracks_behind_one_shared_service_are_a_split_not_a_pair() {
        let text = deployment("web-stable", "{app: web, version: stable}")
            + &deployment("web-canary", "{app: web, version: canary}")
            + &service("web", "{app: web}")
            + &service("web-stable", "{app: web, version: stable}");
        assert_eq!(pairs(&text), vec![None, None]);
    }

    #[test]
    fn unrelated_apps_differing_by_a_non_colour_label_are_not_a_pair() {
        let text = deployment("frontend", "{app: frontend, tier: web}")
            + &deployment("backend", "{app: backend, tier: web}")
            + &service("frontend", "{app: frontend, tier: web}");
        assert_eq!(pairs(&text), vec![None, None]);
    }
}
