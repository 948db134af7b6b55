//! `rollout/config-not-compared`: ConfigMaps and Secrets that could not be compared with the
//! deployed version.

use super::super::Out;
use crate::declare_rule;
use crate::k8s::Manifests;
use crate::k8s::base::Deployed;
use crate::k8s::load::STDIN_PATH;
use crate::report::{Finding, Location};

declare_rule! {
    order: 96;
    /// ## What it catches
    /// Manifests with ConfigMaps or Secrets (or pod templates that read them) that gonogo
    /// could not compare with the deployed version: no base is known (no `--base`, no `base:`,
    /// no tag), the project is not in a git repository, the manifests come from standard input
    /// (which has no deployed version), or a manifest at the base did not parse.
    ///
    /// ## Why it matters during a deploy
    /// The configuration rules (`rollout/config-changed-in-place`, `config-key-removed`,
    /// `config-immutable-changed`, `config-change-not-rolled`, `config-deleted-while-referenced`)
    /// judge a change, so without the deployed version they did not run. A pass would be a
    /// silent pass; this says so instead.
    ///
    /// ## Example
    /// `gonogo check` in a repository without tags, and `deploy/` holds a ConfigMap.
    ///
    /// ## Do this instead
    /// Pass the deployed version: `gonogo check --base v1.4.2` (or `base:` in gonogo.yaml,
    /// GONOGO_BASE, or a tag on the deployed commit). In CI, fetch the history and tags
    /// (actions/checkout with `fetch-depth: 0`). For rendered charts, commit the rendered output
    /// or list the files instead of `-`.
    pub CONFIG_NOT_COMPARED = ("rollout/config-not-compared", Info, "ConfigMaps and Secrets could not be compared with the deployed version");
}

const PASS_BASE: &str = "pass the deployed version: `gonogo check --base <ref>` (or `base:` in gonogo.yaml, GONOGO_BASE, or a tag on the deployed commit)";

fn finding(message: String, location: Option<Location>, fix: &str) -> Finding {
    let finding = CONFIG_NOT_COMPARED.finding(message).with_fix(fix);
    match location {
        Some(location) => finding.at(location),
        None => finding,
    }
}

/// The base could not be read at all. Said only when the manifests hold ConfigMaps or Secrets:
/// pod templates that read objects applied some other way (a secret manager, a separate
/// repository) have nothing here to change in place.
pub(super) fn unavailable(manifests: &Manifests, why: &str, out: &mut Out) {
    let Some(first) = manifests.config_objects.first() else {
        return;
    };
    let location = Some(first.meta.location());
    out.findings.push(finding(
        format!(
            "ConfigMaps and Secrets were not compared with the deployed version ({}): {why}",
            counted_objects(manifests)
        ),
        location,
        PASS_BASE,
    ));
}

/// The base was read, but some inputs have no deployed version or did not parse there.
pub(super) fn partly(deployed: &Deployed, manifests: &Manifests, out: &mut Out) {
    let from_stdin = manifests
        .config_objects
        .iter()
        .filter(|o| o.meta.file == STDIN_PATH)
        .count();
    if deployed.reads_stdin && from_stdin > 0 {
        out.findings.push(finding(
            format!(
                "{from_stdin} ConfigMaps and Secrets read from standard input were not compared with {}: standard input has no deployed version",
                deployed.reference
            ),
            None,
            "list the rendered manifest files (committed) instead of `-`, so their deployed version can be read from git",
        ));
    }
    for problem in &deployed.unreadable {
        out.findings.push(finding(
            format!(
                "{problem} (at {}): left out of the comparison with the deployed version",
                deployed.reference
            ),
            None,
            "nothing to change here if that file is fixed in this version; its objects were not compared",
        ));
    }
}

fn counted_objects(manifests: &Manifests) -> String {
    match manifests.config_objects.len() {
        1 => "1 object".to_string(),
        n => format!("{n} objects"),
    }
}
