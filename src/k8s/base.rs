//! The deployed version's manifests: the same inputs as [`super::load`] (the files and folders
//! of `checks.kubernetes.manifests`, or the discovery folders), read from git at the base ref
//! instead of the working tree, so a rule can compare what runs with what this deploy applies.
//! Standard input (`-`) has no deployed version to read.

use super::load::{DISCOVERY_DIRS, LoadError, parse_stream};
use super::model::Manifests;
use crate::config::Config;
use crate::git::Repo;
use std::path::Path;

/// The manifests at the base ref.
#[derive(Debug, Clone)]
pub struct Deployed {
    /// The git ref, as given.
    pub reference: String,
    pub manifests: Manifests,
    /// Inputs at the base that could not be parsed (left out of the comparison).
    pub unreadable: Vec<LoadError>,
    /// Whether standard input is one of the inputs: it has no deployed version.
    pub reads_stdin: bool,
    /// Folders (relative to the root, `""` for the root) whose kustomization at the base
    /// rewrites the pod templates under them: see [`rewrites_pod_templates`].
    pub kustomized_dirs: Vec<String>,
}

impl Deployed {
    /// Whether a kustomization rewrites the pod templates of `file` (relative to the root)
    /// when it is built: the file as written is then not what runs, so whether its template
    /// changed between versions cannot be told from it.
    pub fn kustomized(&self, file: &str) -> bool {
        self.kustomized_dirs
            .iter()
            .any(|dir| dir.is_empty() || file.starts_with(&format!("{dir}/")))
    }
}

/// Fields of a kustomization that change the pod templates it builds (kustomize docs,
/// "kustomization.yaml" reference): `images` sets the image tag (Argo CD's `manifests/base`
/// pins `quay.io/argoproj/argocd:latest` in the Deployments and the release tag here), patches
/// and common labels/annotations rewrite the template, generators rename the ConfigMaps and
/// Secrets it references.
const TEMPLATE_REWRITES: &[&str] = &[
    "images:",
    "patches:",
    "patchesStrategicMerge:",
    "patchesJson6902:",
    "commonLabels:",
    "commonAnnotations:",
    "labels:",
    "replacements:",
    "configMapGenerator:",
    "secretGenerator:",
];

/// Whether a kustomization's text sets one of [`TEMPLATE_REWRITES`] (a top-level key: at the
/// start of a line).
fn rewrites_pod_templates(text: &str) -> bool {
    text.lines()
        .any(|line| TEMPLATE_REWRITES.iter().any(|key| line.starts_with(key)))
}

fn is_kustomization(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
}

/// Read the manifests the config names as they were at `reference`. `root` is the project
/// root (config patterns are relative to it).
pub fn load_at(
    repo: &Repo,
    reference: &str,
    root: &Path,
    config: &Config,
) -> Result<Deployed, String> {
    let prefix = repo.prefix_of(root);
    let files: Vec<String> = repo
        .files_at_ref(reference)
        .map_err(|e| format!("cannot list the files of {reference}: {e}"))?
        .into_iter()
        .filter_map(|p| p.strip_prefix(prefix.as_str()).map(str::to_string))
        .collect();
    let (patterns, discovered) = match &config.checks.kubernetes {
        Some(section) => (
            section
                .manifests
                .iter()
                .map(|p| p.value.trim().trim_start_matches("./").to_string())
                .collect::<Vec<_>>(),
            false,
        ),
        None => (DISCOVERY_DIRS.iter().map(|d| d.to_string()).collect(), true),
    };
    let reads_stdin = patterns.iter().any(|p| p == "-");
    let kustomizations: Vec<String> = files
        .iter()
        .filter(|p| is_kustomization(p))
        .map(|p| format!("{prefix}{p}"))
        .collect();
    let selected: Vec<String> = files
        .into_iter()
        .filter(|path| patterns.iter().any(|pattern| selects(pattern, path)))
        .collect();
    let in_repo: Vec<String> = selected.iter().map(|p| format!("{prefix}{p}")).collect();
    let blobs = repo
        .files_at(reference, &in_repo)
        .map_err(|e| format!("cannot read the manifests of {reference}: {e}"))?;
    let mut deployed = Deployed {
        reference: reference.to_string(),
        manifests: Manifests::default(),
        unreadable: Vec::new(),
        reads_stdin,
        kustomized_dirs: Vec::new(),
    };
    if !kustomizations.is_empty() {
        let texts = repo
            .files_at(reference, &kustomizations)
            .map_err(|e| format!("cannot read the kustomizations of {reference}: {e}"))?;
        for (path, bytes) in texts {
            let shown = path.strip_prefix(prefix.as_str()).unwrap_or(&path);
            if rewrites_pod_templates(&String::from_utf8_lossy(&bytes)) {
                let dir = shown.rsplit_once('/').map_or("", |(dir, _)| dir);
                deployed.kustomized_dirs.push(dir.to_string());
            }
        }
    }
    for (path, bytes) in blobs {
        let shown = path.strip_prefix(prefix.as_str()).unwrap_or(&path);
        let Ok(text) = String::from_utf8(bytes) else {
            deployed.unreadable.push(LoadError {
                path: shown.to_string(),
                pos: None,
                message: "not UTF-8 text".to_string(),
            });
            continue;
        };
        if discovered {
            // The working tree's discovery rules: manifests only, Helm templates left out.
            let looks_like_manifest = text.lines().any(|l| l.starts_with("apiVersion:"))
                && text.lines().any(|l| l.starts_with("kind:"));
            if !looks_like_manifest || text.contains("{{") {
                continue;
            }
        }
        let mut single = Manifests::default();
        match parse_stream(&mut single, shown, &text) {
            Ok(()) => deployed.manifests.extend(single),
            Err(err) => {
                // What parsed is still compared; the rest is named.
                deployed.manifests.extend(single);
                deployed.unreadable.push(err);
            }
        }
    }
    Ok(deployed)
}

/// Whether a configured input (a file, a folder, or a glob, relative to the root) selects
/// `path` (relative to the root), the way the loader expands it in the working tree.
fn selects(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_end_matches('/');
    if pattern == "-" || pattern.is_empty() {
        return false;
    }
    if path == pattern {
        return true;
    }
    let yaml_below = |dir: &str| {
        path.strip_prefix(dir)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| {
                is_yaml(rest)
                    && !rest.split('/').any(|part| {
                        part.starts_with('.') || part == "node_modules" || part == "target"
                    })
            })
    };
    if yaml_below(pattern) {
        return true;
    }
    let Ok(glob) = glob::Pattern::new(pattern) else {
        return false;
    };
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    if glob.matches_with(path, options) {
        return true;
    }
    // A glob that names folders (`deploy/*`) reads the YAML files under them.
    let mut dir = path;
    while let Some((parent, _)) = dir.rsplit_once('/') {
        if glob.matches_with(parent, options) && yaml_below(parent) {
            return true;
        }
        dir = parent;
    }
    false
}

fn is_yaml(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml")
}

#[cfg(test)]
mod tests {
    use super::{rewrites_pod_templates, selects};

    #[test]
    fn only_a_kustomization_that_rewrites_templates_counts() {
        assert!(rewrites_pod_templates(
            "kind: Kustomization\nresources: [app.yaml]\nimages:\n- name: app\n  newTag: v2\n"
        ));
        assert!(rewrites_pod_templates("patches:\n- path: replicas.yaml\n"));
        // A list of resources only (kube-prometheus's root kustomization.yaml) builds the
        // files as written; a nested `labels:` is not the top-level transformer.
        assert!(!rewrites_pod_templates(
            "kind: Kustomization\nresources:\n- ./manifests/app.yaml\nmetadata:\n  labels:\n    a: b\n"
        ));
    }

    #[test]
    fn patterns_select_files_folders_and_globs_as_the_loader_does() {
        assert!(selects("deploy/app.yaml", "deploy/app.yaml"));
        assert!(selects("deploy", "deploy/nested/app.yml"));
        assert!(selects("deploy/", "deploy/app.yaml"));
        assert!(!selects("deploy", "deploy/notes.txt"));
        assert!(!selects("deploy", "deploy/.hidden/app.yaml"));
        assert!(!selects("deploy", "deployment/app.yaml"));
        assert!(selects("k8s/*.yaml", "k8s/app.yaml"));
        assert!(!selects("k8s/*.yaml", "k8s/sub/app.yaml"));
        assert!(selects("k8s/**/*.yaml", "k8s/sub/app.yaml"));
        assert!(selects("overlays/*", "overlays/prod/app.yaml"));
        assert!(!selects("-", "-"));
    }
}
