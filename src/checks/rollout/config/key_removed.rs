//! `rollout/config-key-removed`: a key the running pods name is gone from a ConfigMap or
//! Secret changed in place.

use super::super::Out;
use super::{Change, describe_reads, keys};
use crate::declare_rule;
use crate::k8s::ConfigRead;

declare_rule! {
    order: 92;
    /// ## What it catches
    /// A ConfigMap or Secret that keeps its name but loses (or renames) a key that a container
    /// of the deployed version names: `env[].valueFrom.configMapKeyRef.key` /
    /// `secretKeyRef.key`, a volume's `items[].key`, or the file a `subPath` mount copies. Not
    /// when the reference is `optional: true`.
    ///
    /// ## Why it matters during a deploy
    /// The object is replaced the moment the deploy applies it, while the old pods still run
    /// for the length of the rollout. An old pod that restarts in that window (a crash, an
    /// eviction, a node drain) and every pod of `kubectl rollout undo` is created from the
    /// old pod template, which names the key: the kubelet refuses to start it
    /// (`CreateContainerConfigError: couldn't find key … in ConfigMap`, or a `FailedMount` for a
    /// volume whose `items` name a missing key). Running pods that mount the whole object lose
    /// the file within about a minute (Kubernetes docs: mounted ConfigMaps are updated
    /// automatically).
    ///
    /// ## Example
    /// The deployed `Deployment/api` reads `env: [{name: LOG_LEVEL, valueFrom: {configMapKeyRef:
    /// {name: api-config, key: log_level}}}]`; this deploy renames the key to `logLevel` in
    /// `ConfigMap/api-config` and the reference with it.
    ///
    /// ## Do this instead
    /// Add the new key next to the old one and remove the old key in a later deploy, once no
    /// running version reads it; or give the changed configuration a new name (`api-config-v2`,
    /// a kustomize `configMapGenerator`), so the old pods keep theirs.
    pub CONFIG_KEY_REMOVED = ("rollout/config-key-removed", Fail, "a ConfigMap or Secret changed in place loses a key the running pods name: old pods that restart, and a rollback, cannot start");
}

pub(super) fn check(change: &Change<'_>, out: &mut Out) {
    let object = change.object();
    for reader in &change.readers {
        let mut missing: Vec<&str> = Vec::new();
        let mut reads = Vec::new();
        for reference in &reader.reads {
            let gone = change.needed_and_removed(reference);
            if !gone.is_empty() {
                reads.push(*reference);
                for key in gone {
                    if !missing.contains(&key) {
                        missing.push(key);
                    }
                }
            }
        }
        if missing.is_empty() {
            continue;
        }
        missing.sort_unstable();
        let renamed: Vec<String> = missing
            .iter()
            .filter_map(|key| {
                let before = change.deployed.entries.get(*key)?.fingerprint;
                let after = change
                    .added
                    .iter()
                    .find(|k| change.new.entries.get(**k).map(|e| e.fingerprint) == Some(before))?;
                Some(format!("`{key}` looks renamed to `{after}`"))
            })
            .collect();
        let workload = reader.new.meta.display();
        let mut how: Vec<&str> = Vec::new();
        for reference in &reads {
            let why = match reference.read {
                ConfigRead::EnvKey { .. } => {
                    "CreateContainerConfigError: couldn't find key, the container does not start"
                }
                ConfigRead::SubPath { .. } => {
                    "the subPath file is missing from the volume, so the kubelet mounts an empty directory in its place or fails the container"
                }
                _ => {
                    "FailedMount: the volume's items name a key that does not exist, the pod does not start"
                }
            };
            if !how.contains(&why) {
                how.push(why);
            }
        }
        let mut message = format!(
            "{object} loses {} since {}, which the deployed {workload} names ({}): its pods that restart during the rollout, and a `kubectl rollout undo`, break ({})",
            keys(missing.iter().copied()),
            change.reference,
            describe_reads(reads.iter().copied()),
            how.join("; "),
        );
        if !renamed.is_empty() {
            message.push_str(&format!("; {}", renamed.join(", ")));
        }
        out.push(
            CONFIG_KEY_REMOVED
                .finding(message)
                .at(change.location())
                .with_fix(format!(
                    "keep {} in {object} until no running version reads it (remove it in a later deploy), or give the changed data a new name and point {workload} at it",
                    keys(missing.iter().copied())
                )),
            &[&change.new.meta, &reader.new.meta],
            &workload,
            format!("{object} loses a key it reads"),
        );
    }
}
