//! Plain blue-green: two Deployments whose pods differ by one colour-like label
//! (`color: blue` / `color: green`, `slot`, `version`), and a Service that selects one of them
//! by that label. The deploy updates the side no Service sends users to, and the release is
//! the switch of the Service's selector; a rollback switches it back. Recognizing the pair
//! keeps the checks from judging the sides as two unrelated rolling updates.

use super::{Labels, Manifests, Service, Workload, WorkloadKind};
use std::collections::HashMap;

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
    // Tested for each candidate Service against each candidate Deployment: no allocation
    // unless a value names a colour.
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
    a != b
        && a.contains("blue") != b.contains("blue")
        && without_colour(&a).is_some_and(|rest| Some(rest) == without_colour(&b))
}

/// A lower-cased value without its first `blue` (or else `green`): what the two sides of a
/// [`colour_pair`] have in common.
fn without_colour(lower: &str) -> Option<String> {
    if lower.contains("blue") {
        Some(lower.replacen("blue", "", 1))
    } else if lower.contains("green") {
        Some(lower.replacen("green", "", 1))
    } else {
        None
    }
}

/// Positions of the Services and Deployments a pairing can involve, keyed by what a pair must
/// share, built once per [`Manifests`]: searching every Service and every Deployment for each
/// colour-labelled workload made a stream of n such workloads cost n² selector tests.
#[derive(Debug, Clone, Default)]
pub struct PairIndex {
    /// Services with a plain `selector` (not empty), by the label pair the fewest Services
    /// share (and the next one when that pair is switch-like). A Service selecting a workload
    /// holds only the workload's pairs; one selecting the other side differs from it in one
    /// switch-like pair. A pair half the stream shares (`color: green`) is then not read for
    /// every workload when a rarer one (`app: web`) finds the same Service.
    services_by_label: HashMap<(String, String), Vec<usize>>,
    /// Services selecting on one label only, by its key when the key names a switch
    /// ([`switch_name`]): the other side has another value of the key.
    single_by_switch_key: HashMap<String, Vec<usize>>,
    /// Services selecting on one label only whose value names a colour, by (key, the value
    /// [`without_colour`]): the other side's value is the same without its colour.
    single_by_colour: HashMap<(String, String), Vec<usize>>,
    /// Deployments that are not an Argo Rollout's pod template, by each pod label pair and
    /// by each pod label key.
    deployments_by_label: HashMap<(String, String), Vec<usize>>,
    deployments_by_key: HashMap<String, Vec<usize>>,
}

impl PairIndex {
    pub(super) fn build(m: &Manifests) -> PairIndex {
        let mut index = PairIndex::default();
        fn plain(s: &Service) -> Option<&super::LabelSelector> {
            s.selector
                .as_ref()
                .filter(|selector| selector.match_expressions.is_empty())
        }
        let counts = super::manifests::label_pair_counts(
            m.services.iter().filter_map(plain).map(|s| &s.match_labels),
        );
        for (i, service) in m.services.iter().enumerate() {
            let Some(selector) = plain(service) else {
                continue;
            };
            // Its rarest pair finds it for a workload it selects, and for the other side when
            // the pair that differs is another one; only a switch-like pair can differ between
            // the sides (`switch_key`), so when the rarest is one, the next finds it too.
            let rarest = super::manifests::rarest_pairs(&selector.match_labels, &counts, 2);
            let wanted = match rarest.first() {
                Some((k, v)) if switch_name(k) || names_colour(v) => 2,
                _ => 1,
            };
            for (k, v) in rarest.into_iter().take(wanted) {
                let pair = (k.clone(), v.clone());
                index.services_by_label.entry(pair).or_default().push(i);
            }
            if let [(k, v)] = selector.match_labels.iter().collect::<Vec<_>>().as_slice() {
                if switch_name(k) {
                    index
                        .single_by_switch_key
                        .entry(k.to_string())
                        .or_default()
                        .push(i);
                } else if let Some(rest) = without_colour(&v.to_ascii_lowercase()) {
                    let key = (k.to_string(), rest);
                    index.single_by_colour.entry(key).or_default().push(i);
                }
            }
        }
        for (i, workload) in m.workloads.iter().enumerate() {
            if workload.kind != WorkloadKind::Deployment || m.is_rollout_template(workload) {
                continue;
            }
            for (k, v) in m.pod_labels_of(workload).iter() {
                let pair = (k.clone(), v.clone());
                index.deployments_by_label.entry(pair).or_default().push(i);
                index
                    .deployments_by_key
                    .entry(k.clone())
                    .or_default()
                    .push(i);
            }
        }
        index
    }

    /// The Services that may pair a workload with these pod labels, in manifest order.
    fn services(&self, own: &Labels) -> Vec<usize> {
        let mut found: Vec<usize> = Vec::new();
        for (k, v) in own.iter() {
            let by_label = self.services_by_label.get(&(k.clone(), v.clone()));
            let by_switch = self.single_by_switch_key.get(k.as_str());
            let by_colour = without_colour(&v.to_ascii_lowercase())
                .and_then(|rest| self.single_by_colour.get(&(k.clone(), rest)));
            for bucket in [by_label, by_switch, by_colour].into_iter().flatten() {
                found.extend(bucket);
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The Deployments that may hold the labels of `selector` except a different value of
    /// `key`, in manifest order: those sharing one of its other pairs, or else having `key`.
    fn other_sides(&self, selector: &Labels, key: &str) -> &[usize] {
        let mut others = selector
            .iter()
            .filter(|(k, _)| k.as_str() != key)
            .peekable();
        if others.peek().is_none() {
            return self.deployments_by_key.get(key).map_or(&[], Vec::as_slice);
        }
        // Every other pair must hold: the smallest of their lists is enough.
        self.fewest_holding(others)
    }

    /// The Deployments that may match all of `selector` (not empty), in manifest order.
    fn selected(&self, selector: &Labels) -> &[usize] {
        self.fewest_holding(selector.iter())
    }

    /// Of the Deployments holding each of `pairs`, the shortest list: a Deployment that must hold
    /// every pair is in all of them.
    fn fewest_holding<'p>(
        &self,
        pairs: impl Iterator<Item = (&'p String, &'p String)>,
    ) -> &[usize] {
        pairs
            .map(|(k, v)| {
                self.deployments_by_label
                    .get(&(k.clone(), v.clone()))
                    .map_or(&[][..], Vec::as_slice)
            })
            .min_by_key(|positions| positions.len())
            .unwrap_or(&[])
    }
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
        let index = self.pair_index();
        // Another Deployment in the workload's namespace, from a list of positions.
        let deployments = |positions: &'a [usize]| {
            positions
                .iter()
                .map(|&i| &self.workloads[i])
                .filter(move |w| {
                    !std::ptr::eq(*w, workload) && w.meta.same_namespace(&workload.meta)
                })
        };
        let switching = index
            .services(&own)
            .into_iter()
            .map(|i| &self.services[i])
            .filter(|s| s.meta.same_namespace(&workload.meta));
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
                    // `switch_key(key, value, _)` holds for no Deployment unless the key names a
                    // switch or the value a colour: no need to look (a pair of thousands of
                    // sides shares its other labels with half the stream).
                    if !switch_name(key) && !names_colour(value) {
                        continue;
                    }
                    let candidates = index.other_sides(&selector.match_labels, key);
                    let Some(idle) = deployments(candidates).find(|w| {
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
                    let candidates = index.selected(&selector.match_labels);
                    let Some(active) = deployments(candidates).find(|w| selects(w)) else {
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
    fn a_pair_is_found_when_the_colour_is_the_services_rarest_label() {
        // `color: green` is the rarest pair of the switching Service's selector (the app label
        // is shared by other Services): the blue side, which lacks it, must still find it.
        let mut text = deployment("web-blue", "{app: web, color: blue}")
            + &deployment("web-green", "{app: web, color: green}")
            + &service("web", "{app: web, color: green}");
        for tier in ["a", "b", "c"] {
            text += &service(
                &format!("web-{tier}"),
                &format!("{{app: web, tier: {tier}}}"),
            );
        }
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
