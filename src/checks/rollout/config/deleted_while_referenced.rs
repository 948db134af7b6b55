//! `rollout/config-deleted-while-referenced`: the deploy drops a ConfigMap or Secret that the
//! running pods still read.

use super::super::Out;
use super::describe_reads;
use crate::declare_rule;
use crate::k8s::base::Deployed;
use crate::k8s::{ConfigRef, Manifests, Workload, has_generated_suffix, is_helm_managed};
use crate::report::Severity;

declare_rule! {
    order: 95;
    /// ## What it catches
    /// A ConfigMap or Secret of the deployed version that this version no longer has, while
    /// the deployed version of a workload that is still deployed reads it (not `optional`).
    /// The usual case is the safe pattern done halfway: the configuration got a new name
    /// (`api-config-v2`) and the pod template points at it, but the old object is dropped in
    /// the same deploy.
    ///
    /// Reported as `info` for kustomize generator output (a hash-suffixed name not managed by
    /// Helm): `kubectl apply -k` leaves the old object in place.
    ///
    /// ## Why it matters during a deploy
    /// Deploy tools that prune delete the object as soon as the new version is applied:
    /// `helm upgrade` deletes what the chart no longer renders, as do `kubectl apply --prune`
    /// and Argo CD or Flux with pruning. The old pods keep running for the length of the
    /// rollout; one that restarts in that window (a crash, an eviction) and every pod of a
    /// rollback is created from the old template, which names the deleted object: the kubelet
    /// cannot start it (`configmap "…" not found`).
    ///
    /// ## Example
    /// v1: `Deployment/api` mounts `ConfigMap/api-config-v1`. This deploy: the Deployment mounts
    /// `api-config-v2` and `api-config-v1` is gone from the chart.
    ///
    /// ## Do this instead
    /// Keep the old object for one more release and delete it in the next deploy; with Argo CD,
    /// `argocd.argoproj.io/sync-options: PruneLast=true`; with Helm, keep it in the chart (or
    /// annotate it `helm.sh/resource-policy: keep`) until no running version reads it.
    pub CONFIG_DELETED_WHILE_REFERENCED = ("rollout/config-deleted-while-referenced", Warn, "the deploy drops a ConfigMap or Secret the running pods read: if it is pruned, old pods that restart, and a rollback, cannot start");
}

pub(super) fn check(deployed: &Deployed, manifests: &Manifests, out: &mut Out) {
    for old in &deployed.manifests.config_objects {
        if manifests
            .config_counterpart(old, &deployed.manifests)
            .is_some()
        {
            continue;
        }
        let object = old.meta.display();
        // The workloads still deployed, each with the old version's reads of the object.
        let mut readers: Vec<(&Workload, Vec<&ConfigRef>)> = Vec::new();
        for (old_workload, reference) in deployed.manifests.readers_of(old) {
            if reference.optional {
                continue;
            }
            let Some(new_workload) = manifests.counterpart(old_workload, &deployed.manifests)
            else {
                continue;
            };
            match readers
                .iter_mut()
                .find(|(w, _)| std::ptr::eq(*w, new_workload))
            {
                Some((_, reads)) => reads.push(reference),
                None => readers.push((new_workload, vec![reference])),
            }
        }
        let generated = has_generated_suffix(&old.meta.name) && !is_helm_managed(&old.meta);
        for (workload, reads) in readers {
            let name = workload.meta.display();
            let still_read = manifests
                .pod_config_of(workload)
                .refs
                .iter()
                .any(|r| r.kind == old.kind && r.name == old.meta.name);
            let mut message = format!(
                "{object} ({} in {}) is not in this version, and the deployed {name} reads it ({})",
                old.meta.file,
                deployed.reference,
                describe_reads(reads.iter().copied())
            );
            if still_read {
                message.push_str(
                    "; the new pod template still reads it too, so unless it is applied some other way the new pods cannot start either",
                );
            } else if generated {
                message.push_str(
                    ": a kustomize generator's old output, which `kubectl apply -k` leaves in place; if your deploy prunes, prune after the rollout",
                );
            } else {
                message.push_str(
                    ": if the deploy deletes it (helm upgrade, kubectl apply --prune, Argo CD or Flux pruning), old pods that restart during the rollout, and a rollback, cannot start",
                );
            }
            let mut finding = CONFIG_DELETED_WHILE_REFERENCED
                .finding(message)
                .at(workload.meta.location())
                .with_fix(format!(
                    "keep {object} until no running version reads it and delete it in a later deploy (Argo CD: `argocd.argoproj.io/sync-options: PruneLast=true`; Helm: keep it in the chart, or `helm.sh/resource-policy: keep`)"
                ));
            if generated && !still_read {
                finding.severity = Severity::Info;
            }
            out.push(
                finding,
                &[&workload.meta],
                &name,
                format!("{object} dropped while it reads it"),
            );
        }
    }
}
