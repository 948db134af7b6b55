//! `compat`: can the new version read what the deployed one writes, and the other way round?
//!
//! The schema files listed under `checks.compat` are read twice: at the base ref (the deployed
//! version, from git, without touching the working tree) and in the working tree (the version
//! about to ship). Files are paired by path, following renames git detects; each format's
//! comparer (`openapi`, `jsonschema`, `proto`, `avro`) turns the pairs into findings that say
//! which side of the rolling deploy breaks. All I/O is here; the comparers are pure.

pub mod avro;
pub mod database;
pub mod jsonschema;
pub mod model;
pub mod openapi;
pub mod proto;
pub mod schema_diff;

use crate::checks::{Check, CheckError, CheckFuture, CheckOutcome, Rule};
use crate::code::paths::glob_options;
use crate::config::{CompatConfig, Config, ConfigString};
use crate::context::Context;
use crate::declare_rule;
use crate::report::{Finding, Location, Severity, Status};
use model::{Breaks, Comparison, Flow, Pair, SchemaError, Version, breaking};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

declare_rule! {
    order: 10;
    /// ## What it catches
    /// A schema file that matched `checks.compat` at the base ref and is gone from the working
    /// tree (and git did not see it renamed).
    ///
    /// ## Why it matters during a deploy
    /// Whatever the file described (an API, an event, a message type) loses its contract while
    /// the deployed version still serves or reads it. If the API or event really goes away, its
    /// clients and consumers break in both directions.
    ///
    /// ## Example
    /// ```text
    /// v1.4.2: api/openapi.yaml        working tree: (deleted)
    /// ```
    ///
    /// ## Do this instead
    /// Move files with `git mv` (gonogo follows renames), or remove the API in steps: deprecate,
    /// wait for traffic to stop, then delete the file. If the file moved out of the configured
    /// globs on purpose, update `checks.compat` in the same change.
    pub SCHEMA_FILE_REMOVED = ("compat/schema-file-removed", Fail, "a schema file of the deployed version was removed");
}

pub struct Compat;

/// Every rule of the check: its own, the OpenAPI operation rules, the shared schema rules, then
/// each format's (their `order:`).
static RULES: &[&Rule] = crate::checks::registry::COMPAT;

const DOCS: &str = "\
Can the new version read what the deployed version writes, and can the deployed version read
what the new one writes? During a rolling deploy both run side by side: old clients call new
pods, new pods answer old clients, consumers of both versions read the same topic.

gonogo reads every schema file listed under `checks.compat` twice: at the base ref (the
deployed version, read from git without touching the working tree) and in the working tree.
Files are paired by path; a file git sees as renamed (`git mv`) is followed. Every finding says
which side breaks (\"updated pods will reject requests from clients that are not updated yet\",
\"old consumers cannot read events the new version publishes\"); a change that breaks either
side fails, because both are live at once. Safe changes worth knowing are `info`.

- OpenAPI 3.0, 3.1 and Swagger 2.0 (YAML or JSON): operations by path and method (path
  templates by shape), parameters, request bodies, responses and media types; schemas with
  `$ref`s followed, local and to other files of the same version.
- JSON Schema (draft-04 to 2020-12): the root schema and every definition, as a message.
- Protobuf and Avro: see their rules.
- The database: this deploy's migrations (`checks.migrations.paths`, PostgreSQL or MySQL)
  against the deployed code under `database.code_paths`, searched at the base ref with git.
  A column or table dropped or renamed while the old code uses it (SQL naming the table, an ORM
  model field, a query-builder name; a bare identifier is not a use), a NOT NULL or CHECK rule
  the old INSERTs do not satisfy, a narrowed type or removed enum value the old code writes, and
  expand and contract shipped in one deploy. Rails `ignored_columns` and the `markers` you
  configure mark a prepared contract step.

The base ref is `--base <ref>`, else `base:` in gonogo.yaml, else $GONOGO_BASE, else the newest
tag reachable from HEAD. Without one the check is `error`: it cannot know what is deployed.

Config:
  base: v1.4.2                         # or --base in CI
  checks:
    compat:
      openapi: [\"api/openapi.yaml\"]
      jsonschema: [\"schemas/**/*.schema.json\"]
      proto: [\"proto/**/*.proto\"]
      avro: [\"schemas/**/*.avsc\"]
      proto_level: wire_json           # wire | wire_json (default)
      database:
        code_paths: [\"app/\", \"lib/**/*.rb\"]  # the deployed code, searched at the base ref
        markers: [\"gonogo:dropping\"]          # \"this column is going away\" comments

Globs are relative to the project root; `**` matches across directories. Waive a finding with
`waivers: [{rule: compat/property-removed, path: api/openapi.yaml, reason: ...}]`.";

impl Check for Compat {
    fn id(&self) -> &str {
        "compat"
    }
    fn title(&self) -> &str {
        "Read/write compatibility"
    }
    fn docs(&self) -> &str {
        DOCS
    }
    fn rules(&self) -> &'static [&'static Rule] {
        RULES
    }
    fn enabled_by(&self, config: &Config) -> bool {
        config.checks.compat.is_some()
    }
    fn run(&self, ctx: Arc<Context>) -> CheckFuture {
        Box::pin(async move {
            tokio::task::spawn_blocking(move || run(&ctx))
                .await
                .map_err(|e| CheckError(format!("the compat check crashed: {e}")))?
        })
    }
}

/// The schema formats, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    OpenApi,
    JsonSchema,
    Proto,
    Avro,
}

impl Format {
    const ALL: [Format; 4] = [
        Format::OpenApi,
        Format::JsonSchema,
        Format::Proto,
        Format::Avro,
    ];

    fn key(self) -> &'static str {
        match self {
            Format::OpenApi => "openapi",
            Format::JsonSchema => "jsonschema",
            Format::Proto => "proto",
            Format::Avro => "avro",
        }
    }

    fn globs(self, config: &CompatConfig) -> &[ConfigString] {
        match self {
            Format::OpenApi => &config.openapi,
            Format::JsonSchema => &config.jsonschema,
            Format::Proto => &config.proto,
            Format::Avro => &config.avro,
        }
    }

    /// Who loses when a whole file of this format disappears.
    fn flow(self) -> Flow {
        match self {
            Format::OpenApi | Format::Proto => Flow::Request,
            Format::JsonSchema | Format::Avro => Flow::Message,
        }
    }
}

/// What one format's files pair up to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pairing {
    pub pairs: Vec<Pair>,
    /// Matched at the base ref, gone from the working tree, not renamed.
    pub removed: Vec<String>,
    /// Only in the working tree: nothing to compare.
    pub added: Vec<String>,
}

/// Pair the files matched at the base (`old`) with those in the working tree (`new`), following
/// `renames` (old path → new path). Pure.
pub fn pair_files(
    old: &BTreeSet<String>,
    new: &BTreeSet<String>,
    renames: &BTreeMap<String, String>,
    exists_now: &dyn Fn(&str) -> bool,
) -> Pairing {
    let mut out = Pairing::default();
    let mut paired_new = BTreeSet::new();
    for path in old {
        if new.contains(path) {
            out.pairs.push(Pair::same(path.clone()));
            paired_new.insert(path.clone());
        } else if let Some(target) = renames.get(path).filter(|t| exists_now(t)) {
            out.pairs.push(Pair {
                old_path: path.clone(),
                new_path: target.clone(),
            });
            paired_new.insert(target.clone());
        } else if exists_now(path) {
            // Still there, but no longer matched by the globs: compare it anyway.
            out.pairs.push(Pair::same(path.clone()));
        } else {
            out.removed.push(path.clone());
        }
    }
    out.added = new.difference(&paired_new).cloned().collect();
    out
}

fn patterns(format: Format, config: &CompatConfig) -> Result<Vec<glob::Pattern>, CheckError> {
    format
        .globs(config)
        .iter()
        .map(|g| {
            let text = g.as_str().trim_start_matches("./");
            glob::Pattern::new(text).map_err(|e| {
                CheckError(format!(
                    "checks.compat.{}: invalid path pattern `{text}`: {e}",
                    format.key()
                ))
            })
        })
        .collect()
}

fn matches_any(patterns: &[glob::Pattern], path: &str) -> bool {
    patterns
        .iter()
        .any(|p| p.matches_with(path, glob_options()))
}

/// Files in the working tree matching the patterns, relative to the root.
fn working_tree_files(root: &Path, patterns: &[glob::Pattern]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for pattern in patterns {
        // The root itself may contain glob syntax (`[`, `*`): only the pattern is a pattern.
        let full = format!(
            "{}/{}",
            glob::Pattern::escape(&root.to_string_lossy()),
            pattern.as_str()
        );
        let Ok(entries) = glob::glob_with(&full, glob_options()) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.is_file() {
                out.insert(crate::context::relative_display(root, &entry));
            }
        }
    }
    out
}

/// Normalise `a/./b/../c` → `a/c`, for paths built from a prefix and a `../` reference.
fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn run(ctx: &Context) -> Result<CheckOutcome, CheckError> {
    let Some(config) = &ctx.config.checks.compat else {
        return Ok(CheckOutcome::skip(
            "not configured: list schema files under checks.compat (openapi, jsonschema, proto, avro)",
        ));
    };
    let selected: Vec<(Format, Vec<glob::Pattern>)> = Format::ALL
        .iter()
        .map(|f| patterns(*f, config).map(|p| (*f, p)))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|(_, p)| !p.is_empty())
        .collect();
    if selected.is_empty() && config.database.is_none() {
        return Ok(CheckOutcome::skip(
            "checks.compat lists no schema files (openapi, jsonschema, proto, avro) and no database section",
        ));
    }
    let Some(repo) = ctx.repo.clone() else {
        return Err(CheckError(format!(
            "{} is not inside a git repository: compat reads the deployed version of each schema from git",
            ctx.root.display()
        )));
    };
    let Some(base) = ctx.base.clone() else {
        return Err(CheckError(
            "no deployed version to compare with: pass --base <ref> (the git ref production runs), or set `base:` in gonogo.yaml or GONOGO_BASE, or tag the deployed commit".to_string(),
        ));
    };
    if !repo.resolves(&base) {
        let why = repo.missing_ref_hint();
        return Err(CheckError(format!(
            "base `{base}` is not a commit in this repository: {why}"
        )));
    }
    let prefix = repo.prefix_of(&ctx.root);
    let under_root = |path: &str| path.strip_prefix(prefix.as_str()).map(str::to_string);
    let old_in_repo: std::collections::HashSet<String> = repo
        .files_at_ref(&base)
        .map_err(|e| CheckError(format!("cannot list the files of {base}: {e}")))?
        .into_iter()
        .collect();
    let old_files: BTreeSet<String> = old_in_repo.iter().filter_map(|p| under_root(p)).collect();
    // Renames only matter for the schema files, so git compares only those: rename detection
    // reads every blob it compares, and an unreadable blob elsewhere (a partial clone, a file
    // too large to fetch) has nothing to do with this check. The database side reads the
    // migrations through `ctx.migration_sets()` and the deployed code by path, never by rename.
    let schema_pathspecs: Vec<String> = selected
        .iter()
        .flat_map(|(_, patterns)| patterns.iter())
        .map(|pattern| {
            format!(
                ":(glob){}{}",
                glob::Pattern::escape(&prefix),
                pattern.as_str()
            )
        })
        .collect();
    let renames: BTreeMap<String, String> = repo
        .renames_since(&base, &schema_pathspecs)
        .map_err(|e| CheckError(format!("cannot list the files renamed since {base}: {e}")))?
        .iter()
        .filter_map(|(old, new)| Some((under_root(old)?, under_root(new)?)))
        .collect();

    let root = ctx.root.clone();
    // The schema files at the base, read by one git process. A proto import is looked for
    // under several roots: a path is asked of git only when the base's listing has it (two
    // git processes per lookup made a 38-file proto tree take 550 processes, ~3 s on a
    // loaded machine).
    let old_schemas: std::collections::HashMap<String, Vec<u8>> = {
        let in_repo: Vec<String> = old_files
            .iter()
            .filter(|p| {
                selected
                    .iter()
                    .any(|(_, patterns)| matches_any(patterns, p))
            })
            .map(|p| format!("{prefix}{p}"))
            .collect();
        repo.files_at(&base, &in_repo)
            .map_err(|e| CheckError(format!("cannot read the schema files of {base}: {e}")))?
            .into_iter()
            .collect()
    };
    let old_version = {
        let (repo, base, prefix) = (repo.clone(), base.clone(), prefix.clone());
        Version::new(base.clone(), move |path| {
            let Some(in_repo) = normalise(&format!("{prefix}{path}")) else {
                return Ok(None);
            };
            if !old_in_repo.contains(&in_repo) {
                return Ok(None);
            }
            let bytes = match old_schemas.get(&in_repo) {
                Some(bytes) => Some(bytes.clone()),
                None => repo.file_at(&base, &in_repo)?,
            };
            match bytes {
                Some(bytes) => String::from_utf8(bytes)
                    .map(Some)
                    .map_err(|_| format!("{path} is not UTF-8 text")),
                None => Ok(None),
            }
        })
    };
    let new_version = {
        let root = root.clone();
        Version::new("working tree", move |path| {
            match std::fs::read(root.join(path)) {
                Ok(bytes) => String::from_utf8(bytes)
                    .map(Some)
                    .map_err(|_| format!("{path} is not UTF-8 text")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => Ok(None),
                Err(e) => Err(format!("cannot read {path}: {e}")),
            }
        })
    };

    let mut tally = Tally::default();
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    for (format, patterns) in &selected {
        let old_matched: BTreeSet<String> = old_files
            .iter()
            .filter(|p| matches_any(patterns, p))
            .cloned()
            .collect();
        let new_matched = working_tree_files(&root, patterns);
        let pairing = pair_files(&old_matched, &new_matched, &renames, &|p| {
            root.join(p).is_file()
        });
        for path in &pairing.removed {
            findings.push(breaking(
                &SCHEMA_FILE_REMOVED,
                format!("{path} ({}) was removed since {base}", format.key()),
                Breaks::Both,
                format.flow(),
                Location::file(path),
            ));
            tally.touched.insert(path.clone());
        }
        tally.added += pairing.added.len();
        let comparison = compare(*format, &pairing.pairs, &old_version, &new_version, config);
        for pair in &pairing.pairs {
            tally.compared.insert(pair.new_path.clone());
            let same = old_version.read(&pair.old_path).ok().flatten()
                == new_version.read(&pair.new_path).ok().flatten();
            if same {
                tally.unchanged += 1;
            }
        }
        findings.extend(comparison.findings);
        errors.extend(comparison.errors);
    }
    if let Some(section) = &config.database {
        match database::check(ctx, section, &repo, &base, &prefix, &old_files) {
            Ok(database) => {
                findings.extend(database.findings);
                tally.database = Some(database.summary);
            }
            Err(CheckError(reason)) => tally.database_error = Some(reason),
        }
    }
    Ok(outcome(findings, errors, &tally))
}

fn compare(
    format: Format,
    pairs: &[Pair],
    old: &Version,
    new: &Version,
    config: &CompatConfig,
) -> Comparison {
    if pairs.is_empty() {
        return Comparison::default();
    }
    match format {
        Format::OpenApi => openapi::compare(pairs, old, new),
        Format::JsonSchema => jsonschema::compare(pairs, old, new),
        Format::Proto => proto::compare(pairs, old, new, config.proto_level.unwrap_or_default()),
        Format::Avro => avro::compare(pairs, old, new),
    }
}

/// What the summary counts.
#[derive(Debug, Default)]
pub struct Tally {
    /// New paths of compared files.
    pub compared: BTreeSet<String>,
    /// Compared files whose text did not change.
    pub unchanged: usize,
    /// Files only in the working tree.
    pub added: usize,
    /// Removed files (they have findings).
    pub touched: BTreeSet<String>,
    /// What the database side checked, when it ran.
    pub database: Option<String>,
    /// Why the database side could not decide.
    pub database_error: Option<String>,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The check's result from the comparers' findings and errors. Pure.
pub fn outcome(
    mut findings: Vec<Finding>,
    mut errors: Vec<SchemaError>,
    tally: &Tally,
) -> CheckOutcome {
    findings.sort_by(|a, b| {
        (&a.location, &a.rule, &a.message).cmp(&(&b.location, &b.rule, &b.message))
    });
    findings.dedup();
    errors.sort_by(|a, b| (&a.location, &a.message).cmp(&(&b.location, &b.message)));
    errors.dedup();
    let mut per_file: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for finding in &findings {
        let path = finding
            .location
            .as_ref()
            .map_or_else(String::new, |l| l.path.clone());
        let counts = per_file.entry(path).or_default();
        match finding.severity {
            Severity::Fail => counts.0 += 1,
            Severity::Warn => counts.1 += 1,
            Severity::Info => {}
        }
    }
    let mut parts: Vec<String> = per_file
        .iter()
        .filter(|(_, (fail, warn))| fail + warn > 0)
        .map(|(path, (fail, warn))| {
            let mut counts = Vec::new();
            if *fail > 0 {
                counts.push(plural(*fail, "breaking change", "breaking changes"));
            }
            if *warn > 0 {
                counts.push(plural(*warn, "warning", "warnings"));
            }
            format!("{} in {path}", counts.join(" and "))
        })
        .collect();
    let loud: BTreeSet<&String> = per_file
        .iter()
        .filter(|(_, (f, w))| f + w > 0)
        .map(|(p, _)| p)
        .collect();
    let compatible = tally.compared.iter().filter(|p| !loud.contains(p)).count();
    let mut rest = Vec::new();
    if compatible > 0 {
        let mut text = plural(
            compatible,
            "schema file compatible",
            "schema files compatible",
        );
        if tally.unchanged > 0 {
            text.push_str(&format!(" ({} unchanged)", tally.unchanged.min(compatible)));
        }
        rest.push(text);
    }
    if tally.added > 0 {
        rest.push(plural(tally.added, "new schema file", "new schema files"));
    }
    let no_files = tally.compared.is_empty() && tally.touched.is_empty() && tally.added == 0;
    if no_files && tally.database.is_none() && tally.database_error.is_none() {
        return CheckOutcome::skip("no file matched the checks.compat globs, at the base or now");
    }
    if !rest.is_empty() {
        parts.push(rest.join(", "));
    }
    if let Some(database) = &tally.database {
        parts.push(database.clone());
    }
    let summary = parts.join("; ");
    if let Some(reason) = &tally.database_error {
        let summary = if summary.is_empty() {
            String::new()
        } else {
            format!("; {summary}")
        };
        return CheckOutcome {
            status: Some(Status::Error),
            summary: format!("database: {reason}{summary}"),
            findings,
        };
    }
    match errors.first() {
        Some(first) => {
            let more = match errors.len() {
                1 => String::new(),
                n => format!(
                    " (and {} more)",
                    plural(n - 1, "unreadable schema", "unreadable schemas")
                ),
            };
            CheckOutcome {
                status: Some(Status::Error),
                summary: format!("cannot read {first}{more}; {summary}"),
                findings,
            }
        }
        None => CheckOutcome::findings(summary, findings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pairing_follows_renames_and_reports_removals() {
        let old = set(&["api/a.yaml", "api/b.yaml", "api/c.yaml"]);
        let new = set(&["api/a.yaml", "api/b2.yaml", "api/d.yaml"]);
        let renames = BTreeMap::from([("api/b.yaml".to_string(), "api/b2.yaml".to_string())]);
        let now = set(&["api/a.yaml", "api/b2.yaml", "api/d.yaml"]);
        let pairing = pair_files(&old, &new, &renames, &|p| now.contains(p));
        assert_eq!(
            pairing.pairs,
            vec![
                Pair::same("api/a.yaml"),
                Pair {
                    old_path: "api/b.yaml".into(),
                    new_path: "api/b2.yaml".into()
                }
            ]
        );
        assert_eq!(pairing.removed, vec!["api/c.yaml"]);
        assert_eq!(pairing.added, vec!["api/d.yaml"]);
    }

    #[test]
    fn globs_keep_star_within_a_directory() {
        let patterns = vec![glob::Pattern::new("schemas/*.json").unwrap()];
        assert!(matches_any(&patterns, "schemas/a.json"));
        assert!(!matches_any(&patterns, "schemas/x/a.json"));
        let deep = vec![glob::Pattern::new("proto/**/*.proto").unwrap()];
        assert!(matches_any(&deep, "proto/a/b/c.proto"));
        assert!(matches_any(&deep, "proto/c.proto"));
    }

    #[test]
    fn summary_names_files_and_errors_keep_findings() {
        let tally = Tally {
            compared: set(&["api/openapi.yaml", "s/a.json", "s/b.json"]),
            unchanged: 2,
            added: 1,
            ..Tally::default()
        };
        let finding = SCHEMA_FILE_REMOVED
            .finding("x")
            .at(Location::new("api/openapi.yaml", 3, 1));
        let out = outcome(vec![finding.clone(), finding], Vec::new(), &tally);
        assert_eq!(
            out.summary,
            "1 breaking change in api/openapi.yaml; 2 schema files compatible (2 unchanged), 1 new schema file"
        );
        assert_eq!(out.findings.len(), 1, "duplicates dropped");
        let error = SchemaError::new(Location::new("s/a.json", 2, 5), "not valid YAML or JSON");
        let out = outcome(Vec::new(), vec![error], &tally);
        assert_eq!(out.status, Some(Status::Error));
        assert!(
            out.summary
                .starts_with("cannot read s/a.json:2:5: not valid YAML or JSON; "),
            "{}",
            out.summary
        );
    }

    #[test]
    fn normalise_refuses_to_leave_the_repository() {
        assert_eq!(normalise("a/b/../c.yaml").as_deref(), Some("a/c.yaml"));
        assert_eq!(normalise("../x.yaml"), None);
    }
}
