//! A project's migration files: found (configured paths, or the usual layouts), read, and split
//! into this deploy's files (added or changed since the base) and the ones already applied. Loaded
//! once per run ([`crate::context::Context::migrations`]) for the `migrations` check and the
//! database side of `compat`, so both judge the same files.

use crate::config::Dialect;
use crate::context::Context;
use std::collections::BTreeSet;
use std::path::Path;

/// Larger files are not analysed (a seed-data dump is not a schema change to judge line by line).
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Where migrations usually live, when no paths are configured.
pub const DISCOVERY_GLOBS: &[&str] = &[
    "**/migrations/**/*.sql",
    "**/migrate/**/*.sql",
    "**/db/migrate/**/*.sql",
];

/// One migration file, read.
#[derive(Debug, Clone)]
pub struct MigrationFile {
    /// Relative to the project root, `/`-separated.
    pub path: String,
    pub text: String,
    /// Whether this file is part of this deploy (added or changed since the base).
    pub in_deploy: bool,
}

/// What went wrong finding or reading the files; the `migrations` check reports these.
#[derive(Debug, Clone)]
pub enum FileProblem {
    /// A configured pattern that matches no file.
    Unmatched { pattern: String },
    /// A file of this deploy that cannot be analysed: unreadable, too large, not UTF-8
    /// (`line`: where the first invalid byte is), or empty (`empty`: worth saying, not failing).
    Unreadable {
        path: String,
        line: Option<u32>,
        message: String,
        empty: bool,
    },
}

/// The migration files of a project, read.
#[derive(Debug)]
pub struct MigrationSet {
    pub files: Vec<MigrationFile>,
    /// The configured dialect, else guessed from the files.
    pub dialect: Dialect,
    pub problems: Vec<FileProblem>,
    /// The paths matched, relative to the project root.
    pub paths: BTreeSet<String>,
    /// A base ref selected this deploy's files (otherwise every file counts as this deploy's).
    pub deploy_is_known: bool,
    /// The paths were not configured but discovered ([`DISCOVERY_GLOBS`]).
    pub discovered: bool,
}

/// Find and read the migration files: configured paths, or the usual layouts without a config.
/// An error is a sentence saying why nothing could be decided (a bad pattern, git failing).
pub fn load(ctx: &Context) -> Result<MigrationSet, String> {
    let configured = ctx.config.checks.migrations.as_ref();
    let (patterns, discovered) = match configured {
        Some(section) if !section.paths.is_empty() => (
            section
                .paths
                .iter()
                .map(|p| p.value.clone())
                .collect::<Vec<_>>(),
            false,
        ),
        _ => (
            DISCOVERY_GLOBS.iter().map(|p| p.to_string()).collect(),
            true,
        ),
    };
    let mut problems = Vec::new();
    let mut paths = BTreeSet::new();
    for pattern in &patterns {
        let matched = expand_glob(&ctx.root, pattern)?;
        if matched.is_empty() && !discovered {
            problems.push(FileProblem::Unmatched {
                pattern: pattern.clone(),
            });
        }
        paths.extend(matched);
    }
    let in_deploy = if paths.is_empty() {
        None
    } else {
        deploy_selection(ctx, &paths)?
    };
    let mut files = Vec::with_capacity(paths.len());
    for path in &paths {
        let in_this_deploy = in_deploy.as_ref().is_none_or(|set| set.contains(path));
        match read_migration(&ctx.root, path) {
            Ok(text) => files.push(MigrationFile {
                path: path.clone(),
                text,
                in_deploy: in_this_deploy,
            }),
            Err(problem) => {
                if in_this_deploy {
                    problems.push(problem);
                }
            }
        }
    }
    let dialect = match configured {
        Some(section) => section.dialect,
        None => guess_dialect(&files),
    };
    Ok(MigrationSet {
        files,
        dialect,
        problems,
        paths,
        deploy_is_known: in_deploy.is_some(),
        discovered,
    })
}

/// Paths matching `pattern` under `root`, relative and sorted. Patterns are relative to the root.
fn expand_glob(root: &Path, pattern: &str) -> Result<Vec<String>, String> {
    let pattern = pattern.trim_start_matches("./");
    let full = root.join(pattern);
    let full = full.to_string_lossy();
    let entries =
        glob::glob(&full).map_err(|e| format!("invalid path pattern `{pattern}`: {e}"))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let skipped_dir = entry
            .components()
            .any(|c| c.as_os_str() == "node_modules" || c.as_os_str() == "target");
        if entry.is_file() && !skipped_dir && !is_down_migration(&entry) {
            out.push(crate::context::relative_display(root, &entry));
        }
    }
    out.sort();
    Ok(out)
}

/// Rollback scripts (`down.sql`, `0042.down.sql`, `0042_down.sql`) never run during a deploy;
/// reading them as migrations would report their DROPs and forget the tables they drop.
fn is_down_migration(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let stem = name.strip_suffix(".sql").unwrap_or(&name);
    stem == "down" || stem.ends_with(".down") || stem.ends_with("_down") || stem.ends_with("-down")
}

/// Which files are this deploy's: those added or changed since the base. `None`: all of them
/// (no base, or not a git repository).
fn deploy_selection(
    ctx: &Context,
    paths: &BTreeSet<String>,
) -> Result<Option<BTreeSet<String>>, String> {
    let (Some(repo), Some(base)) = (&ctx.repo, &ctx.base) else {
        return Ok(None);
    };
    let changed = repo
        .changed_since(base)
        .map_err(|e| format!("cannot list files changed since {base}: {e}"))?;
    // git paths are relative to the repository top; ours to the project root.
    let root_in_repo = ctx
        .root
        .canonicalize()
        .ok()
        .and_then(|root| {
            let top = repo.top.canonicalize().ok()?;
            root.strip_prefix(top)
                .ok()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
        })
        .unwrap_or_default();
    let prefix = if root_in_repo.is_empty() {
        String::new()
    } else {
        format!("{root_in_repo}/")
    };
    Ok(Some(
        changed
            .into_iter()
            .filter_map(|p| p.strip_prefix(&prefix).map(str::to_string))
            .filter(|p| paths.contains(p))
            .collect(),
    ))
}

fn read_migration(root: &Path, path: &str) -> Result<String, FileProblem> {
    let full = root.join(path);
    let unreadable = |message: String| FileProblem::Unreadable {
        path: path.to_string(),
        line: None,
        message,
        empty: false,
    };
    let metadata =
        std::fs::metadata(&full).map_err(|e| unreadable(format!("cannot read {path}: {e}")))?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(unreadable(format!(
            "{path} is {} MB; gonogo analyses migration files up to {} MB, so this one was not checked",
            metadata.len() / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(&full).map_err(|e| unreadable(format!("cannot read {path}: {e}")))?;
    match String::from_utf8(bytes) {
        Ok(text) if text.trim().is_empty() => Err(FileProblem::Unreadable {
            path: path.to_string(),
            line: None,
            message: format!("{path} is empty"),
            empty: true,
        }),
        Ok(text) => Ok(text),
        Err(err) => {
            let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() as u32 + 1;
            Err(FileProblem::Unreadable {
                path: path.to_string(),
                line: Some(line),
                message: format!(
                    "{path} is not UTF-8 text (invalid byte at line {line}); it was not checked"
                ),
                empty: false,
            })
        }
    }
}

/// MySQL-only syntax is a strong hint; PostgreSQL is the default.
fn guess_dialect(files: &[MigrationFile]) -> Dialect {
    let mysql_markers = [
        "ENGINE=",
        "ENGINE =",
        "AUTO_INCREMENT",
        "MODIFY COLUMN",
        "UNSIGNED",
        "`",
    ];
    let mysql_votes = files
        .iter()
        .filter(|f| {
            let upper = f.text.to_ascii_uppercase();
            mysql_markers.iter().filter(|m| upper.contains(*m)).count() >= 2
        })
        .count();
    if mysql_votes * 2 > files.len() {
        Dialect::Mysql
    } else {
        Dialect::Postgres
    }
}
