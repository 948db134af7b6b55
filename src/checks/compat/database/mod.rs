//! The database side of `compat`: this deploy's migrations against the code that keeps running.
//!
//! During a rolling deploy the migration runs first and the old pods serve until the rollout
//! ends, against the migrated schema. A migration that drops or renames what the old code reads,
//! or rejects rows the old code writes, breaks production however safe its locks are. So gonogo
//! takes every change of this deploy's migrations (`changes`), searches the deployed version's
//! code for what it touches (`git grep` on the base ref, never the working tree; `search` ranks
//! each use), and judges the pair (`judge`, pure). The I/O is here: [`check`].

pub mod changes;
mod judge;
mod rules;

pub use judge::{judge, targets};
pub use rules::*;

use crate::checks::CheckError;
use crate::code::MAX_CODE_FILE_BYTES;
use crate::code::paths::{CodePaths, LeftOut};
pub use crate::code::search;
use crate::config::CompatDatabaseConfig;
use crate::context::Context;
use crate::git::Repo;
use crate::report::Finding;
use crate::sql::files::MigrationSet;
use changes::Change;
use judge::{is_strong, matters};
use search::{Marker, Reference, Strength, Write};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A table, or one of its columns, that the deployed code may use.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub table: String,
    pub column: Option<String>,
}

impl Target {
    fn table(table: &str) -> Target {
        Target {
            table: table.to_string(),
            column: None,
        }
    }

    fn column(table: &str, column: &str) -> Target {
        Target {
            table: table.to_string(),
            column: Some(column.to_string()),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "{}.{column}", self.table),
            None => f.write_str(&self.table),
        }
    }
}

/// The uses of one target in one version of the code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Uses {
    pub references: Vec<Reference>,
    pub markers: Vec<Marker>,
}

/// What the code says about the targets: filled by [`check`] (or a test), read by [`judge`].
#[derive(Debug, Default)]
pub struct Evidence {
    /// Uses in the deployed version (the base ref).
    pub base: BTreeMap<Target, Uses>,
    /// Uses in the working tree: a use at the base and not here was removed by this release.
    pub now: BTreeMap<Target, Uses>,
    /// Writes of each table in the deployed version.
    pub writes: BTreeMap<String, Vec<Write>>,
    /// Enum values the deployed code names as strings.
    pub values: BTreeMap<String, Vec<Reference>>,
    /// Model fields of the deployed code that read a column into a type that cannot hold NULL,
    /// with that type.
    pub non_null_fields: BTreeMap<Target, Vec<(Reference, String)>>,
    /// Where gonogo looked, for messages: "42 files under src/ at v1.4.2".
    pub searched: String,
}

/// What the code search needs to look for, from the changes that old code can notice.
#[derive(Debug, Default, PartialEq)]
pub struct Targets {
    pub uses: BTreeSet<Target>,
    pub write_tables: BTreeSet<String>,
    pub values: BTreeSet<String>,
    /// Columns that now accept NULL: where does the old code read them into non-null fields?
    pub nullable: BTreeSet<Target>,
}

impl Targets {
    /// Add another set's targets (one search of the code serves every set).
    fn add(&mut self, other: Targets) {
        self.uses.extend(other.uses);
        self.write_tables.extend(other.write_tables);
        self.values.extend(other.values);
        self.nullable.extend(other.nullable);
    }
}

fn files(n: usize) -> String {
    match n {
        1 => "1 file".to_string(),
        n => format!("{n} files"),
    }
}

/// Words for `git grep` to find the files worth reading: table names (and the singular a model
/// class would carry), column names and enum values.
fn search_words(targets: &Targets) -> Vec<String> {
    let mut words = BTreeSet::new();
    let mut add_table = |table: &str| {
        words.insert(table.to_string());
        let singular = singular(table);
        words.insert(singular.clone());
        // Django's default table is `<app>_<model>`: the model class is the last part.
        if let Some((_, model)) = singular.rsplit_once('_') {
            words.insert(model.to_string());
        }
        // A CamelCase class name (OrderItem) for a snake_case table (order_items).
        words.insert(singular.replace('_', ""));
    };
    for target in &targets.uses {
        add_table(&target.table);
    }
    for table in &targets.write_tables {
        add_table(table);
    }
    for target in &targets.nullable {
        add_table(&target.table);
    }
    let mut words: BTreeSet<String> = words.into_iter().filter(|w| w.len() > 1).collect();
    for target in targets.uses.iter().chain(&targets.nullable) {
        if let Some(column) = &target.column {
            words.insert(column.clone());
        }
    }
    words.extend(targets.values.iter().cloned());
    words.into_iter().collect()
}

/// The singular a model class carries for a plural table name (`orders` → `order`,
/// `categories` → `category`, `addresses` → `address`), for finding candidate files only.
fn singular(table: &str) -> String {
    if let Some(stem) = table.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes", "uses"] {
        if table.ends_with(suffix) {
            return table[..table.len() - 2].to_string();
        }
    }
    match table.strip_suffix('s') {
        Some(stem) if !stem.ends_with('s') => stem.to_string(),
        _ => table.to_string(),
    }
}

/// Everything [`check`] hands back to the compat check.
pub struct DatabaseOutcome {
    pub findings: Vec<Finding>,
    pub summary: String,
}

/// Read this deploy's migrations and the deployed code, and judge. `old_files`: the files at the
/// base ref, relative to the project root; `prefix`: where the root sits in the repository.
pub fn check(
    ctx: &Context,
    config: &CompatDatabaseConfig,
    repo: &Repo,
    base: &str,
    prefix: &str,
    old_files: &BTreeSet<String>,
) -> Result<DatabaseOutcome, CheckError> {
    if config.code_paths.is_empty() {
        return Err(CheckError(
            "checks.compat.database.code_paths is empty: list where the deployed code lives (e.g. [\"src/\"]), so gonogo can search it for what the migrations drop or change".to_string(),
        ));
    }
    let code_paths = CodePaths::of(&config.code_paths).map_err(CheckError)?;
    if code_paths.include.is_empty() {
        return Err(CheckError(
            "checks.compat.database.code_paths only excludes (`!pattern`): list where the deployed code lives too (e.g. [\"src/\", \"!src/generated/\"])".to_string(),
        ));
    }
    let all_sets = ctx.migration_sets().map_err(CheckError)?;
    // A set whose paths match nothing is the `migrations` check's finding; the others are
    // judged, each over its own schema (one database each).
    let sets: Vec<&Arc<MigrationSet>> = all_sets.iter().filter(|s| !s.paths.is_empty()).collect();
    if sets.is_empty() {
        return Err(CheckError(
            "checks.compat.database compares this deploy's migrations with the deployed code, and no migration file was found: set checks.migrations.paths".to_string(),
        ));
    }
    let migration_paths: BTreeSet<&String> = sets.iter().flat_map(|s| &s.paths).collect();
    let mut code_files: Vec<String> = Vec::new();
    let (mut tests_left_out, mut excluded) = (0, 0);
    for path in old_files.iter().filter(|p| !migration_paths.contains(p)) {
        match code_paths.select(path) {
            Some(Ok(())) => code_files.push(path.clone()),
            Some(Err(LeftOut::Test)) => tests_left_out += 1,
            Some(Err(LeftOut::Excluded)) => excluded += 1,
            None => {}
        }
    }
    let shown_paths = code_paths.shown();
    if code_files.is_empty() {
        let left_out = if tests_left_out + excluded > 0 {
            format!(
                " (only test files or excluded ones: {} left out)",
                files(tests_left_out + excluded)
            )
        } else {
            String::new()
        };
        return Err(CheckError(format!(
            "checks.compat.database.code_paths ({shown_paths}) match no file at {base}{left_out}: gonogo cannot search the deployed code; fix the paths (relative to the project root), or check that {base} is the deployed version"
        )));
    }
    let several = all_sets.len() > 1;
    let mut judged = Vec::new();
    for set in &sets {
        // The facts the context followed once for this set (the `migrations` check reads them
        // too); the changes do not depend on the set's transaction mode or server version.
        let facts = ctx.migration_facts(set).map_err(CheckError)?;
        let (changes, unread) = changes::changes_and_unread(&set.files, &facts);
        judged.push(SetChanges {
            label: several.then(|| set.label()),
            noticed: changes.iter().filter(|c| matters(c)).count(),
            changes,
            unread,
            deploy_files: set.files.iter().filter(|f| f.in_deploy).count(),
            files: set.files.len(),
        });
    }
    let mut left_out = Vec::new();
    if tests_left_out > 0 {
        left_out.push(format!(
            "{} of tests and test data, which never run in production",
            files(tests_left_out)
        ));
    }
    if excluded > 0 {
        left_out.push(format!("{} excluded by `!` patterns", files(excluded)));
    }
    let searched = format!(
        "searched {} under {shown_paths} at {base}{}",
        files(code_files.len()),
        if left_out.is_empty() {
            String::new()
        } else {
            format!("; left out {}", left_out.join(" and "))
        }
    );
    if judged.iter().all(|set| set.noticed == 0) {
        return Ok(DatabaseOutcome {
            findings: Vec::new(),
            summary: summary(&judged, &searched),
        });
    }
    // One search of the deployed code for what any set changes; each set is judged on its own
    // changes (a table one database replaces is not another database's replacement).
    let mut targets = Targets::default();
    for set in &judged {
        targets.add(judge::targets(&set.changes));
    }
    let words = search_words(&targets);
    let markers: Vec<String> = config.markers.iter().map(|m| m.value.clone()).collect();
    let in_repo: Vec<String> = code_files.iter().map(|p| format!("{prefix}{p}")).collect();
    let candidates = repo
        .files_containing(Some(base), &words, &in_repo)
        .map_err(|e| CheckError(format!("cannot search the code of {base}: {e}")))?;
    let blobs = repo
        .files_at(base, &candidates)
        .map_err(|e| CheckError(format!("cannot read the code of {base}: {e}")))?;
    let mut evidence = Evidence {
        searched,
        ..Evidence::default()
    };
    for (path, bytes) in &blobs {
        if bytes.len() > MAX_CODE_FILE_BYTES {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let path = path.strip_prefix(prefix).unwrap_or(path);
        collect(&mut evidence, &targets, path, &text, &markers, true);
    }
    // Uses at the base that this release removed from the code: read the working tree only for
    // the targets the old code really uses.
    let used: Targets = Targets {
        uses: targets
            .uses
            .iter()
            .filter(|t| {
                evidence
                    .base
                    .get(t)
                    .is_some_and(|u| u.references.iter().any(is_strong))
            })
            .cloned()
            .collect(),
        ..Targets::default()
    };
    if !used.uses.is_empty() {
        let now_files: Vec<String> = repo
            .working_files()
            .map_err(|e| CheckError(format!("cannot list the working tree: {e}")))?
            .into_iter()
            .filter(|p| {
                p.strip_prefix(prefix).is_some_and(|p| {
                    code_paths.searches(p) && !migration_paths.contains(&p.to_string())
                })
            })
            .collect();
        let now_candidates = repo
            .files_containing(None, &search_words(&used), &now_files)
            .map_err(|e| CheckError(format!("cannot search the working tree: {e}")))?;
        for path in now_candidates {
            let Ok(bytes) = std::fs::read(repo.top.join(&path)) else {
                continue;
            };
            if bytes.len() > MAX_CODE_FILE_BYTES {
                continue;
            }
            let text = String::from_utf8_lossy(&bytes);
            let path = path.strip_prefix(prefix).unwrap_or(&path);
            collect(&mut evidence, &used, path, &text, &markers, false);
        }
    }
    let mut findings = Vec::new();
    for set in &judged {
        let set_findings = judge(&set.changes, &evidence, base);
        findings.extend(set_findings.into_iter().map(|mut finding| {
            if let Some(label) = &set.label {
                finding.message = format!("[{label}] {}", finding.message);
            }
            finding
        }));
    }
    Ok(DatabaseOutcome {
        findings,
        summary: summary(&judged, &evidence.searched),
    })
}

/// One migration set's changes, as the summary and the judgement read them.
struct SetChanges {
    /// The set's name when the run has several (findings and summary say which database).
    label: Option<String>,
    changes: Vec<Change>,
    /// Changes of this deploy old code can notice.
    noticed: usize,
    /// Statements of this deploy that could not be read.
    unread: usize,
    deploy_files: usize,
    files: usize,
}

/// The database side's part of the summary: one phrase per set, where the code was searched
/// once at the end (inside the phrase when there is one set).
fn summary(sets: &[SetChanges], searched: &str) -> String {
    let single = sets.len() == 1 && sets[0].label.is_none();
    let phrases: Vec<String> = sets
        .iter()
        .map(|set| {
            // Never a clean bill over statements that were not read.
            let unread_note = match set.unread {
                0 => String::new(),
                1 => "; 1 statement gonogo could not read (not judged)".to_string(),
                n => format!("; {n} statements gonogo could not read (not judged)"),
            };
            let phrase = match set.noticed {
                0 => format!(
                    "no migration of this deploy ({} of {} files) drops, renames or constrains what the deployed code can use{unread_note}",
                    set.deploy_files, set.files
                ),
                noticed => format!(
                    "{noticed} {} of this deploy checked against the deployed code{}{unread_note}",
                    if noticed == 1 { "change" } else { "changes" },
                    if single {
                        format!(" ({searched})")
                    } else {
                        String::new()
                    }
                ),
            };
            match &set.label {
                Some(label) => format!("{label}: {phrase}"),
                None => phrase,
            }
        })
        .collect();
    let mut out = format!("database: {}", phrases.join("; "));
    if !single && sets.iter().any(|set| set.noticed > 0) {
        out.push_str(&format!("; {searched}"));
    }
    out
}

/// Add what one file says about the targets to the evidence.
fn collect(
    evidence: &mut Evidence,
    targets: &Targets,
    path: &str,
    text: &str,
    markers: &[String],
    at_base: bool,
) {
    let lower = text.to_ascii_lowercase();
    for target in &targets.uses {
        let name = target.column.as_deref().unwrap_or(&target.table);
        if !lower.contains(&name.to_ascii_lowercase()) {
            continue;
        }
        let found = search::find(path, text, &target.table, target.column.as_deref(), markers);
        if found.references.is_empty() && found.markers.is_empty() {
            continue;
        }
        let map = if at_base {
            &mut evidence.base
        } else {
            &mut evidence.now
        };
        let uses = map.entry(target.clone()).or_default();
        uses.references.extend(found.references);
        uses.markers.extend(found.markers);
    }
    if !at_base {
        return;
    }
    for table in &targets.write_tables {
        let writes = search::writes(path, text, table);
        if !writes.is_empty() {
            evidence
                .writes
                .entry(table.clone())
                .or_default()
                .extend(writes);
        }
    }
    for target in &targets.nullable {
        let column = target.column.as_deref().unwrap_or_default();
        let fields = search::non_null_fields(path, text, &target.table, column);
        if !fields.is_empty() {
            evidence
                .non_null_fields
                .entry(target.clone())
                .or_default()
                .extend(fields);
        }
    }
    for value in &targets.values {
        if !text.contains(value.as_str()) {
            continue;
        }
        let found = search::find(path, text, "", Some(value), &[]);
        let strong: Vec<Reference> = found
            .references
            .into_iter()
            .filter(|r| r.strength >= Strength::QueryBuilder)
            .collect();
        if !strong.is_empty() {
            evidence
                .values
                .entry(value.clone())
                .or_default()
                .extend(strong);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_come_from_plural_tables() {
        for (table, model) in [
            ("orders", "order"),
            ("categories", "category"),
            ("addresses", "address"),
            ("statuses", "status"),
            ("boxes", "box"),
            ("news", "new"),
            ("glass", "glass"),
        ] {
            assert_eq!(singular(table), model, "{table}");
        }
    }

    #[test]
    fn search_words_cover_model_class_names() {
        let targets = Targets {
            uses: [Target::column("shop_order_items", "total")].into(),
            ..Targets::default()
        };
        let words = search_words(&targets);
        for word in [
            "shop_order_items",
            "shop_order_item",
            "item",
            "shoporderitem",
            "total",
        ] {
            assert!(words.contains(&word.to_string()), "{word}: {words:?}");
        }
    }
}
