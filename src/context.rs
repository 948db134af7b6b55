//! What checks share, built once before the run: the project root, the config, base and head,
//! git access, the clock, and the Kubernetes manifests, the migration files and each migration
//! set's followed facts (each computed by the first check that asks; the others wait and share).

use crate::config::Config;
use crate::config::MigrationsConfig;
use crate::date::Date;
use crate::git::Repo;
use crate::k8s::base::Deployed;
use crate::k8s::{LoadError, Loaded};
use crate::sql::files::MigrationSet;
use crate::sql::followed::{FollowSettings, SetFacts, follow_files};
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
    /// The migration sets the `migrations` check and the database sides of `compat` and
    /// `rollback` read: found, read and compared with the base once per run, on first use; and
    /// each set's followed facts, computed the first time a check asks for them.
    pub migrations: OnceLock<Result<Arc<LoadedMigrations>, String>>,
}

/// The migration sets of the run and, beside each, its facts once followed.
#[derive(Debug)]
pub struct LoadedMigrations {
    sets: Arc<Vec<Arc<MigrationSet>>>,
    /// One per set, in the same order: filled by the first reader of that set.
    facts: Vec<OnceLock<Arc<SetFacts>>>,
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
        Ok(self.loaded_migrations()?.sets.clone())
    }

    fn loaded_migrations(&self) -> Result<Arc<LoadedMigrations>, String> {
        self.migrations
            .get_or_init(|| {
                let sets: Vec<Arc<MigrationSet>> = crate::sql::files::load_sets(self)?
                    .into_iter()
                    .map(Arc::new)
                    .collect();
                Ok(Arc::new(LoadedMigrations {
                    facts: sets.iter().map(|_| OnceLock::new()).collect(),
                    sets: Arc::new(sets),
                }))
            })
            .clone()
    }

    /// The facts of one of [`Self::migration_sets`], followed by the first caller with the
    /// set's settings (its section's `transaction` and `postgres_version`, and whether a base
    /// chose its files); the others wait and share them. `Err`: the sets could not be loaded,
    /// or `set` is not one of them.
    pub fn migration_facts(&self, set: &MigrationSet) -> Result<Arc<SetFacts>, String> {
        let loaded = self.loaded_migrations()?;
        let index = loaded
            .sets
            .iter()
            .position(|s| std::ptr::eq(Arc::as_ptr(s), set))
            .ok_or("the migration set asked for is not one of this run's sets")?;
        let facts = loaded.facts[index].get_or_init(|| {
            let settings = FollowSettings::of(self.migrations_section(set), set.deploy_is_known);
            let facts = Arc::new(follow_files(&set.files, set.dialect, settings));
            if debug_enabled("facts") {
                eprintln!(
                    "gonogo debug facts: followed migration set {} ({} files)",
                    set.label(),
                    facts.files()
                );
            }
            facts
        });
        Ok(facts.clone())
    }

    /// The configured section a set was loaded from (`None`: discovered without a config).
    pub fn migrations_section(&self, set: &MigrationSet) -> Option<&MigrationsConfig> {
        set.config_index
            .and_then(|i| self.config.checks.migrations.as_ref()?.sets.get(i))
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

/// `GONOGO_DEBUG` names `topic` (a comma-separated list, or `all`): what a run writes to stderr
/// to show how it works (`facts`: each migration set followed, once per run).
pub fn debug_enabled(topic: &str) -> bool {
    std::env::var("GONOGO_DEBUG").is_ok_and(|value| {
        value
            .split(',')
            .map(str::trim)
            .any(|t| t == topic || t == "all")
    })
}
