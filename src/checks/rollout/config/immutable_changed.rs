//! `rollout/config-immutable-changed`: an immutable ConfigMap or Secret changed under the same
//! name.

use super::super::Out;
use super::{Change, keys};
use crate::declare_rule;

declare_rule! {
    order: 91;
    /// ## What it catches
    /// A ConfigMap or Secret marked `immutable: true` in the deployed version whose data this
    /// deploy changes under the same name, or whose `immutable` it turns off.
    ///
    /// ## Why it matters during a deploy
    /// The API server rejects the update (Kubernetes docs, "Immutable ConfigMaps": once marked
    /// immutable, the data cannot be changed and the mark cannot be reverted; "you can only
    /// delete and recreate the ConfigMap"). `kubectl apply` and `helm upgrade` stop at that
    /// object, part way through the deploy.
    ///
    /// ## Example
    /// `ConfigMap/api-config-v3` with `immutable: true` gets a new `timeout` value in place.
    ///
    /// ## Do this instead
    /// Put the new data under a new name (`api-config-v4`, or a kustomize `configMapGenerator`,
    /// whose hash suffix changes with the data) and point the pod templates at it.
    pub CONFIG_IMMUTABLE_CHANGED = ("rollout/config-immutable-changed", Fail, "an immutable ConfigMap or Secret is changed in place: the API server rejects the update");
}

pub(super) fn check(change: &Change<'_>, out: &mut Out) {
    if !change.deployed.is_immutable() {
        return;
    }
    let object = change.object();
    let touched = change.touched();
    let what = if touched.is_empty() {
        "turns `immutable` off".to_string()
    } else {
        format!(
            "changes its data ({} {})",
            if touched.len() == 1 { "key" } else { "keys" },
            keys(touched.iter().copied())
        )
    };
    let location = match &change.new.immutable {
        Some(field) => change.new.meta.at(field.pos),
        None => change.new.meta.location(),
    };
    out.push(
        CONFIG_IMMUTABLE_CHANGED
            .finding(format!(
                "{object} is immutable in {} and this deploy {what} under the same name: the API server rejects the update (\"field is immutable when `immutable` is set\"), so the apply stops there",
                change.reference
            ))
            .at(location)
            .with_fix(format!(
                "put the new data under a new name (a version or content-hash suffix, as a kustomize configMapGenerator gives) and point the pod templates that read {object} at it"
            )),
        &[&change.new.meta],
        &object,
        "immutable, changed",
    );
}
