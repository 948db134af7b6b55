//! `rollback/mutable-image-tag`: a rollback re-pulls whatever the tag points to now.

use crate::checks::kubernetes::Analysis;
use crate::declare_rule;
use crate::k8s::Workload;

declare_rule! {
    /// ## What it catches
    /// A container or init container whose image has no tag (`nginx`, `registry/app`) or the
    /// tag `latest`. An image pinned by digest (`app@sha256:…`) is fine, with or without a tag.
    ///
    /// ## Why it matters during a deploy
    /// A rollback restores the previous pod template, and the previous pod template names the
    /// same mutable tag: pods started by the rollback pull whatever the tag points to now,
    /// which is the bad version (or whatever was pushed since). With `imagePullPolicy:
    /// IfNotPresent`, nodes that cached an older image run that one instead, so the fleet runs
    /// a mix of versions that no one chose.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: registry.example.com/shop/api:latest
    /// ```
    ///
    /// ## Do this instead
    /// Deploy an immutable reference, one per build: `registry.example.com/shop/api:1.8.0`
    /// (a tag your registry refuses to overwrite), a commit SHA tag, or
    /// `registry.example.com/shop/api@sha256:…`.
    pub MUTABLE_IMAGE_TAG = ("rollback/mutable-image-tag", Fail, "an image by mutable tag (latest, or no tag): a rollback re-pulls whatever the tag points to now");
}

/// Why `image` cannot be trusted to name the same build on a rollback, if it cannot.
fn mutable_tag(image: &str) -> Option<&'static str> {
    let image = image.trim();
    if image.is_empty() || image.contains('@') {
        // empty: Kubernetes rejects it; `@sha256:…`: pinned by digest
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("has no tag, so it means `latest`"),
        Some((_, "latest")) => Some("uses the tag `latest`"),
        Some(_) => None,
    }
}

/// Every container and init container of a workload's own pod template.
pub(super) fn check(workload: &Workload, out: &mut Analysis) {
    let Some(pod) = &workload.pod else {
        return; // a Rollout with workloadRef: its Deployment's template is checked instead
    };
    let object = workload.meta.display();
    for container in pod.init_containers.iter().chain(&pod.containers) {
        let Some(image) = &container.image else {
            continue;
        };
        let Some(why) = mutable_tag(&image.value) else {
            continue;
        };
        out.push(
            MUTABLE_IMAGE_TAG
                .finding(format!(
                    "{object}, container {}: image `{}` {why}: a rollback re-pulls whatever the tag points to now, not the version that ran before",
                    container.name, image.value
                ))
                .at(workload.meta.at(image.pos))
                .with_fix(format!(
                    "deploy {object} by an immutable tag (the release version or commit SHA) or by digest (`@sha256:…`)"
                )),
            &workload.meta,
            "mutable image tag",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::mutable_tag;

    #[test]
    fn tags_digests_and_registry_ports() {
        assert!(mutable_tag("nginx").is_some());
        assert!(mutable_tag("nginx:latest").is_some());
        assert!(
            mutable_tag("registry:5000/shop/api").is_some(),
            "a port is not a tag"
        );
        assert!(mutable_tag("registry:5000/shop/api:1.2").is_none());
        assert!(mutable_tag("nginx@sha256:abc").is_none());
        assert!(mutable_tag("nginx:latest@sha256:abc").is_none());
        assert!(mutable_tag("nginx:1.27").is_none());
    }
}
