//! The project's own code, read as text: which files are deployed code ([`paths`]) and where
//! they use a table or column, or mark one as going away ([`search`]). Used by `compat` (does
//! the deployed code use what the migrations drop?) and `rollback` (has the deployed code
//! already let go of what a migration destroys?).

pub mod paths;
pub mod search;

use crate::config::ConfigString;
use crate::git::Repo;
use paths::CodePaths;
use search::Marker;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Files larger than this are generated or vendored, not code whose queries matter; reading them
/// would make the run's memory depend on them.
pub const MAX_CODE_FILE_BYTES: usize = 2 * 1024 * 1024;

/// What the deployed code (the files under `code_paths` at `base`) says about one column (or a
/// table: `column` None).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Letting {
    /// Going-away markers about it (Rails `ignored_columns`, the configured marker texts).
    pub markers: Vec<Marker>,
    /// Whether any file names it as more than a bare identifier (a string literal, SQL, an ORM
    /// field): evidence of a use.
    pub used: bool,
}

/// For each (table, column), what the deployed code at `base` says about it. `skip`: files that
/// are not code (the migrations themselves), relative to `root`.
pub fn deployed_code_about(
    repo: &Repo,
    base: &str,
    root: &Path,
    code_paths: &[ConfigString],
    marker_texts: &[String],
    skip: &BTreeSet<String>,
    targets: &[(String, Option<String>)],
) -> Result<BTreeMap<(String, Option<String>), Letting>, String> {
    let code_paths = CodePaths::of(code_paths)?;
    let prefix = repo.prefix_of(root);
    let files: Vec<String> = repo
        .files_at_ref(base)
        .map_err(|e| format!("cannot list the files of {base}: {e}"))?
        .into_iter()
        .filter_map(|p| p.strip_prefix(prefix.as_str()).map(str::to_string))
        .filter(|p| !skip.contains(p) && code_paths.searches(p))
        .map(|p| format!("{prefix}{p}"))
        .collect();
    let mut out: BTreeMap<(String, Option<String>), Letting> = targets
        .iter()
        .map(|t| (t.clone(), Letting::default()))
        .collect();
    if files.is_empty() {
        return Ok(out);
    }
    let mut words: Vec<String> = targets
        .iter()
        .map(|(table, column)| column.clone().unwrap_or_else(|| table.clone()))
        .collect();
    words.sort();
    words.dedup();
    let candidates = repo
        .files_containing(Some(base), &words, &files)
        .map_err(|e| format!("cannot search the code of {base}: {e}"))?;
    let blobs = repo
        .files_at(base, &candidates)
        .map_err(|e| format!("cannot read the code of {base}: {e}"))?;
    for (path, bytes) in &blobs {
        if bytes.len() > MAX_CODE_FILE_BYTES {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let path = path.strip_prefix(prefix.as_str()).unwrap_or(path);
        for ((table, column), letting) in out.iter_mut() {
            let found = search::find(path, &text, table, column.as_deref(), marker_texts);
            letting.markers.extend(found.markers);
            letting.used |= found
                .references
                .iter()
                .any(|r| r.strength > search::Strength::Identifier);
        }
    }
    Ok(out)
}
