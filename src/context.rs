//! What checks share, built once before the run: the project root, the config, base and head,
//! git access, the clock, and the Kubernetes manifests and migration files (each loaded by the
//! first check that asks).

use crate::config::Config;
use crate::date::Date;
use crate::git::Repo;
use crate::k8s::base::Deployed;
use crate::k8s::{LoadError, Loaded};
use crate::sql::files::MigrationSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[derive(Debug)]
pub struct Context {
    /// Absolute path of the project root; report paths are relative to it.
    pub root: PathBuf,
    pub config: Config,
    /// The config file, relative to the root when inside it; `None` without a config.
    pub config_path: Option<String>,
    pub repo: Option<Repo>,
    /// The deployed version (a git ref), when known.
    pub base: Option<String>,
    pub head: Option<String>,
    pub offline: bool,
    /// The ids of the checks this run includes (after `--only` / `--skip`), in report order:
    /// what one check reports on behalf of several (the manifest loader's findings) goes to the
    /// first of them that runs.
    pub checks: Vec<String>,
    pub today: Date,
    /// The whole run ends by then.
    pub deadline: Duration,
    /// The manifests the four Kubernetes checks read: parsed once per run, on first use
    /// (standard input can only be read once, and a big stream should be parsed once).
    pub kubernetes: OnceLock<Result<Arc<Loaded>, LoadError>>,
    /// The same manifests at the base ref, read from git on first use; `Err` says why there is
    /// nothing to compare with.
    pub kubernetes_base: OnceLock<Result<Arc<Deployed>, String>>,
    /// The migration sets the `migrations` check and the database side of `compat` read: found,
    /// read and compared with the base once per run, on first use.
    pub migrations: OnceLock<Result<Arc<Vec<Arc<MigrationSet>>>, String>>,
}

/// The deployed version, in the order DESIGN.md gives: `--base`, `base:` in the config,
/// $GONOGO_BASE, the newest tag reachable from HEAD. The flag says whether it is that tag (which
/// needs no check that it resolves).
pub fn resolve_base(
    flag: Option<&str>,
    config: &Config,
    repo: Option<&Repo>,
) -> (Option<String>, bool) {
    let given = flag
        .map(str::to_string)
        .or_else(|| config.base.as_ref().map(|b| b.value.clone()))
        .or_else(|| {
            std::env::var("GONOGO_BASE")
                .ok()
                .filter(|b| !b.trim().is_empty())
        });
    match given {
        Some(base) => (Some(base), false),
        None => (repo.and_then(Repo::newest_tag), true),
    }
}

impl Context {
    /// The Kubernetes manifests, loaded by the first caller; the others wait for that load.
    pub fn kubernetes(&self) -> Result<Arc<Loaded>, LoadError> {
        self.kubernetes
            .get_or_init(|| crate::k8s::load(&self.root, &self.config).map(Arc::new))
            .clone()
    }

    /// The Kubernetes manifests of the deployed version (the base ref), loaded by the first
    /// caller; `Err` says why they cannot be read (no git repository, no base).
    pub fn kubernetes_base(&self) -> Result<Arc<Deployed>, String> {
        self.kubernetes_base
            .get_or_init(|| {
                let repo = self.repo.as_ref().ok_or_else(|| {
                    format!("{} is not inside a git repository", self.root.display())
                })?;
                let base = self.base.as_deref().ok_or(
                    "no deployed version is known: pass --base <ref>, set `base:` in gonogo.yaml or GONOGO_BASE, or tag the deployed commit",
                )?;
                crate::k8s::base::load_at(repo, base, &self.root, &self.config).map(Arc::new)
            })
            .clone()
    }

    /// Every migration set (one per database; one without a config), loaded by the first
    /// caller; the others wait for that load.
    pub fn migration_sets(&self) -> Result<Arc<Vec<Arc<MigrationSet>>>, String> {
        self.migrations
            .get_or_init(|| {
                crate::sql::files::load_sets(self)
                    .map(|sets| Arc::new(sets.into_iter().map(Arc::new).collect()))
            })
            .clone()
    }

    /// The first migration set: what a reader of one database uses (the database side of
    /// `compat`).
    pub fn migrations(&self) -> Result<Arc<MigrationSet>, String> {
        let sets = self.migration_sets()?;
        sets.first()
            .cloned()
            .ok_or_else(|| "checks.migrations has no migration set".to_string())
    }

    /// A path under the root as shown in reports: relative, with `/` separators.
    pub fn display_path(&self, path: &Path) -> String {
        relative_display(&self.root, path)
    }
}

pub fn relative_display(root: &Path, path: &Path) -> String {
    let shown = path.strip_prefix(root).unwrap_or(path);
    let text = shown.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}
