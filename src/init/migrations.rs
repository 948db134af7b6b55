//! `gonogo init`'s migration sets: which SQL folders are migrations a deploy runs once, in which
//! dialect, written as few patterns as a reader can check; and which SQL is something else
//! (dumps, test data, SQL the runner applies again), named in a comment with why.

use super::{Found, head_of, yaml_list};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One proposed migration set: a database's folders and its dialect.
#[derive(Debug, PartialEq, Eq)]
pub struct ProposedSet {
    pub dialect: crate::config::Dialect,
    pub globs: BTreeSet<String>,
    /// Template text found in the set's files (`{{ index .Options "Namespace" }}`, `${schema}`),
    /// each with a value that reads as SQL.
    pub placeholders: BTreeMap<String, String>,
}

/// Folders (any component) that hold tests, their data, stubs and examples, not the migrations
/// a deploy runs.
const SQL_TEST_DIRS: &[&str] = &[
    "test",
    "tests",
    "test_data",
    "fixtures",
    "spec",
    "__tests__",
    "e2e",
    "seeds",
    "stub",
    "stubs",
    "mock",
    "mocks",
    "example",
    "examples",
];

/// Why an SQL file is not a migration, if it is not one.
fn not_a_migration(path: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    if name == "schema.sql" || name == "structure.sql" || name.contains("dump") {
        return Some(
            "a full schema dump recreates the whole schema; it is not a migration a deploy runs",
        );
    }
    if lower
        .split('/')
        .any(|c| SQL_TEST_DIRS.contains(&c) || c.contains("testdata"))
        || name.contains("seed")
    {
        return Some("tests, test data, stubs or seeds, not a migration a deploy runs");
    }
    None
}

/// Why a folder named for repeatable SQL is left out.
const REPEATABLE_FOLDER: &str = "SQL applied again on every run (a repeatable/replaceable folder), meant to be edited: not an applied-once migration";

/// Why a folder of unversioned, re-runnable scripts is left out.
const RERUNNABLE_SCRIPTS: &str = "scripts without a version made only of statements that can run again (CREATE OR REPLACE, DROP … IF EXISTS, IF NOT EXISTS): applied again as a whole, not an applied-once migration";

/// Why a folder of SQL without versions is left out when other folders have them.
const UNVERSIONED_BESIDE_VERSIONED: &str = "no version in its name, beside versioned migrations: a setup or helper script, not a migration the runner applies (list it if it is one)";

/// The folder a path is in (`""` at the root).
fn folder_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The SQL folders as migration sets: one per dialect (a folder of MySQL migrations and one of
/// PostgreSQL ones are two databases, each with its own schema); dumps, test data and SQL the
/// runner applies again left out.
pub(super) fn discover_migrations<'a>(root: &Path, sql_files: &[&'a str], found: &mut Found) {
    use crate::config::Dialect;
    use crate::sql::files::rerun;
    let mut folders: BTreeMap<&str, Vec<&'a str>> = BTreeMap::new();
    for path in sql_files.iter().copied() {
        if let Some(reason) = not_a_migration(path) {
            found.migration_skipped.push((path.to_string(), reason));
        } else if rerun::repeatable_folder(folder_of(path)).is_some() {
            found
                .migration_skipped
                .push((path.to_string(), REPEATABLE_FOLDER));
        } else {
            folders.entry(folder_of(path)).or_default().push(path);
        }
    }
    let ups_of = |paths: &[&'a str]| -> Vec<&'a str> {
        paths
            .iter()
            .copied()
            .filter(|p| !crate::sql::files::is_down_migration(Path::new(p)))
            .collect()
    };
    let any_versioned = folders
        .values()
        .any(|paths| ups_of(paths).iter().any(|p| rerun::has_version(p)));
    let mut by_dialect: BTreeMap<bool, BTreeSet<&str>> = BTreeMap::new();
    for (folder, paths) in &folders {
        let ups = ups_of(paths);
        let rerunnable = !ups.is_empty()
            && ups.iter().all(|p| {
                let text = std::fs::read_to_string(root.join(p)).unwrap_or_default();
                rerun::rerunnable_script(p, &text)
            });
        if rerunnable {
            for path in paths {
                found
                    .migration_skipped
                    .push((path.to_string(), RERUNNABLE_SCRIPTS));
            }
            continue;
        }
        // Runners key migrations by a version in the name; beside versioned folders, SQL with
        // none is a setup or helper script (supabase/auth's `hack/init_postgres.sql` creates
        // the roles), not a migration of the set.
        if any_versioned && !ups.is_empty() && !ups.iter().any(|p| rerun::has_version(p)) {
            for path in paths {
                found
                    .migration_skipped
                    .push((path.to_string(), UNVERSIONED_BESIDE_VERSIONED));
            }
            continue;
        }
        let mysql_votes = paths
            .iter()
            .filter(|path| {
                path.to_ascii_lowercase()
                    .split('/')
                    .any(|c| c.contains("mysql") || c.contains("mariadb"))
                    || crate::sql::files::looks_like_mysql(&head_of(root, path))
            })
            .count();
        let mysql = mysql_votes * 2 > paths.len();
        by_dialect.entry(mysql).or_default().insert(folder);
    }
    for (mysql, chosen) in by_dialect {
        let globs = folder_globs(root, &chosen, &folders, sql_files);
        found.migration_globs.extend(globs.iter().cloned());
        let mut placeholders = BTreeMap::new();
        for path in chosen.iter().flat_map(|folder| &folders[folder]) {
            let text = std::fs::read_to_string(root.join(path)).unwrap_or_default();
            for placeholder in template_placeholders(&text) {
                let value = placeholder_value(&placeholder);
                placeholders.entry(placeholder).or_insert(value);
            }
        }
        found.migration_sets.push(ProposedSet {
            dialect: if mysql {
                Dialect::Mysql
            } else {
                Dialect::Postgres
            },
            globs,
            placeholders,
        });
    }
    found
        .migration_sets
        .sort_by_key(|s| s.dialect != Dialect::Postgres);
}

/// At most this many distinct placeholders are proposed; past it the files are templates of
/// another kind, better described by hand.
const MAX_PLACEHOLDERS: usize = 8;

/// The template placeholders in a migration, as written: Go templates (pop, supabase/auth's
/// `{{ index .Options "Namespace" }}`) and Flyway/Liquibase `${name}`. The runner fills them in
/// before PostgreSQL reads the file; unfilled, every statement with one is unreadable to gonogo
/// (18 `unparsed-statement` failures on one supabase/auth release).
fn template_placeholders(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        for (open, close) in [("{{", "}}"), ("${", "}")] {
            let mut rest = line;
            while let Some(start) = rest.find(open) {
                let Some(length) = rest[start..].find(close) else {
                    break;
                };
                let end = start + length + close.len();
                if end - start <= 80 {
                    found.insert(rest[start..end].to_string());
                }
                rest = &rest[end..];
            }
        }
    }
    found
}

/// A value for a placeholder that reads as SQL: its last word as an identifier
/// (`{{ index .Options "Namespace" }}` → `namespace`, `${schema}` → `schema`). Tables are
/// matched by name without schema, so any identifier lets gonogo read the statements; the
/// comment asks for the real value.
fn placeholder_value(placeholder: &str) -> String {
    let word = placeholder
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .rfind(|w| w.starts_with(|c: char| c.is_ascii_alphabetic()))
        .unwrap_or("app");
    word.to_ascii_lowercase()
}

/// The `placeholders:` lines of a set, indented under it.
fn placeholders_block(placeholders: &BTreeMap<String, String>, indent: &str) -> String {
    if placeholders.is_empty() || placeholders.len() > MAX_PLACEHOLDERS {
        return String::new();
    }
    let mut out = format!(
        "{indent}placeholders:                 # template text your runner fills in: put its real value\n"
    );
    for (placeholder, value) in placeholders {
        out.push_str(&format!("{indent}  {placeholder:?}: {value}\n"));
    }
    out
}

/// The patterns for a set's folders, as few as say exactly the same files: sibling folders of one
/// migration each, named alike (diesel's `migrations/<version>_<name>/up.sql`, with `down.sql`
/// beside it) become one `migrations/*/up.sql`, when that pattern reaches no SQL file outside
/// the set.
/// Lemmy's 340 diesel folders were 340 patterns nobody could read or check.
fn folder_globs(
    root: &Path,
    chosen: &BTreeSet<&str>,
    folders: &BTreeMap<&str, Vec<&str>>,
    sql_files: &[&str],
) -> BTreeSet<String> {
    let mut by_parent: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for folder in chosen {
        if let Some((parent, _)) = folder.rsplit_once('/') {
            by_parent.entry(parent).or_default().push(folder);
        }
    }
    let mut globs = BTreeSet::new();
    let mut collapsed: BTreeSet<&str> = BTreeSet::new();
    for (parent, siblings) in by_parent.into_iter().filter(|(_, s)| s.len() >= 2) {
        // The migration file names of each folder, downs aside (found beside the up).
        let names: BTreeSet<BTreeSet<&str>> = siblings
            .iter()
            .map(|folder| {
                folders[folder]
                    .iter()
                    .filter(|p| !crate::sql::files::is_down_migration(Path::new(p)))
                    .map(|p| p.rsplit('/').next().unwrap_or(p))
                    .collect()
            })
            .collect();
        // Only folders of one migration each, named alike: two folders of many files each
        // (kratos's `legacy/` and `sql/`) read better listed than as `*/*.sql`.
        let file = match names.iter().next() {
            Some(only) if names.len() == 1 && only.len() == 1 => {
                only.iter().next().copied().unwrap_or_default()
            }
            _ => continue,
        };
        let glob = format!("{parent}/*/{file}");
        let Ok(pattern) = glob::Pattern::new(&glob) else {
            continue;
        };
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..glob::MatchOptions::new()
        };
        // Folders the listing left out (`migrations/test/`) are not in `sql_files`: ask the
        // file system too, as the check's glob will.
        let left_out_sibling = std::fs::read_dir(root.join(parent))
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| {
                let folder = format!("{parent}/{}", entry.file_name().to_string_lossy());
                !siblings.contains(&folder.as_str()) && root.join(&folder).join(file).is_file()
            });
        let reaches_outside = left_out_sibling
            || sql_files.iter().any(|path| {
                pattern.matches_with(path, options) && !siblings.contains(&folder_of(path))
            });
        if !reaches_outside {
            globs.insert(glob);
            collapsed.extend(siblings);
        }
    }
    for folder in chosen.iter().filter(|f| !collapsed.contains(*f)) {
        globs.insert(if folder.is_empty() {
            "*.sql".to_string()
        } else {
            format!("{folder}/*.sql")
        });
    }
    globs
}

/// The `migrations:` block: one set as a mapping, several as a list of named sets, and a
/// comment naming the SQL files left out and why.
pub(super) fn render_migrations(found: &Found, out: &mut String) {
    use crate::config::Dialect;
    let settings = |dialect: Dialect, indent: &str| match dialect {
        Dialect::Postgres => format!(
            "{indent}dialect: postgres             # postgres | mysql\n{indent}postgres_version: 15\n{indent}transaction: per-file         # per-file | per-statement | none: how your runner wraps files\n{indent}max_lock_seconds: 2\n"
        ),
        Dialect::Mysql => format!("{indent}dialect: mysql                # postgres | mysql\n"),
    };
    match found.migration_sets.as_slice() {
        [] => out.push_str("  # migrations:                 # no .sql migrations found\n  #   paths: [\"db/migrations/*.sql\"]\n"),
        [set] => {
            out.push_str(&format!("  migrations:\n    paths: {}\n", yaml_list(&set.globs)));
            out.push_str(&settings(set.dialect, "    "));
            out.push_str(&placeholders_block(&set.placeholders, "    "));
            out.push_str("    # database:\n    #   stats_url: env:GONOGO_STATS_URL     # read-only: table sizes for lock-time estimates\n    #   scratch_url: env:GONOGO_SCRATCH_URL # disposable copy of the schema: trace real locks\n");
        }
        sets => {
            out.push_str("  migrations:                   # one set per database: each has its own schema\n");
            for set in sets {
                let name = match set.dialect {
                    Dialect::Postgres => "postgres",
                    Dialect::Mysql => "mysql",
                };
                out.push_str(&format!(
                    "    - name: {name}\n      paths: {}\n",
                    yaml_list(&set.globs)
                ));
                out.push_str(&settings(set.dialect, "      "));
                out.push_str(&placeholders_block(&set.placeholders, "      "));
            }
        }
    }
    // One line per folder and reason: a repository with hundreds of test files gets a few lines.
    let mut skipped: std::collections::BTreeMap<(&str, String), Vec<&str>> = Default::default();
    for (path, reason) in &found.migration_skipped {
        let folder = path.rsplit_once('/').map_or(".", |(dir, _)| dir);
        skipped
            .entry((reason, folder.to_string()))
            .or_default()
            .push(path);
    }
    for ((reason, folder), paths) in skipped {
        let shown = match paths.as_slice() {
            [one] => one.to_string(),
            many => format!("{folder}/ ({} files)", many.len()),
        };
        out.push_str(&format!(
            "  # not a migration, left out: {shown}: {reason}\n"
        ));
    }
}
