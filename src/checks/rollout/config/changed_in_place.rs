//! `rollout/config-changed-in-place`: a ConfigMap or Secret changes under its old name while
//! the pods of the deployed version still read it.

use super::super::Out;
use super::{Change, describe_reads, keys};
use crate::declare_rule;
use crate::k8s::ConfigRef;
use crate::report::{Severity, Subject};
use std::collections::BTreeSet;

declare_rule! {
    order: 93;
    /// ## What it catches
    /// A ConfigMap or Secret that keeps its name and changes its data (keys added, removed or
    /// given other values) while a workload of the deployed version reads the changed keys,
    /// and this deploy rolls that workload. Only key names are shown, never values. Keys
    /// the old pods cannot start without are `rollout/config-key-removed`; workloads this
    /// deploy does not restart are `rollout/config-change-not-rolled`.
    ///
    /// When the pod template carries a Helm-style checksum annotation (`checksum/config`), the
    /// change rolls the pods on purpose and the finding is `info`.
    ///
    /// ## Why it matters during a deploy
    /// A rollout runs old and new pods side by side for minutes. Changing the object in place
    /// changes it for both (Kubernetes docs, "Mounted ConfigMaps are updated automatically"):
    /// - a volume mount (without `subPath`) is rewritten inside the running old pods after the
    ///   kubelet's sync period plus its cache TTL (about a minute), so the old code reads the
    ///   new values, which it may not understand;
    /// - `env`, `envFrom` and `subPath` files are read at container start, so an old pod that
    ///   restarts mid-rollout, and every pod of `kubectl rollout undo` (which reverts the pod
    ///   template only), starts with the new values: the rollback does not roll back the
    ///   configuration.
    ///
    /// ## Example
    /// `ConfigMap/api-config` changes `timeout: 30s` to `timeout_ms: 30000` under the same name;
    /// `Deployment/api` mounts it at `/etc/api`.
    ///
    /// ## Do this instead
    /// Give each version of the configuration its own name and point the pod template at it:
    /// a kustomize `configMapGenerator` (hash-suffixed names) or a versioned name
    /// (`api-config-v2`), keeping the old object until the rollout is done. Or mark the
    /// objects `immutable: true` so an in-place change cannot happen.
    pub CONFIG_CHANGED_IN_PLACE = ("rollout/config-changed-in-place", Warn, "a ConfigMap or Secret is changed in place while the deployed pods read it: old pods see the new values, and a rollback keeps them");
}

/// One finding per object, naming every workload that reads it and how; each workload is
/// counted at risk.
pub(super) fn check(change: &Change<'_>, out: &mut Out) {
    let object = change.object();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut by_workload: Vec<(String, Vec<&ConfigRef>, Vec<&ConfigRef>)> = Vec::new();
    let mut workloads = Vec::new();
    let mut all_checksummed = true;
    let mut checksums: Vec<&str> = Vec::new();
    for reader in change.readers.iter().filter(|r| r.rolls || r.reloader) {
        let mut live = Vec::new();
        let mut at_start = Vec::new();
        for reference in &reader.reads {
            let needed_gone = change.needed_and_removed(reference);
            let keys: Vec<&str> = change
                .seen_by(&reference.read)
                .into_iter()
                .filter(|k| !needed_gone.contains(k))
                .collect();
            if keys.is_empty() {
                continue;
            }
            seen.extend(keys);
            if reference.read.is_live() {
                live.push(*reference);
            } else {
                at_start.push(*reference);
            }
        }
        if live.is_empty() && at_start.is_empty() {
            continue;
        }
        // Two workloads of one name (the same Deployment in two files of a bundle) are one
        // entry of the message.
        let workload = reader.new.meta.display();
        match by_workload
            .iter_mut()
            .find(|(name, _, _)| *name == workload)
        {
            Some((_, all_live, all_at_start)) => {
                all_live.extend(live);
                all_at_start.extend(at_start);
            }
            None => by_workload.push((workload, live, at_start)),
        }
        if reader.checksum_annotations.is_empty() {
            all_checksummed = false;
        } else {
            for annotation in &reader.checksum_annotations {
                if !checksums.contains(annotation) {
                    checksums.push(annotation);
                }
            }
        }
        workloads.push(reader.new);
    }
    if workloads.is_empty() {
        return;
    }
    let mut parts = Vec::new();
    for (workload, live, at_start) in &by_workload {
        let mut effects = Vec::new();
        if !live.is_empty() {
            effects.push(format!(
                "its running old pods see the new data within about a minute, before they are replaced ({})",
                describe_reads(live.iter().copied())
            ));
        }
        if !at_start.is_empty() {
            effects.push(format!(
                "an old pod that restarts mid-rollout, and a `kubectl rollout undo`, starts with the new values ({})",
                describe_reads(at_start.iter().copied())
            ));
        }
        parts.push(format!("{workload}: {}", effects.join("; ")));
    }
    let names: Vec<String> = by_workload
        .iter()
        .map(|(name, _, _)| name.clone())
        .collect();
    let mut finding = CONFIG_CHANGED_IN_PLACE
        .finding(format!(
            "{object} changes in place since {} ({} {}) while the deployed pods read it. {}",
            change.reference,
            if seen.len() == 1 { "key" } else { "keys" },
            keys(seen.iter().copied()),
            parts.join(". ")
        ))
        .at(change.location())
        .with_fix(format!(
            "give the new data its own name (a kustomize configMapGenerator, or `{}-v2`) and point {} at it, keeping the old object until the rollout is done",
            change.new.meta.name,
            names.join(", ")
        ));
    if all_checksummed {
        // The checksum restarts every pod on purpose; what is left is the window the
        // message describes, which a config the app reads only at start does not have.
        finding.severity = Severity::Info;
        finding.message.push_str(&format!(
            " (the pod template's `{}` annotation changes with it, so the pods roll: the intended pattern)",
            checksums.join("`, `")
        ));
    }
    // Waivable by the object's annotation, or by every reader's: one reader's waiver must not
    // hide the others.
    let mut subject = Subject::default()
        .waivable_by_any([&change.new.meta.ignore])
        .waivable_by_all(workloads.iter().map(|w| &w.meta.ignore));
    for name in names {
        subject = subject.at_risk(name, format!("{object} changed in place"));
    }
    out.findings.push(finding.about(subject));
}
