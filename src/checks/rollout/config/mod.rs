//! Configuration that old and new pods share: ConfigMaps and Secrets this deploy changes in
//! place, compared with the deployed version (the base ref, read from git by
//! [`crate::k8s::base`]).
//!
//! These rules live in `rollout` because what they judge is the rollout itself: for minutes
//! old and new pods run side by side, and an object both read is changed under the old ones.
//! They read the same manifests, waive by the same annotations and name workloads in the same
//! summary as the capacity rules.
//!
//! The facts, computed once per changed object: which keys were added, removed or changed (by
//! value fingerprint; values are never kept, so a Secret's value cannot reach a message), and
//! for each workload of the deployed version that reads the object and is still deployed, how
//! its containers read it (a live volume, a `subPath` file, `env`, `envFrom`) and whether this
//! deploy restarts its pods (the pod template differs) or not.

mod changed_in_place;
mod deleted_while_referenced;
mod immutable_changed;
mod key_removed;
mod not_compared;
mod not_rolled;

pub use changed_in_place::CONFIG_CHANGED_IN_PLACE;
pub use deleted_while_referenced::CONFIG_DELETED_WHILE_REFERENCED;
pub use immutable_changed::CONFIG_IMMUTABLE_CHANGED;
pub use key_removed::CONFIG_KEY_REMOVED;
pub use not_compared::CONFIG_NOT_COMPARED;
pub use not_rolled::CONFIG_CHANGE_NOT_ROLLED;

use super::Out;
use crate::k8s::base::Deployed;
use crate::k8s::{ConfigObject, ConfigRead, ConfigRef, Manifests, Workload};
use std::collections::BTreeSet;

/// A ConfigMap or Secret present under the same name in both versions, with different data.
pub(super) struct Change<'a> {
    /// The base ref, for messages.
    pub reference: &'a str,
    pub deployed: &'a ConfigObject,
    pub new: &'a ConfigObject,
    pub added: BTreeSet<&'a str>,
    pub removed: BTreeSet<&'a str>,
    /// Keys in both whose value changed.
    pub changed: BTreeSet<&'a str>,
    /// The workloads of the deployed version that read it and are still deployed.
    pub readers: Vec<ReaderFacts<'a>>,
}

/// A workload of the deployed version that reads a changed object, and its new version.
pub(super) struct ReaderFacts<'a> {
    pub new: &'a Workload,
    /// How the deployed version's containers read the object.
    pub reads: Vec<&'a ConfigRef>,
    /// Whether this deploy changes the pod template, so the controller replaces the pods (or
    /// may: a kustomization rewrites the template, see [`Deployed::kustomized`]).
    pub rolls: bool,
    /// The new pod template's checksum annotations (`checksum/config`) that can stand for this
    /// object: see [`checksums_of`].
    pub checksum_annotations: Vec<&'a str>,
    /// Stakater Reloader restarts the pods when the object changes.
    pub reloader: bool,
}

impl Change<'_> {
    pub fn object(&self) -> String {
        self.new.meta.display()
    }

    /// Where to point: the first added or changed key of the new version, else the object.
    pub fn location(&self) -> crate::report::Location {
        self.added
            .iter()
            .chain(&self.changed)
            .filter_map(|k| self.new.entries.get(*k))
            .map(|e| e.pos)
            .min()
            .map_or_else(|| self.new.meta.location(), |pos| self.new.meta.at(pos))
    }

    /// Keys whose value differs between the versions, in any way.
    pub fn touched(&self) -> BTreeSet<&str> {
        self.added
            .iter()
            .chain(&self.removed)
            .chain(&self.changed)
            .copied()
            .collect()
    }

    /// The touched keys one read sees: the keys it names, or every key (a whole volume,
    /// `envFrom`, a `subPathExpr` file whose key gonogo cannot tell).
    pub fn seen_by(&self, read: &ConfigRead) -> BTreeSet<&str> {
        let named = read.named_keys();
        let touched = self.touched();
        if named.is_empty() {
            touched
        } else {
            touched.into_iter().filter(|k| named.contains(k)).collect()
        }
    }

    /// A removed key a read names and needs (not `optional`): the pod cannot start without it.
    pub fn needed_and_removed<'r>(&self, reference: &'r ConfigRef) -> Vec<&'r str> {
        if reference.optional {
            return Vec::new();
        }
        reference
            .read
            .named_keys()
            .into_iter()
            .filter(|k| self.removed.contains(k))
            .collect()
    }
}

/// How containers read an object, one entry per container: `container api: env LOG_LEVEL,
/// LEVEL (key log_level), volume at /etc/api; container worker: envFrom`. Several variables
/// of one container are one entry, so a workload that reads a key twice is named once.
pub(super) fn describe_reads<'a>(reads: impl IntoIterator<Item = &'a ConfigRef>) -> String {
    /// One item of a container's list: its env variables (with their keys) grouped where the
    /// first one appears, any other read as described.
    enum Item<'a> {
        Env(Vec<(&'a str, &'a str)>),
        Other(String),
    }
    let mut containers: Vec<(&str, Vec<Item>)> = Vec::new();
    for reference in reads {
        let index = match containers
            .iter()
            .position(|(c, _)| *c == reference.container)
        {
            Some(index) => index,
            None => {
                containers.push((&reference.container, Vec::new()));
                containers.len() - 1
            }
        };
        let items = &mut containers[index].1;
        match &reference.read {
            ConfigRead::EnvKey { variable, key } => {
                let pair = (variable.as_str(), key.as_str());
                match items.iter_mut().find_map(|item| match item {
                    Item::Env(pairs) => Some(pairs),
                    Item::Other(_) => None,
                }) {
                    Some(pairs) if pairs.contains(&pair) => {}
                    Some(pairs) => pairs.push(pair),
                    None => items.push(Item::Env(vec![pair])),
                }
            }
            read => {
                let described = read.describe();
                if !items
                    .iter()
                    .any(|item| matches!(item, Item::Other(d) if *d == described))
                {
                    items.push(Item::Other(described));
                }
            }
        }
    }
    containers
        .iter()
        .map(|(container, items)| {
            let items: Vec<String> = items
                .iter()
                .map(|item| match item {
                    Item::Env(pairs) if pairs.iter().all(|(_, k)| *k == pairs[0].1) => format!(
                        "env {} (key {})",
                        pairs.iter().map(|(v, _)| *v).collect::<Vec<_>>().join(", "),
                        pairs[0].1
                    ),
                    Item::Env(pairs) => format!(
                        "env {}",
                        pairs
                            .iter()
                            .map(|(v, k)| format!("{v} (key {k})"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Item::Other(described) => described.clone(),
                })
                .collect();
            format!("container {container}: {}", items.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `a`, `a, b`, `` `a`, `b` `` as code.
pub(super) fn keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> String {
    keys.into_iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Annotations by which Stakater Reloader restarts a workload's pods when its configuration
/// changes.
fn restarted_by_reloader(workload: &Workload) -> bool {
    workload.meta.annotations.keys().any(|k| {
        k.starts_with("reloader.stakater.com/")
            || k.starts_with("configmap.reloader.stakater.com/")
            || k.starts_with("secret.reloader.stakater.com/")
    })
}

/// The checksum annotations of a pod template that can stand for the object `name`. A generic
/// one (Helm's `checksum/config`) stands for every object the pods read. But a template whose
/// annotations name the objects they hash (kube-prometheus's Grafana: `checksum/grafana-config`,
/// `checksum/grafana-datasources`, no annotation for its dashboard ConfigMaps) hashes only
/// those: another object's change does not change them, so they do not roll the pods for it.
fn checksums_of<'a>(annotations: &'a [String], name: &str, reads: &[ConfigRef]) -> Vec<&'a str> {
    let subject = |annotation: &str| {
        let last = annotation.rsplit('/').next().unwrap_or(annotation);
        let last = last.strip_prefix("checksum-").unwrap_or(last);
        last.strip_suffix("-checksum").unwrap_or(last).to_string()
    };
    let per_object = annotations
        .iter()
        .any(|a| reads.iter().any(|r| subject(a) == r.name));
    annotations
        .iter()
        .filter(|a| !per_object || subject(a) == name)
        .map(String::as_str)
        .collect()
}

/// Whether the manifests have anything these rules compare: a ConfigMap or Secret, or a pod
/// template that reads one. Without, the base is not read at all.
pub fn has_config(manifests: &Manifests) -> bool {
    !manifests.config_objects.is_empty()
        || manifests
            .workloads
            .iter()
            .any(|w| !w.config.refs.is_empty())
}

type ChangeRule = fn(&Change<'_>, &mut Out);

/// The rules over each changed object that is not immutable at the base, in the order their
/// findings appear.
static CHANGE_RULES: &[ChangeRule] = &[
    key_removed::check,
    changed_in_place::check,
    not_rolled::check,
];

/// Every configuration rule: `base` is the deployed version, or why it could not be read.
pub fn check(base: Result<&Deployed, &str>, manifests: &Manifests, out: &mut Out) {
    if !has_config(manifests) {
        return;
    }
    let deployed = match base {
        Ok(deployed) => deployed,
        Err(why) => {
            not_compared::unavailable(manifests, why, out);
            return;
        }
    };
    not_compared::partly(deployed, manifests, out);
    for new in &manifests.config_objects {
        let Some(change) = change_of(deployed, manifests, new) else {
            continue;
        };
        if change.deployed.is_immutable() {
            // The API server rejects the change, so it has no effect on the pods to judge.
            immutable_changed::check(&change, out);
            continue;
        }
        for rule in CHANGE_RULES {
            rule(&change, out);
        }
    }
    deleted_while_referenced::check(deployed, manifests, out);
}

fn change_of<'a>(
    deployed: &'a Deployed,
    manifests: &'a Manifests,
    new: &'a ConfigObject,
) -> Option<Change<'a>> {
    let old = deployed.manifests.config_counterpart(new, manifests)?;
    let mut change = Change {
        reference: &deployed.reference,
        deployed: old,
        new,
        added: BTreeSet::new(),
        removed: BTreeSet::new(),
        changed: BTreeSet::new(),
        readers: Vec::new(),
    };
    for (key, entry) in &new.entries {
        match old.entries.get(key) {
            None => {
                change.added.insert(key.as_str());
            }
            Some(before) if before.fingerprint != entry.fingerprint => {
                change.changed.insert(key.as_str());
            }
            Some(_) => {}
        }
    }
    for key in old.entries.keys() {
        if !new.entries.contains_key(key) {
            change.removed.insert(key.as_str());
        }
    }
    if change.touched().is_empty() && old.is_immutable() == new.is_immutable() {
        return None;
    }
    for (old_workload, reference) in deployed.manifests.readers_of(old) {
        let Some(new_workload) = manifests.counterpart(old_workload, &deployed.manifests) else {
            continue;
        };
        if let Some(reader) = change
            .readers
            .iter_mut()
            .find(|r| std::ptr::eq(r.new, new_workload))
        {
            reader.reads.push(reference);
            continue;
        }
        let new_config = manifests.pod_config_of(new_workload);
        let old_config = deployed.manifests.pod_config_of(old_workload);
        change.readers.push(ReaderFacts {
            new: new_workload,
            reads: vec![reference],
            // A template that a kustomization rewrites at build time (Argo CD's
            // `manifests/base`: `image: …:latest` in the file, the release tag set by `images:`)
            // is not what runs: an unchanged file says nothing, so it is not called unrolled.
            rolls: old_config.template_fingerprint != new_config.template_fingerprint
                || deployed.kustomized(&old_workload.meta.file),
            checksum_annotations: checksums_of(
                &new_config.checksum_annotations,
                &new.meta.name,
                &new_config.refs,
            ),
            reloader: restarted_by_reloader(new_workload),
        });
    }
    Some(change)
}
