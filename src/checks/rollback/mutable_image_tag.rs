//! `rollback/mutable-image-tag`: a rollback re-pulls whatever the tag points to now.

use crate::checks::kubernetes::Analysis;
use crate::declare_rule;
use crate::k8s::Workload;
use crate::report::Severity;

declare_rule! {
    order: 30;
    /// ## What it catches
    /// A container or init container whose image has no tag (`nginx`, `registry/app`) or the
    /// tag `latest` (`fail`), or a floating tag that upstreams move as they release:
    /// `redis:alpine`, `node:lts`, `postgres:16`, `nginx:1.27` (`warn`). A tag with a full
    /// version (`1.25.3`, `v2.1.0-alpine`), a commit SHA (`sha-3f2a9c1`) or a build number or
    /// date (`20240101`) names one build by convention and is not flagged; an image pinned by
    /// digest (`app@sha256:…`) is fine, with or without a tag.
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
    pub MUTABLE_IMAGE_TAG = ("rollback/mutable-image-tag", Fail, "an image by mutable tag (latest, no tag, or a floating tag): a rollback re-pulls whatever the tag points to now");
}

/// Why `image` cannot be trusted to name the same build on a rollback, and how sure that is:
/// `fail` for no tag or `latest`, `warn` for a floating tag.
fn mutable_tag(image: &str) -> Option<(Severity, String)> {
    let image = image.trim();
    if image.is_empty() || image.contains('@') {
        // empty: Kubernetes rejects it; `@sha256:…`: pinned by digest
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some((
            Severity::Fail,
            "has no tag, so it means `latest`".to_string(),
        )),
        Some((_, "latest")) => Some((Severity::Fail, "uses the tag `latest`".to_string())),
        Some((_, tag)) if names_one_build(tag) => None,
        Some((_, tag)) => Some((
            Severity::Warn,
            format!(
                "uses the floating tag `{tag}` (no full version, commit or build number), which its publisher moves to each new release"
            ),
        )),
    }
}

/// A tag that by convention names one build: a full version (`1.25.3`, `v2.1.0-alpine`), a
/// commit SHA (a run of 7 or more hex digits with a digit in it), or a build number or date
/// (6 or more digits in a row).
fn names_one_build(tag: &str) -> bool {
    let full_version = tag
        .trim_start_matches(['v', 'V'])
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .next()
        .is_some_and(|v| {
            let parts: Vec<&str> = v.split('.').collect();
            parts.len() >= 3 && parts.iter().take(3).all(|p| !p.is_empty())
        });
    let runs = |keep: fn(char) -> bool| -> Vec<String> {
        tag.split(|c: char| !keep(c))
            .filter(|run| !run.is_empty())
            .map(str::to_string)
            .collect()
    };
    let commit = runs(|c| c.is_ascii_hexdigit())
        .iter()
        .any(|run| run.len() >= 7 && run.chars().any(|c| c.is_ascii_digit()));
    let build = runs(|c| c.is_ascii_digit())
        .iter()
        .any(|run| run.len() >= 6);
    full_version || commit || build
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
        let Some((severity, why)) = mutable_tag(&image.value) else {
            continue;
        };
        let mut finding = MUTABLE_IMAGE_TAG
                .finding(format!(
                    "{object}, container {}: image `{}` {why}: a rollback re-pulls whatever the tag points to now, not the version that ran before",
                    container.name, image.value
                ))
                .at(workload.meta.at(image.pos))
                .with_fix(format!(
                    "deploy {object} by an immutable tag (the release version or commit SHA) or by digest (`@sha256:…`)"
                ));
        finding.severity = severity;
        out.push(
            finding,
            &workload.meta,
            if severity == Severity::Fail {
                "mutable image tag"
            } else {
                "floating image tag"
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::mutable_tag;
    use crate::report::Severity;

    #[test]
    fn tags_digests_and_registry_ports() {
        assert!(mutable_tag("nginx").is_some());
        assert!(mutable_tag("nginx:latest").is_some());
        assert!(
            mutable_tag("registry:5000/shop/api").is_some(),
            "a port is not a tag"
        );
        assert_eq!(
            mutable_tag("registry:5000/shop/api:1.2").map(|(s, _)| s),
            Some(Severity::Warn),
            "1.2 is a floating minor version"
        );
        assert!(mutable_tag("nginx@sha256:abc").is_none());
        assert!(mutable_tag("nginx:latest@sha256:abc").is_none());
    }

    #[test]
    fn floating_tags_warn_and_build_tags_are_quiet() {
        for floating in [
            "redis:alpine",
            "node:lts",
            "postgres:16",
            "nginx:1.27",
            "python:3.12-slim",
            "ghcr.io/org/app:main",
        ] {
            let (severity, why) = mutable_tag(floating).expect(floating);
            assert_eq!(severity, Severity::Warn, "{floating}");
            assert!(why.contains("floating tag"), "{why}");
        }
        for pinned in [
            "nginx:1.25.3",
            "app:v2.1.0-alpine",
            "registry:5000/shop/api:1.2.0",
            "app:sha-3f2a9c1",
            "app:20240101",
            "app:build-123456",
        ] {
            assert!(mutable_tag(pinned).is_none(), "{pinned}");
        }
    }
}
