//! A project's migration files: found (configured paths, or the usual layouts), read, and split
//! into this deploy's files (added or changed since the base) and the ones already applied. Loaded
//! once per run ([`crate::context::Context::migrations`]) for the `migrations` check and the
//! database side of `compat`, so both judge the same files.

use crate::config::{Dialect, MigrationsConfig, TransactionMode};
use crate::context::Context;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

pub mod downs;
pub mod rerun;

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
    /// How the runner wraps this file when a marker of the file says so (goose
    /// `-- +goose NO TRANSACTION`, sqlx `-- no-transaction`, popx `.autocommit.`, a Flyway
    /// `.sql.conf` with `executeInTransaction=false`); `None`: the set's `transaction`.
    pub transaction: Option<TransactionMode>,
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
    /// A migration the base already had was edited or renamed since. `line`: the first line that
    /// differs; `rerun`: a rename to a new version, which runners apply again.
    AppliedEdited {
        path: String,
        line: u32,
        message: String,
        rerun: bool,
        /// Only renamed (same version, same text): worth saying, not warning about.
        renamed_only: bool,
    },
    /// The order file and the files disagree: a listed file that is not there, or a file that
    /// is not listed (the runner does not run it).
    Order {
        path: String,
        line: Option<u32>,
        message: String,
    },
}

/// The migration files of one set (one database), read and in the order the runner applies
/// them.
#[derive(Debug)]
pub struct MigrationSet {
    /// The set's configured name (`checks.migrations[].name`).
    pub name: Option<String>,
    /// Which configured set this is (`None`: discovered without a config).
    pub config_index: Option<usize>,
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

impl MigrationSet {
    /// How findings and summaries name the set when a run has several: its `name`, else its
    /// place in the config (`set 2`).
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("set {}", self.config_index.unwrap_or(0) + 1))
    }
}

/// What git says about the base, computed once for every set.
#[derive(Default)]
struct BaseView {
    /// Files added or changed since the base (root-relative), `None` without a base.
    changed: Option<BTreeSet<String>>,
    /// Files present at the base (root-relative).
    at_base: BTreeSet<String>,
    /// (old, new) root-relative paths git sees as renamed since the base.
    renames: Vec<(String, String)>,
    /// The root's prefix inside the repository, for `git show base:path`.
    prefix: String,
}

/// Find and read every configured migration set (or the discovered one without a config).
/// An error is a sentence saying why nothing could be decided (a bad pattern, git failing, an
/// unreadable order file).
pub fn load_sets(ctx: &Context) -> Result<Vec<MigrationSet>, String> {
    let base = base_view(ctx)?;
    match ctx.config.checks.migrations.as_ref() {
        Some(sets) => sets
            .sets
            .iter()
            .enumerate()
            .map(|(index, section)| {
                let mut set = load_set(ctx, Some(section), &base)?;
                set.config_index = Some(index);
                set.name = section.name.as_ref().map(|n| n.value.clone());
                Ok(set)
            })
            .collect(),
        None => Ok(vec![load_set(ctx, None, &base)?]),
    }
}

fn load_set(
    ctx: &Context,
    section: Option<&MigrationsConfig>,
    base: &BaseView,
) -> Result<MigrationSet, String> {
    let (patterns, discovered) = match section {
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
    let mut candidates = BTreeSet::new();
    let (excludes, includes): (Vec<&String>, Vec<&String>) = patterns
        .iter()
        .partition(|p| p.trim_start().starts_with('!'));
    let excludes = excludes
        .iter()
        .flat_map(|p| {
            expand_braces(
                p.trim_start()
                    .trim_start_matches('!')
                    .trim_start_matches("./"),
            )
        })
        .map(|p| glob::Pattern::new(&p).map_err(|e| format!("invalid path pattern `!{p}`: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let match_options = glob::MatchOptions {
        require_literal_separator: true,
        ..glob::MatchOptions::new()
    };
    for pattern in includes {
        let mut matched = Vec::new();
        for alternative in expand_braces(pattern) {
            matched.extend(expand_glob(&ctx.root, &alternative)?);
        }
        matched.retain(|path| {
            !excludes
                .iter()
                .any(|ex| ex.matches_with(path, match_options))
        });
        if matched.is_empty() && !discovered {
            problems.push(FileProblem::Unmatched {
                pattern: pattern.clone(),
            });
        }
        candidates.extend(matched);
    }
    let configured_dialect = section.map(|s| s.dialect);
    let placeholders = section.map(|s| &s.placeholders);
    // Read every candidate once: the dialect guess and the variant choice need the texts.
    let mut texts: BTreeMap<String, Result<String, FileProblem>> = candidates
        .iter()
        .map(|path| (path.clone(), read_migration(&ctx.root, path)))
        .collect();
    let dialect = configured_dialect.unwrap_or_else(|| guess_dialect(&texts));
    let paths = choose_variants(&candidates, dialect, &texts);
    let mut files = Vec::with_capacity(paths.len());
    for path in &paths {
        let in_this_deploy = base.changed.as_ref().is_none_or(|set| set.contains(path));
        let text = match texts.remove(path) {
            Some(Ok(text)) => apply_placeholders(text, placeholders),
            Some(Err(problem)) => {
                if in_this_deploy {
                    problems.push(problem);
                }
                continue;
            }
            None => continue,
        };
        let mut file = MigrationFile {
            transaction: transaction_marker(&ctx.root, path, &text),
            path: path.clone(),
            text,
            in_deploy: in_this_deploy,
        };
        if in_this_deploy && base.changed.is_some() {
            applied_at_base(ctx, base, &mut file, placeholders, &mut problems)?;
        }
        files.push(file);
    }
    match section.and_then(|s| s.order_file.as_ref()) {
        Some(order_file) => {
            order_by_file(&ctx.root, order_file.as_str(), &mut files, &mut problems)?
        }
        None => files.sort_by_cached_key(|f| runner_order_key(&f.path)),
    }
    Ok(MigrationSet {
        name: None,
        config_index: None,
        files,
        dialect,
        problems,
        paths,
        deploy_is_known: base.changed.is_some(),
        discovered,
    })
}

/// Paths matching `pattern` under `root`, relative and sorted. Patterns are relative to the root.
fn expand_glob(root: &Path, pattern: &str) -> Result<Vec<String>, String> {
    let pattern = pattern.trim_start_matches("./");
    // A folder means the SQL files directly in it, as the runners read a migrations folder
    // (golang-migrate, goose, sqlx, Flyway's default location): not its subfolders.
    let folder;
    let pattern = if !pattern.contains(['*', '?', '[']) && root.join(pattern).is_dir() {
        folder = format!("{}/*.sql", pattern.trim_end_matches('/'));
        folder.as_str()
    } else {
        pattern
    };
    let full = root.join(pattern);
    let full = full.to_string_lossy();
    let entries =
        glob::glob(&full).map_err(|e| format!("invalid path pattern `{pattern}`: {e}"))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let skipped_dir = entry
            .components()
            .any(|c| c.as_os_str() == "node_modules" || c.as_os_str() == "target");
        if entry.is_file()
            && !skipped_dir
            && !is_down_migration(&entry)
            && !is_runner_config(&entry)
        {
            out.push(crate::context::relative_display(root, &entry));
        }
    }
    out.sort();
    Ok(out)
}

/// `{a,b}` alternatives, expanded (nested and several groups too): the `glob` crate has none.
pub fn expand_braces(pattern: &str) -> Vec<String> {
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_string()];
    };
    // The matching close brace, and the top-level commas between.
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut close = None;
    for (i, c) in pattern[open..].char_indices() {
        let i = open + i;
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(i),
            _ => {}
        }
    }
    let Some(close) = close else {
        return vec![pattern.to_string()];
    };
    let mut bounds = vec![open];
    bounds.extend(&commas);
    bounds.push(close);
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    bounds
        .windows(2)
        .flat_map(|w| expand_braces(&format!("{head}{}{tail}", &pattern[w[0] + 1..w[1]])))
        .collect()
}

/// Rollback scripts (`down.sql`, `0042.down.sql`, `0042_down.sql`, Flyway's `U42__x.sql`) never
/// run during a deploy; reading them as migrations would report their DROPs and forget the
/// tables they drop.
pub fn is_down_migration(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let stem = name.strip_suffix(".sql").unwrap_or(&name);
    stem == "down"
        || stem.ends_with(".down")
        || stem.ends_with("_down")
        || stem.ends_with("-down")
        || path
            .file_name()
            .is_some_and(|n| downs::is_flyway_undo(&n.to_string_lossy()))
}

/// Flyway's per-script settings (`V1__x.sql.conf`) are read beside their script, not as SQL.
fn is_runner_config(path: &Path) -> bool {
    path.to_string_lossy()
        .to_ascii_lowercase()
        .ends_with(".sql.conf")
}

/// Dialect names runners put in file names (popx: `X.postgres.up.sql`, `X.mysql.up.sql`,
/// `X.sqlite3.up.sql`, `X.cockroach.up.sql`).
const DIALECT_TAGS: &[(&str, Option<Dialect>)] = &[
    ("postgres", Some(Dialect::Postgres)),
    ("postgresql", Some(Dialect::Postgres)),
    ("pg", Some(Dialect::Postgres)),
    ("mysql", Some(Dialect::Mysql)),
    ("mariadb", Some(Dialect::Mysql)),
    ("sqlite", None),
    ("sqlite3", None),
    ("cockroach", None),
    ("cockroachdb", None),
    ("crdb", None),
    ("mssql", None),
    ("sqlserver", None),
    ("clickhouse", None),
    ("oracle", None),
];

/// A file name's dialect tag and the name it is a variant of: `1_x.postgres.up.sql` →
/// (`1_x.up.sql`, postgres). `None` when the name has no tag.
fn dialect_variant(path: &str) -> Option<(String, Option<Dialect>)> {
    let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
    let lower = name.to_ascii_lowercase();
    let stem = lower.strip_suffix(".sql")?;
    let (stem, up) = match stem.strip_suffix(".up") {
        Some(stem) => (stem, ".up"),
        None => (stem, ""),
    };
    let (stem, autocommit) = match stem.strip_suffix(".autocommit") {
        Some(stem) => (stem, ".autocommit"),
        None => (stem, ""),
    };
    let (generic, tag) = stem.rsplit_once('.')?;
    let dialect = DIALECT_TAGS.iter().find(|(t, _)| *t == tag)?.1;
    Some((format!("{dir}/{generic}{autocommit}{up}.sql"), dialect))
}

/// One file per migration, as a runner with per-dialect files picks it (popx): the variant for
/// this set's dialect wins over the generic file, an empty variant means "nothing to run for
/// this dialect" (the generic one is skipped too), other dialects' variants never run.
fn choose_variants(
    candidates: &BTreeSet<String>,
    dialect: Dialect,
    texts: &BTreeMap<String, Result<String, FileProblem>>,
) -> BTreeSet<String> {
    let mut chosen = candidates.clone();
    for path in candidates {
        let Some((generic, tag)) = dialect_variant(path) else {
            continue;
        };
        chosen.remove(path);
        if tag != Some(dialect) {
            continue;
        }
        let generic_real = candidates
            .iter()
            .find(|c| c.eq_ignore_ascii_case(generic.trim_start_matches('/')));
        if let Some(generic_real) = generic_real {
            chosen.remove(generic_real);
        }
        let empty = matches!(
            texts.get(path),
            Some(Err(FileProblem::Unreadable { empty: true, .. }))
        );
        if !empty {
            chosen.insert(path.clone());
        }
    }
    chosen
}

/// `checks.migrations.placeholders`: literal text replaced by its value before parsing.
fn apply_placeholders(text: String, placeholders: Option<&BTreeMap<String, String>>) -> String {
    match placeholders {
        Some(map) if !map.is_empty() => map
            .iter()
            .fold(text, |text, (from, to)| text.replace(from.as_str(), to)),
        _ => text,
    }
}

/// A file's own say on transactions, when it has one. What each runner does without one:
/// goose, sqlx, popx and Flyway wrap every file in a transaction (`per-file`).
fn transaction_marker(root: &Path, path: &str, text: &str) -> Option<TransactionMode> {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    // popx: `.autocommit.` in the name runs the file as one query outside a transaction; a
    // multi-statement query is still one implicit transaction in PostgreSQL.
    if name.contains(".autocommit.") {
        return Some(TransactionMode::None);
    }
    // sqlx: `-- no-transaction` as the first line sends the file as one query, unwrapped.
    if text
        .lines()
        .next()
        .is_some_and(|l| l.trim().eq_ignore_ascii_case("-- no-transaction"))
    {
        return Some(TransactionMode::None);
    }
    // goose: the annotation runs each statement on its own, outside a transaction.
    if text.lines().any(|l| {
        let l = l.trim();
        l.starts_with("-- +goose") && l.to_ascii_uppercase().contains("NO TRANSACTION")
    }) {
        return Some(TransactionMode::PerStatement);
    }
    // Flyway: `executeInTransaction=false` in `<script>.conf` runs each statement on its own.
    if let Ok(conf) = std::fs::read_to_string(root.join(format!("{path}.conf"))) {
        let off = conf.lines().any(|l| {
            let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            l.eq_ignore_ascii_case("executeInTransaction=false")
        });
        if off {
            return Some(TransactionMode::PerStatement);
        }
    }
    None
}

/// A deploy's changed file that the base already had is an applied migration: runners record
/// applied versions and never run one again (golang-migrate, goose, Flyway, sqlx, popx all key
/// by the version in the file name). What the database holds is the base's text, so that text
/// is followed, silently, and the edit is reported once. A file git sees as renamed keeps its
/// history when the version in its name is unchanged; a new version is a new migration to the
/// runner, which runs it again.
fn applied_at_base(
    ctx: &Context,
    base: &BaseView,
    file: &mut MigrationFile,
    placeholders: Option<&BTreeMap<String, String>>,
    problems: &mut Vec<FileProblem>,
) -> Result<(), String> {
    let (Some(repo), Some(base_ref)) = (&ctx.repo, &ctx.base) else {
        return Ok(());
    };
    // A file the runner applies again when it changes (Flyway `R__`, a repeatable folder): the
    // edit reaches the database on this deploy, so its new text is this deploy's to judge.
    if rerun::rerun_by_name(&file.path).is_some() {
        return Ok(());
    }
    let (old_path, renamed) = if base.at_base.contains(&file.path) {
        (file.path.clone(), false)
    } else {
        match base.renames.iter().find(|(_, new)| *new == file.path) {
            Some((old, _)) if base.at_base.contains(old) => (old.clone(), true),
            _ => return Ok(()),
        }
    };
    let Some(bytes) = repo.file_at(base_ref, &format!("{}{old_path}", base.prefix))? else {
        return Ok(());
    };
    let old_text = apply_placeholders(String::from_utf8_lossy(&bytes).into_owned(), placeholders);
    let same_version = runner_version(&old_path) == runner_version(&file.path);
    if renamed && !same_version {
        problems.push(FileProblem::AppliedEdited {
            path: file.path.clone(),
            line: 1,
            message: format!(
                "{} was applied as {old_path} at {base_ref}; renamed to a new version, it is a new migration to the runner, which runs it again on every database that applied the old one",
                file.path
            ),
            rerun: true,
            renamed_only: false,
        });
        return Ok(());
    }
    let edited = old_text != file.text;
    if edited || renamed {
        let line = first_difference(&old_text, &file.text);
        let message = match (renamed, edited) {
            (true, false) => format!(
                "{} was applied as {old_path} at {base_ref} and only renamed (same version): runners keyed by version treat it as applied",
                file.path
            ),
            (true, true) => format!(
                "an applied migration was renamed from {old_path} and edited since {base_ref}: runners do not re-run it; the change reaches no existing database"
            ),
            _ => format!(
                "an applied migration was edited since {base_ref}: runners do not re-run it; the change reaches no existing database"
            ),
        };
        problems.push(FileProblem::AppliedEdited {
            path: file.path.clone(),
            line,
            message,
            rerun: false,
            renamed_only: !edited,
        });
    }
    file.text = old_text;
    file.in_deploy = false;
    Ok(())
}

/// The first 1-based line of `new` that differs from `old`.
fn first_difference(old: &str, new: &str) -> u32 {
    let mut old_lines = old.lines();
    for (index, line) in new.lines().enumerate() {
        if old_lines.next() != Some(line) {
            return index as u32 + 1;
        }
    }
    new.lines().count().max(1) as u32
}

/// The version a runner keys a file by: the numbers before the first letter of its name
/// (`V1_2__x.sql` → 1.2, `20240101_x.up.sql` → 20240101), with leading zeros ignored.
fn runner_version(path: &str) -> Vec<String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let name = name
        .strip_prefix(['V', 'v', 'U', 'u'])
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(name);
    name.split(|c: char| !c.is_ascii_digit())
        .take_while(|part| !part.is_empty())
        .map(|part| part.trim_start_matches('0').to_string())
        .collect()
}

/// One piece of a name compared the way people and runners count: digit runs by their value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Piece {
    /// (digits without leading zeros: shorter is smaller, then the digits; then the zeros).
    Number(usize, String, usize),
    Text(String),
}

fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits > 0 {
            let run = &rest[..digits];
            let value = run.trim_start_matches('0');
            out.push(Piece::Number(value.len(), value.to_string(), run.len()));
            rest = &rest[digits..];
        } else {
            let text_end = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            out.push(Piece::Text(rest[..text_end].to_string()));
            rest = &rest[text_end..];
        }
    }
    out
}

/// A file name's place among its folder's migrations.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum NameKey {
    /// Flyway `V1_2__x.sql`: its version, numbers compared as numbers (1 < 1.1 < 1.2 < 1.10 < 2).
    Versioned(Vec<Piece>, Vec<Piece>),
    /// Any other name, in natural order: numeric prefixes and timestamps by value.
    Plain(Vec<Piece>),
    /// Flyway `R__x.sql`: repeatable migrations run after every versioned one.
    Repeatable(Vec<Piece>),
}

fn name_key(name: &str) -> NameKey {
    let flyway_version = name
        .strip_prefix(['V', 'v'])
        .and_then(|rest| rest.split_once("__"))
        .filter(|(version, _)| {
            !version.is_empty()
                && version.starts_with(|c: char| c.is_ascii_digit())
                && version
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
        });
    if let Some((version, description)) = flyway_version {
        let numbers = version
            .split(['.', '_'])
            .filter(|p| !p.is_empty())
            .flat_map(pieces)
            .collect();
        return NameKey::Versioned(numbers, pieces(description));
    }
    if let Some(description) = name.strip_prefix("R__") {
        return NameKey::Repeatable(pieces(description));
    }
    NameKey::Plain(pieces(name))
}

/// The order runners apply files in: folder by folder (`v1.2/` before `v1.10/`), then by name,
/// numbers compared as numbers (`2_x.sql` before `10_x.sql`; Flyway `V1_2__` before `V1_10__`).
fn runner_order_key(path: &str) -> (Vec<Vec<Piece>>, NameKey) {
    let (dirs, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
    let dirs = dirs
        .split('/')
        .filter(|d| !d.is_empty())
        .map(pieces)
        .collect();
    (dirs, name_key(name))
}

/// `order_file`: the files in the order it lists them (one per line, relative to the order
/// file's folder; blank lines, `#` comments and Atlas's `h1:` checksums are skipped, so an
/// `atlas.sum` reads as is). Files it does not list come after, in the runner's usual order,
/// each reported; a listed file that is not there is reported at its line.
fn order_by_file(
    root: &Path,
    order_file: &str,
    files: &mut [MigrationFile],
    problems: &mut Vec<FileProblem>,
) -> Result<(), String> {
    let order_file = order_file.trim_start_matches("./");
    let text = std::fs::read_to_string(root.join(order_file))
        .map_err(|e| format!("cannot read checks.migrations.order_file {order_file}: {e}"))?;
    let folder = order_file.rsplit_once('/').map_or("", |(d, _)| d);
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut listed = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("h1:") {
            continue;
        }
        let name = line.split_whitespace().next().unwrap_or(line);
        let name = name.trim_start_matches("./");
        let path = if folder.is_empty() {
            name.to_string()
        } else {
            format!("{folder}/{name}")
        };
        if !position.contains_key(&path) {
            position.insert(path.clone(), position.len());
            listed.push((path, index as u32 + 1));
        }
    }
    for (path, line) in &listed {
        if !files.iter().any(|f| f.path == *path) && !root.join(path).is_file() {
            problems.push(FileProblem::Order {
                path: order_file.to_string(),
                line: Some(*line),
                message: format!(
                    "{order_file} lists {path}, which does not exist: the runner would stop there"
                ),
            });
        }
    }
    for file in files.iter() {
        if !position.contains_key(&file.path) && file.in_deploy {
            problems.push(FileProblem::Order {
                path: file.path.clone(),
                line: None,
                message: format!(
                    "{} is not listed in {order_file}: the runner does not apply it (checked after the listed files)",
                    file.path
                ),
            });
        }
    }
    files.sort_by_cached_key(|f| {
        (
            position.get(&f.path).copied().unwrap_or(usize::MAX),
            runner_order_key(&f.path),
        )
    });
    Ok(())
}

/// What git knows about the base: the files changed since and present at it. Without a base
/// (or outside git) every file counts as this deploy's.
fn base_view(ctx: &Context) -> Result<BaseView, String> {
    let (Some(repo), Some(base)) = (&ctx.repo, &ctx.base) else {
        return Ok(BaseView::default());
    };
    let changed = repo
        .changed_since(base)
        .map_err(|e| format!("cannot list files changed since {base}: {e}"))?;
    // git paths are relative to the repository top; ours to the project root.
    let prefix = repo.prefix_of(&ctx.root);
    let relative = |p: &str| p.strip_prefix(prefix.as_str()).map(str::to_string);
    let changed: BTreeSet<String> = changed.iter().filter_map(|p| relative(p)).collect();
    let at_base: BTreeSet<String> = repo
        .files_at_ref(base)
        .map_err(|e| format!("cannot list the files at {base}: {e}"))?
        .iter()
        .filter_map(|p| relative(p))
        .collect();
    // Renames matter only when a changed file is new by name: skip git's rename detection
    // otherwise (it compares every added file with every removed one).
    let renames = if changed.iter().any(|p| !at_base.contains(p)) {
        // Only SQL files: rename detection reads the blobs it compares, and an unrelated
        // unreadable blob elsewhere in the tree must not break the check.
        repo.renames_since(base, &[":(glob)**/*.sql".to_string()])
            .map_err(|e| format!("cannot list files renamed since {base}: {e}"))?
            .into_iter()
            .filter_map(|(old, new)| Some((relative(&old)?, relative(&new)?)))
            .collect()
    } else {
        Vec::new()
    };
    Ok(BaseView {
        changed: Some(changed),
        at_base,
        renames,
        prefix,
    })
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

/// A dialect tag in file names decides (popx `X.postgres.up.sql`); else MySQL-only syntax is a
/// strong hint; PostgreSQL is the default.
fn guess_dialect(texts: &BTreeMap<String, Result<String, FileProblem>>) -> Dialect {
    let tagged_mysql = texts
        .keys()
        .filter(|p| matches!(dialect_variant(p), Some((_, Some(Dialect::Mysql)))))
        .count();
    let tagged_postgres = texts
        .keys()
        .filter(|p| matches!(dialect_variant(p), Some((_, Some(Dialect::Postgres)))))
        .count();
    if tagged_mysql + tagged_postgres > 0 {
        return if tagged_mysql > tagged_postgres {
            Dialect::Mysql
        } else {
            Dialect::Postgres
        };
    }
    let files: Vec<&String> = texts.values().filter_map(|t| t.as_ref().ok()).collect();
    let mysql_votes = files.iter().filter(|text| looks_like_mysql(text)).count();
    if mysql_votes * 2 > files.len() {
        Dialect::Mysql
    } else {
        Dialect::Postgres
    }
}

/// Two or more MySQL-only spellings (`ENGINE=`, `AUTO_INCREMENT`, `MODIFY COLUMN`, `UNSIGNED`,
/// backquotes): PostgreSQL rejects every one of them.
pub fn looks_like_mysql(text: &str) -> bool {
    let mysql_markers = [
        "ENGINE=",
        "ENGINE =",
        "AUTO_INCREMENT",
        "MODIFY COLUMN",
        "UNSIGNED",
        "`",
    ];
    let upper = text.to_ascii_uppercase();
    mysql_markers.iter().filter(|m| upper.contains(*m)).count() >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(paths: &[&str]) -> Vec<String> {
        let mut paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
        paths.sort_by_cached_key(|p| runner_order_key(p));
        paths
    }

    #[test]
    fn flyway_versions_compare_as_numbers() {
        assert_eq!(
            sorted(&[
                "V2__c.sql",
                "V1_10__b.sql",
                "R__view.sql",
                "V1_2__a.sql",
                "V1__init.sql",
                "V1.3__d.sql"
            ]),
            [
                "V1__init.sql",
                "V1_2__a.sql",
                "V1.3__d.sql",
                "V1_10__b.sql",
                "V2__c.sql",
                "R__view.sql"
            ]
        );
    }

    #[test]
    fn numeric_prefixes_folders_and_timestamps_in_natural_order() {
        assert_eq!(
            sorted(&["10_x.sql", "2_y.sql", "1_z.sql"]),
            ["1_z.sql", "2_y.sql", "10_x.sql"]
        );
        assert_eq!(
            sorted(&[
                "versioned/v1.10/a.sql",
                "versioned/v1.2/b.sql",
                "versioned/v1.9/a.sql"
            ]),
            [
                "versioned/v1.2/b.sql",
                "versioned/v1.9/a.sql",
                "versioned/v1.10/a.sql"
            ]
        );
        assert_eq!(
            sorted(&["20240102000000_b.up.sql", "20231231235959_a.up.sql"]),
            ["20231231235959_a.up.sql", "20240102000000_b.up.sql"]
        );
        // Leading zeros do not change a number's place.
        assert_eq!(
            sorted(&["002_b.sql", "0010_a.sql", "1_c.sql"]),
            ["1_c.sql", "002_b.sql", "0010_a.sql"]
        );
    }

    #[test]
    fn braces_expand_to_every_alternative() {
        assert_eq!(expand_braces("db/*.sql"), ["db/*.sql"]);
        assert_eq!(
            expand_braces("db/{pg,postgres}/*.{sql,psql}"),
            [
                "db/pg/*.sql",
                "db/pg/*.psql",
                "db/postgres/*.sql",
                "db/postgres/*.psql"
            ]
        );
        assert_eq!(expand_braces("{a,{b,c}}.sql"), ["a.sql", "b.sql", "c.sql"]);
    }

    /// `migrations/` (a folder, as people write it) is the SQL files directly in it.
    #[test]
    fn a_folder_is_the_sql_files_directly_in_it() {
        let dir = tempfile::tempdir().unwrap();
        for path in ["db/1_a.sql", "db/2_b.sql", "db/notes.md", "db/old/0_x.sql"] {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, "SELECT 1;").unwrap();
        }
        for pattern in ["db/", "db", "./db/"] {
            assert_eq!(
                expand_glob(dir.path(), pattern).unwrap(),
                ["db/1_a.sql", "db/2_b.sql"],
                "{pattern}"
            );
        }
        assert_eq!(expand_glob(dir.path(), "db/**/*.sql").unwrap().len(), 3);
    }

    #[test]
    fn dialect_variants_name_their_generic_file() {
        assert_eq!(
            dialect_variant("m/1_x.postgres.up.sql"),
            Some(("m/1_x.up.sql".to_string(), Some(Dialect::Postgres)))
        );
        assert_eq!(
            dialect_variant("m/1_x.sqlite3.autocommit.up.sql"),
            Some(("m/1_x.autocommit.up.sql".to_string(), None))
        );
        assert_eq!(dialect_variant("m/1_x.up.sql"), None);
        assert_eq!(dialect_variant("m/V1.2__x.sql"), None);
    }

    #[test]
    fn versions_and_first_differences() {
        assert_eq!(runner_version("db/V1_2__users.sql"), ["1", "2"]);
        assert_eq!(runner_version("db/0003_users.up.sql"), ["3"]);
        assert_eq!(
            runner_version("db/3_create_users.sql"),
            runner_version("db/003_users.sql")
        );
        assert_eq!(first_difference("a\nb\nc\n", "a\nB\nc\n"), 2);
        assert_eq!(first_difference("a\n", "a\nb\n"), 2);
    }
}
