//! `gonogo init`: write a commented gonogo.yaml from what is found in the repository.
//!
//! Discovery is by content, not only by name: a YAML file is a Kubernetes manifest when it has
//! `apiVersion:` and `kind:`, an API spec when it starts with `openapi:`/`swagger:`.

mod migrations;

use crate::commands::UsageError;
pub use migrations::ProposedSet;
use migrations::{discover_migrations, render_migrations};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Directories that never hold a project's own migrations, manifests or schemas: build
/// output and dependency caches, left out without a word.
const SKIP_DIRS: &[&str] = &[
    ".git",
    "target",
    "node_modules",
    ".venv",
    "venv",
    "dist",
    "build",
    "__pycache__",
];

/// Directories whose files are not what this repository deploys, left out and named in the
/// config's comments with the reason: a first check must be about the deploy, and these made
/// every Kubernetes check `error` (test inputs that are invalid on purpose), compat fail on
/// duplicate `.proto` definitions (vendored copies), and migrations look new (fixtures).
const REPORTED_SKIP_DIRS: &[(&[&str], &str)] = &[
    (
        &[
            "test",
            "tests",
            "testdata",
            "test-data",
            "e2e",
            "__tests__",
            "integration-tests",
            "integrationtest",
            "integrationtests",
            // Go projects' test inputs (ory: `identity/stub/*.schema.json`).
            "stub",
            "stubs",
            "mock",
            "mocks",
        ],
        "tests and test data",
    ),
    (&["fixtures", "fixture", "__fixtures__"], "test fixtures"),
    (&["examples", "example", "samples", "sample"], "examples"),
    (&["docs", "doc"], "documentation"),
    (
        &[
            "vendor",
            "third_party",
            "third-party",
            "thirdparty",
            "external",
        ],
        "vendored copies of other projects",
    ),
];

/// Why a directory is left out, when it is one of [`REPORTED_SKIP_DIRS`].
fn reported_skip(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    REPORTED_SKIP_DIRS
        .iter()
        .find(|(names, _)| names.contains(&lower.as_str()))
        .map(|(_, why)| *why)
}
const MAX_FILES: usize = 20_000;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub migration_globs: BTreeSet<String>,
    /// The migration folders grouped by dialect: one proposed set per database.
    pub migration_sets: Vec<ProposedSet>,
    /// SQL files that are not migrations (schema dumps, test data), with why: said in a comment.
    pub migration_skipped: Vec<(String, &'static str)>,
    pub manifest_globs: BTreeSet<String>,
    pub openapi: BTreeSet<String>,
    pub proto_globs: BTreeSet<String>,
    pub avro_globs: BTreeSet<String>,
    pub jsonschema_globs: BTreeSet<String>,
    pub plugins: BTreeSet<String>,
    /// Top-level directories holding application code (`src/`, `app/`): where the deployed
    /// version's queries live, for the database side of `compat`.
    pub code_dirs: BTreeSet<String>,
    /// What was left out and why (`charts/app/templates/` → "Helm templates: …"), for the
    /// config's comments.
    pub skipped: std::collections::BTreeMap<String, String>,
}

/// Source files whose code may query the database.
const CODE_EXTENSIONS: &[&str] = &[
    ".py", ".rb", ".rs", ".go", ".java", ".kt", ".ts", ".js", ".php", ".cs", ".ex", ".scala",
];

/// Top-level directories that hold tests, tooling or documentation, not the code that runs.
const NOT_APP_CODE: &[&str] = &[
    "test",
    "tests",
    "spec",
    "docs",
    "doc",
    "scripts",
    "script",
    "bin",
    "tools",
    "examples",
    "benches",
    "checks",
    "migrations",
    "db",
    "deploy",
    "k8s",
];

/// A top-level folder named for tests (`api_tests/`, `integration-tests/`, `e2e_tests/`): the
/// deployed version's queries are not there, and a hit in it is no reason to hold a drop.
fn names_tests(folder: &str) -> bool {
    folder
        .to_ascii_lowercase()
        .split(['_', '-', '.'])
        .any(|word| matches!(word, "test" | "tests" | "e2e" | "spec" | "specs"))
}

pub fn run(dir: &Path, force: bool, to_stdout: bool) -> Result<i32, UsageError> {
    let root = dir
        .canonicalize()
        .map_err(|e| UsageError(format!("{}: {e}", dir.display())))?;
    let target = root.join("gonogo.yaml");
    if !to_stdout && target.exists() && !force {
        return Err(UsageError(format!(
            "{} already exists; use --force to overwrite it or --stdout to print a new one",
            target.display()
        )));
    }
    let (files, skipped_dirs) = list_files_and_skips(&root);
    let mut found = discover(&root, &files);
    found.skipped.extend(skipped_dirs);
    narrow_schema_globs(&mut found, &files);
    let text = render(&found);
    // What we write must load: a generated config that gonogo rejects would be a poor first step.
    crate::config::parse(&text, "gonogo.yaml")
        .map_err(|e| UsageError(format!("internal error: generated config is invalid: {e}")))?;
    if to_stdout {
        crate::commands::print_text(&text)?;
    } else {
        std::fs::write(&target, &text)
            .map_err(|e| UsageError(format!("cannot write {}: {e}", target.display())))?;
        eprintln!("gonogo: wrote {}", target.display());
    }
    Ok(0)
}

/// Files under `root`, relative, `/`-separated, sorted.
#[cfg(test)]
fn list_files(root: &Path) -> Vec<String> {
    list_files_and_skips(root).0
}

/// Files under `root`, relative, `/`-separated, sorted; and the directories left out for a
/// reason worth telling ([`REPORTED_SKIP_DIRS`]), as `dir/` → reason.
fn list_files_and_skips(root: &Path) -> (Vec<String>, Vec<(String, String)>) {
    let mut skipped = Vec::new();
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(relative) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&relative)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = relative.join(&name);
            if kind.is_dir() {
                if let Some(why) = reported_skip(&name) {
                    skipped.push((
                        format!("{}/", path.to_string_lossy().replace('\\', "/")),
                        why.to_string(),
                    ));
                } else if !SKIP_DIRS.contains(&name.as_str()) && !name.starts_with('.') {
                    stack.push(path);
                }
            } else if kind.is_file() {
                out.push(path.to_string_lossy().replace('\\', "/"));
                if out.len() >= MAX_FILES {
                    out.sort();
                    skipped.sort();
                    return (out, skipped);
                }
            }
        }
    }
    out.sort();
    skipped.sort();
    (out, skipped)
}

/// The chart a Helm template belongs to: the nearest folder above a `templates/` folder that
/// holds a `Chart.yaml` (`charts/app/templates/deployment.yaml` → `charts/app`).
fn helm_chart_of(root: &Path, path: &str) -> Option<String> {
    let (before, _) = path
        .rsplit_once("/templates/")
        .or_else(|| path.strip_prefix("templates/").map(|rest| ("", rest)))?;
    root.join(before)
        .join("Chart.yaml")
        .is_file()
        .then(|| before.to_string())
}

/// A kustomize overlay (a folder whose kustomization builds on `../` resources): its files are
/// patches, partial objects that only make sense once built.
fn kustomize_overlay(root: &Path, path: &str) -> Option<String> {
    let (dir, _) = path.rsplit_once('/')?;
    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .find_map(|name| std::fs::read_to_string(root.join(dir).join(name)).ok())
        .filter(|text| {
            // A Component holds patches only; an overlay builds on `../` resources.
            text.lines().any(|l| {
                l.trim() == "kind: Component"
                    || l.trim_start()
                        .trim_start_matches("- ")
                        .trim()
                        .starts_with("../")
            })
        })
        .map(|_| dir.to_string())
}

pub(crate) fn head_of(root: &Path, path: &str) -> String {
    use std::io::Read;
    let mut buffer = vec![0u8; 4096];
    let read = std::fs::File::open(root.join(path))
        .and_then(|mut f| f.read(&mut buffer))
        .unwrap_or(0);
    String::from_utf8_lossy(&buffer[..read]).to_string()
}

pub(crate) fn parent_glob(path: &str, pattern: &str) -> String {
    match path.rsplit_once('/') {
        Some((parent, _)) => format!("{parent}/{pattern}"),
        None => pattern.to_string(),
    }
}

fn top_glob(path: &str, pattern: &str) -> String {
    match path.split_once('/') {
        Some((top, _)) => format!("{top}/**/{pattern}"),
        None => pattern.to_string(),
    }
}

pub fn discover(root: &Path, files: &[String]) -> Found {
    let mut found = Found::default();
    let mut sql_files = Vec::new();
    for path in files {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".sql") {
            sql_files.push(path.as_str());
        } else if lower.ends_with(".proto") {
            found.proto_globs.insert(top_glob(path, "*.proto"));
        } else if lower.ends_with(".avsc") {
            found.avro_globs.insert(top_glob(path, "*.avsc"));
        } else if lower.ends_with(".schema.json") {
            found
                .jsonschema_globs
                .insert(top_glob(path, "*.schema.json"));
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json") {
            if lower.ends_with("gonogo.yaml") || lower.ends_with("gonogo.yml") {
                continue;
            }
            let head = head_of(root, path);
            let starts = |key: &str| {
                head.lines().any(|l| l.starts_with(&format!("{key}:")))
                    || head.contains(&format!("\"{key}\""))
            };
            if starts("openapi") || starts("swagger") {
                found.openapi.insert(path.clone());
            } else if starts("apiVersion") && starts("kind") {
                if let Some(chart) = helm_chart_of(root, path) {
                    let shown = if chart.is_empty() {
                        ".".to_string()
                    } else {
                        chart.clone()
                    };
                    found.skipped.insert(
                        format!("{}templates/", if chart.is_empty() { String::new() } else { format!("{chart}/") }),
                        format!("Helm templates: render them and pipe them in (`helm template {shown} | gonogo check` with `manifests: [\"-\"]`)"),
                    );
                    continue;
                }
                if head.lines().any(|l| {
                    let l = l.trim();
                    l == "kind: Kustomization"
                        || l.starts_with("apiVersion: skaffold/")
                        || l.starts_with("apiVersion: kustomize.config.k8s.io/")
                }) {
                    continue; // a tool's own config, not an object applied to the cluster
                }
                // Read it as `gonogo check` will: `{{ $labels.x }}` inside a quoted string
                // (a PrometheusRule) is fine, a template that is not YAML is not.
                let text = std::fs::read_to_string(root.join(path)).unwrap_or_default();
                let mut probe = crate::k8s::Manifests::default();
                if let Err(err) = crate::k8s::parse_stream(&mut probe, path, &text) {
                    found.skipped.insert(
                        path.clone(),
                        format!(
                            "does not read as Kubernetes manifests ({}:{}); render or fix it, then list it or pipe it in (`manifests: [\"-\"]`)",
                            err.pos.map_or(1, |p| p.line),
                            err.pos.map_or(1, |p| p.column)
                        ),
                    );
                    continue;
                }
                if let Some(dir) = kustomize_overlay(root, path) {
                    found.skipped.insert(
                        format!("{dir}/"),
                        format!("a kustomize overlay or component (patches): build it and pipe it in (`kustomize build {dir} | gonogo check` with `manifests: [\"-\"]`)"),
                    );
                    continue;
                }
                let extension = if lower.ends_with(".yml") {
                    "*.yml"
                } else {
                    "*.yaml"
                };
                found.manifest_globs.insert(parent_glob(path, extension));
            }
        } else if lower.starts_with("checks/") && (lower.ends_with(".sh") || lower.ends_with(".py"))
        {
            found.plugins.insert(path.clone());
        }
        if CODE_EXTENSIONS.iter().any(|e| lower.ends_with(e))
            && let Some((top, _)) = path.split_once('/')
            && !NOT_APP_CODE.contains(&top.to_ascii_lowercase().as_str())
            && !names_tests(top)
        {
            found.code_dirs.insert(format!("{top}/"));
        }
    }
    discover_migrations(root, &sql_files, &mut found);
    found
}

/// A `top/**/*.proto` glob also matches the vendored copies and test inputs under `top/` that
/// the listing left out (compat then fails on "already defined"): when a skipped folder lies
/// under `top/`, list the folders that hold the schema files instead.
fn narrow_schema_globs(found: &mut Found, files: &[String]) {
    let skipped: Vec<String> = found.skipped.keys().cloned().collect();
    for globs in [
        &mut found.proto_globs,
        &mut found.avro_globs,
        &mut found.jsonschema_globs,
    ] {
        let wide: Vec<String> = globs.iter().cloned().collect();
        for glob in wide {
            let Some((top, pattern)) = glob.split_once("/**/") else {
                continue;
            };
            let prefix = format!("{top}/");
            if !skipped.iter().any(|dir| dir.starts_with(&prefix)) {
                continue;
            }
            let suffix = pattern.trim_start_matches('*');
            globs.remove(&glob);
            for file in files
                .iter()
                .filter(|f| f.starts_with(&prefix) && f.to_ascii_lowercase().ends_with(suffix))
            {
                globs.insert(parent_glob(file, pattern));
            }
        }
    }
}

/// The config's comment on what `gonogo init` left out and why.
fn skipped_comment(found: &Found) -> String {
    if found.skipped.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "# Left out by `gonogo init` (not what this repository deploys, or not readable as it is):\n",
    );
    const SHOWN: usize = 12;
    for (path, why) in found.skipped.iter().take(SHOWN) {
        out.push_str(&format!("#   {path}: {why}\n"));
    }
    if found.skipped.len() > SHOWN {
        out.push_str(&format!("#   …and {} more\n", found.skipped.len() - SHOWN));
    }
    out.push('\n');
    out
}

pub(crate) fn yaml_list(items: &BTreeSet<String>) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

pub fn render(found: &Found) -> String {
    let mut out = String::from(
        "# gonogo.yaml — the pre-deploy checklist for this repository.\n\
         # Written by `gonogo init` from what it found; every key is optional.\n\
         # `gonogo explain <check>` tells what each check does; `gonogo list` shows every rule.\n\
         # A value `env:NAME` reads the environment variable NAME (use it for URLs with passwords).\n\n\
         # service: my-service\n\
         # base: v1.0.0                # the deployed version; usually given as --base in CI\n\
         deadline: 120s                # the whole run ends by then\n\n",
    );
    out.push_str(&skipped_comment(found));
    out.push_str("checks:\n");
    render_migrations(found, &mut out);
    let has_schemas = !(found.openapi.is_empty()
        && found.proto_globs.is_empty()
        && found.avro_globs.is_empty()
        && found.jsonschema_globs.is_empty());
    let has_database = !found.migration_globs.is_empty() && !found.code_dirs.is_empty();
    if has_schemas || has_database {
        out.push_str("  compat:\n");
        for (key, items) in [
            ("openapi", &found.openapi),
            ("proto", &found.proto_globs),
            ("avro", &found.avro_globs),
            ("jsonschema", &found.jsonschema_globs),
        ] {
            if !items.is_empty() {
                out.push_str(&format!("    {key}: {}\n", yaml_list(items)));
            }
        }
        if has_database {
            out.push_str(&format!(
                "    database:                   # this deploy's migrations against the deployed code\n      code_paths: {}\n      # markers: [\"gonogo:dropping\"]   # \"this column is going away\" comments\n",
                yaml_list(&found.code_dirs)
            ));
        }
    } else {
        out.push_str("  # compat:                     # no OpenAPI, proto, Avro or JSON Schema files found\n  #   openapi: [\"api/openapi.yaml\"]\n");
    }
    if found.manifest_globs.is_empty() {
        out.push_str("  # kubernetes:                 # no Kubernetes manifests found; \"-\" reads stdin (helm template . | gonogo check)\n  #   manifests: [\"deploy/*.yaml\"]\n");
    } else {
        out.push_str(&format!(
            "  kubernetes:\n    manifests: {}\n  # grace:\n  #   max_request_seconds: 30     # your slowest request; until set, gonogo assumes 10 s and only warns\n  #   margin_seconds: 2           # from the last request to the process's exit\n  #   lb_deregistration_seconds: 15\n  rollback:\n    target_seconds: 60            # the longest a rollback may take once decided\n    # detection_budget_seconds: 120  # the longest an automated analysis may take to decide\n",
            yaml_list(&found.manifest_globs)
        ));
    }
    // Spelled line by line: a `\` line continuation would eat the indentation, and a block
    // that is mis-indented once uncommented is a config error.
    for line in [
        "  # readiness:                  # live drill against a running instance (skipped with --offline)",
        "  #   url: http://127.0.0.1:8080/ready",
        "  #   liveness_url: http://127.0.0.1:8080/healthz",
        "  # dns:                        # record TTLs and answers around a cutover",
        "  #   phase: before-cutover       # before-cutover | after-cutover",
        "  #   max_ttl: 300s",
        "  #   records:",
        "  #     - {name: api.example.com, type: A, expect: [\"203.0.113.10\"]}",
    ] {
        out.push_str(line);
        out.push('\n');
    }
    if found.plugins.is_empty() {
        out.push_str("  # plugins:                    # any executable; protocol in checks/PROTOCOL.md\n  #   - {name: my-check, run: [\"checks/my-check.sh\"], timeout: 20s}\n");
    } else {
        out.push_str("  plugins:\n");
        for plugin in &found.plugins {
            let name = plugin
                .rsplit('/')
                .next()
                .unwrap_or(plugin)
                .split('.')
                .next()
                .unwrap_or("plugin")
                .to_ascii_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-");
            out.push_str(&format!(
                "    - {{name: {name}, run: [{plugin:?}], timeout: 20s}}\n"
            ));
        }
    }
    out.push_str(
        "\n# waivers:                      # accepted risks; each needs a reason, and may expire\n\
         #   - {rule: migrations/pg-add-index-not-concurrent, path: db/migrations/0042_idx.sql,\n\
         #      reason: \"table has 40 rows\", expires: 2026-12-31}\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_repository_gives_a_valid_commented_config() {
        let text = render(&Found::default());
        crate::config::parse(&text, "gonogo.yaml").expect("valid");
        assert!(text.contains("# migrations:"));
    }

    /// Issue 17.1: Helm templates, tests, fixtures, examples, vendored copies and kustomize
    /// overlays are left out, and the config says what and why; a proto glob does not reach
    /// into a vendored copy under the same top folder.
    #[test]
    fn leaves_out_what_is_not_deployed_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        };
        let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n";
        write("deploy/app.yaml", manifest);
        write("charts/app/Chart.yaml", "name: app\n");
        write(
            "charts/app/templates/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
        );
        write(
            "test/e2e/bad.yaml",
            "apiVersion: v1\nkind: Service\nspec: [\n",
        );
        write("internal/testdata/pod.yaml", manifest);
        write("examples/demo/app.yaml", manifest);
        write(
            "overlays/prod/kustomization.yaml",
            "resources:\n  - ../../deploy\n",
        );
        write("overlays/prod/patch.yaml", manifest);
        write("api/v1/service.proto", "syntax = \"proto3\";\n");
        write(
            "api/vendor/google/api/annotations.proto",
            "syntax = \"proto3\";\n",
        );
        let (files, skipped) = list_files_and_skips(dir.path());
        let mut found = discover(dir.path(), &files);
        found.skipped.extend(skipped);
        narrow_schema_globs(&mut found, &files);
        assert_eq!(
            found.manifest_globs,
            BTreeSet::from(["deploy/*.yaml".to_string()])
        );
        assert_eq!(
            found.proto_globs,
            BTreeSet::from(["api/v1/*.proto".to_string()])
        );
        let text = render(&found);
        crate::config::parse(&text, "gonogo.yaml").expect("valid");
        for line in [
            "#   charts/app/templates/: Helm templates: render them and pipe them in (`helm template charts/app | gonogo check` with `manifests: [\"-\"]`)",
            "#   test/: tests and test data",
            "#   internal/testdata/: tests and test data",
            "#   examples/: examples",
            "#   api/vendor/: vendored copies of other projects",
            "#   overlays/prod/: a kustomize overlay or component (patches): build it and pipe it in (`kustomize build overlays/prod | gonogo check` with `manifests: [\"-\"]`)",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
    }

    /// Each commented block, uncommented alone (`# ` removed after its indentation, as an
    /// editor's "toggle comment" does), still gives a valid config.
    fn assert_every_commented_block_is_valid(text: &str) {
        let lines: Vec<&str> = text.lines().collect();
        let key_at = |line: &str| {
            let indent = line.len() - line.trim_start().len();
            let rest = line.trim_start().strip_prefix("# ")?;
            let key = rest.split(':').next()?;
            (rest.contains(':')
                && !key.is_empty()
                && key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .then_some(indent)
        };
        let mut blocks = 0;
        for (start, line) in lines.iter().enumerate() {
            let Some(indent) = key_at(line) else { continue };
            // A block: the key line and the commented lines indented deeper under it.
            let mut end = start + 1;
            while end < lines.len() {
                let next = lines[end];
                let next_indent = next.len() - next.trim_start().len();
                let body = next.trim_start().strip_prefix('#').unwrap_or("");
                if next_indent == indent && body.starts_with("   ") {
                    end += 1;
                } else {
                    break;
                }
            }
            let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            for line in &mut edited[start..end] {
                *line = line.replacen("# ", "", 1);
            }
            let edited = edited.join("\n");
            // `env:NAME` values are read when parsed; an unset variable is the user's to set,
            // not a mistake of the block's shape.
            if let Err(e) = crate::config::parse(&edited, "gonogo.yaml")
                && !e.to_string().contains("is not set")
            {
                panic!(
                    "uncommenting `{}` gives an invalid config: {e}\n{edited}",
                    line.trim()
                );
            }
            blocks += 1;
        }
        assert!(blocks >= 5, "{blocks} blocks found in\n{text}");
    }

    #[test]
    fn every_commented_block_is_valid_once_uncommented() {
        assert_every_commented_block_is_valid(&render(&Found::default()));
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
        let found = discover(&root, &list_files(&root));
        assert_every_commented_block_is_valid(&render(&found));
    }

    #[test]
    fn discovers_the_shop_example() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
        let files = list_files(&root);
        let found = discover(&root, &files);
        assert!(found.migration_globs.contains("db/migrations/*.sql"));
        assert!(found.manifest_globs.contains("deploy/*.yaml"));
        assert!(found.openapi.contains("api/openapi.yaml"));
        assert!(found.proto_globs.contains("proto/**/*.proto"));
        assert_eq!(found.code_dirs, BTreeSet::from(["src/".to_string()]));
        let text = render(&found);
        let config = crate::config::parse(&text, "gonogo.yaml").expect("valid");
        let database = config
            .checks
            .compat
            .and_then(|c| c.database)
            .expect("a database section");
        assert_eq!(database.code_paths[0].as_str(), "src/");
    }

    #[test]
    fn one_set_per_dialect_folder_and_dumps_left_out() {
        let root = tempfile::tempdir().expect("temp dir");
        let files = [
            ("db/pg/0001_users.sql", "CREATE TABLE users (id bigint);\n"),
            (
                "db/mysql/0001_users.sql",
                "CREATE TABLE `users` (id int UNSIGNED AUTO_INCREMENT) ENGINE=InnoDB;\n",
            ),
            ("db/schema.sql", "CREATE TABLE users (id bigint);\n"),
            (
                "db/pg/testdata/0001_rows.sql",
                "INSERT INTO users VALUES (1);\n",
            ),
        ];
        for (path, text) in files {
            let full = root.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        let listed: Vec<String> = files.iter().map(|(p, _)| p.to_string()).collect();
        let found = discover(root.path(), &listed);
        let text = render(&found);
        let config = crate::config::parse(&text, "gonogo.yaml").expect("valid");
        let sets = config.checks.migrations.expect("migrations");
        assert_eq!(sets.sets.len(), 2, "{text}");
        assert_eq!(sets.sets[0].paths[0].as_str(), "db/pg/*.sql");
        assert_eq!(sets.sets[0].dialect, crate::config::Dialect::Postgres);
        assert_eq!(sets.sets[1].paths[0].as_str(), "db/mysql/*.sql");
        assert_eq!(sets.sets[1].dialect, crate::config::Dialect::Mysql);
        assert!(
            text.contains("# not a migration, left out: db/schema.sql: a full schema dump"),
            "{text}"
        );
        assert!(
            text.contains("db/pg/testdata/0001_rows.sql: tests, test data, stubs or seeds"),
            "{text}"
        );
    }
}
