//! `rollout/config-change-not-rolled`: a ConfigMap or Secret changes, but the pods that read it
//! are not restarted by this deploy.

use super::super::Out;
use super::{Change, describe_reads, keys};
use crate::declare_rule;
use std::collections::BTreeSet;

declare_rule! {
    order: 94;
    /// ## What it catches
    /// A ConfigMap or Secret whose data this deploy changes under the same name, read by a
    /// workload whose pod template this deploy leaves exactly as it is (no checksum annotation
    /// that changes with the configuration, no other change), and no Stakater Reloader
    /// annotation on the workload.
    ///
    /// ## Why it matters during a deploy
    /// Kubernetes rolls pods only when the pod template changes; a changed ConfigMap does not
    /// restart anything. `env`, `envFrom` and `subPath` files keep the old values until some
    /// pod happens to restart (a crash or a drain, days later: a surprise nobody links to this
    /// deploy), and volume files change under the running code without a restart. Helm's docs
    /// ("Automatically Roll Deployments") recommend a `checksum/config` annotation for exactly
    /// this.
    ///
    /// ## Example
    /// A Helm chart whose `templates/configmap.yaml` changes while `templates/deployment.yaml`
    /// has no `checksum/config` annotation.
    ///
    /// ## Do this instead
    /// ```yaml
    /// spec:
    ///   template:
    ///     metadata:
    ///       annotations:
    ///         checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    /// ```
    /// or give each version of the configuration its own name (kustomize
    /// `configMapGenerator`), which changes the pod template too.
    pub CONFIG_CHANGE_NOT_ROLLED = ("rollout/config-change-not-rolled", Warn, "a ConfigMap or Secret changes but the pod template that reads it does not: the pods are not restarted");
}

pub(super) fn check(change: &Change<'_>, out: &mut Out) {
    let object = change.object();
    for reader in change.readers.iter().filter(|r| !r.rolls && !r.reloader) {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut reads = Vec::new();
        for reference in &reader.reads {
            let keys = change.seen_by(&reference.read);
            if !keys.is_empty() {
                seen.extend(keys);
                reads.push(*reference);
            }
        }
        if seen.is_empty() {
            continue;
        }
        let workload = reader.new.meta.display();
        let mut effects = Vec::new();
        if reads.iter().any(|r| r.read.is_live()) {
            effects.push("mounted files change under the running code");
        }
        if reads.iter().any(|r| !r.read.is_live()) {
            effects.push("env and subPath reads keep the old values until some pod restarts");
        }
        out.push(
            CONFIG_CHANGE_NOT_ROLLED
                .finding(format!(
                    "{object} changes since {} ({} {}) but the pod template of {workload} does not, so this deploy restarts none of its pods ({}): {}",
                    change.reference,
                    if seen.len() == 1 { "key" } else { "keys" },
                    keys(seen.iter().copied()),
                    describe_reads(reads.iter().copied()),
                    effects.join("; ")
                ))
                .at(reader.new.meta.location())
                .with_fix(format!(
                    "add a `checksum/config` annotation of {object} to the pod template of {workload} (Helm: `{{{{ include (print $.Template.BasePath \"/configmap.yaml\") . | sha256sum }}}}`), or give the new data its own name"
                )),
            &[&change.new.meta, &reader.new.meta],
            &workload,
            format!("not restarted for {object}"),
        );
    }
}
