//! End to end: real git repositories in temp dirs, an old version committed and tagged `v1`,
//! the working tree changed, `gonogo check --base v1 --format json` run as a user would.

use crate::common;

use common::{Run, git, gonogo, project, run, write};
use serde_json::Value;
use std::path::Path;

const CONFIG: &str =
    "checks:\n  compat:\n    openapi: [\"api/*.yaml\"]\n    jsonschema: [\"schemas/**/*.json\"]\n";

const SPEC: &str = "openapi: 3.0.3
info: {title: shop, version: \"1\"}
paths:
  /orders/{id}:
    get:
      responses:
        \"200\":
          description: the order
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: string}
                  total: {type: integer}
";

/// A different spec: git must not mistake it for a rename of the other.
const ADMIN: &str = "openapi: 3.0.3\ninfo: {title: admin, version: \"1\"}\npaths:\n  /users:\n    delete:\n      responses:\n        \"204\": {description: gone}\n";

const EVENT: &str = "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"kind\": {\"enum\": [\"created\", \"paid\"]}\n  }\n}\n";

/// A repository whose first commit (tagged `v1` unless `tag` is false) holds `files`.
fn repo_with(files: &[(&str, &str)], tag: bool) -> tempfile::TempDir {
    let dir = project(files);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "v1"]);
    if tag {
        git(dir.path(), &["tag", "v1"]);
    }
    dir
}

fn check(dir: &Path, extra: &[&str]) -> (Run, Value) {
    common::check_only(dir, "compat", extra)
}

fn rules(compat: &Value) -> Vec<String> {
    compat["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

fn finding<'a>(compat: &'a Value, rule: &str) -> &'a Value {
    compat["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {compat:#}"))
}

#[test]
fn a_breaking_change_since_the_tag_fails_with_direction_and_location() {
    let dir = repo_with(
        &[
            ("gonogo.yaml", CONFIG),
            ("api/openapi.yaml", SPEC),
            ("schemas/event.json", EVENT),
        ],
        true,
    );
    write(
        dir.path(),
        "api/openapi.yaml",
        &SPEC.replace("                  total: {type: integer}\n", ""),
    );
    write(
        dir.path(),
        "schemas/event.json",
        &EVENT.replace("\"paid\"", "\"paid\", \"refunded\""),
    );
    write(dir.path(), "schemas/new.json", "{\"type\": \"string\"}\n");
    let (out, compat) = check(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(compat["status"], "fail");
    let removed = finding(&compat, "compat/property-removed");
    assert_eq!(removed["location"]["path"], "api/openapi.yaml");
    assert_eq!(
        removed["location"]["line"], 15,
        "the removed line, in the old file"
    );
    assert!(removed["message"].as_str().unwrap().contains(
        "GET /orders/{id} response 200: property `total` removed: clients that are not updated yet cannot read responses from updated pods"
    ));
    let added = finding(&compat, "compat/enum-value-added");
    assert_eq!(added["location"]["path"], "schemas/event.json");
    assert!(
        added["message"]
            .as_str()
            .unwrap()
            .contains("old consumers cannot read events the new version publishes")
    );
    assert_eq!(
        compat["summary"],
        "1 breaking change in api/openapi.yaml; 1 breaking change in schemas/event.json; 1 new schema file"
    );

    // The default base is the newest tag.
    let (_, by_tag) = check(dir.path(), &[]);
    assert_eq!(by_tag["status"], "fail");
}

#[test]
fn an_unchanged_spec_passes() {
    let dir = repo_with(&[("gonogo.yaml", CONFIG), ("api/openapi.yaml", SPEC)], true);
    let (out, compat) = check(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 0, "{compat:#}");
    assert_eq!(compat["status"], "pass");
    assert_eq!(compat["summary"], "1 schema file compatible (1 unchanged)");
}

#[test]
fn a_renamed_spec_is_followed_and_a_deleted_one_fails() {
    let dir = repo_with(
        &[
            ("gonogo.yaml", CONFIG),
            ("api/openapi.yaml", SPEC),
            ("api/admin.yaml", ADMIN),
        ],
        true,
    );
    git(dir.path(), &["mv", "api/openapi.yaml", "api/orders.yaml"]);
    write(
        dir.path(),
        "api/orders.yaml",
        &SPEC.replace("total: {type: integer}", "total: {type: string}"),
    );
    std::fs::remove_file(dir.path().join("api/admin.yaml")).unwrap();
    let (_, compat) = check(dir.path(), &["--base", "v1"]);
    let mut found = rules(&compat);
    found.sort();
    assert_eq!(
        found,
        ["compat/schema-file-removed", "compat/type-changed"],
        "{compat:#}"
    );
    assert_eq!(
        finding(&compat, "compat/type-changed")["location"]["path"],
        "api/orders.yaml"
    );
    let removed = finding(&compat, "compat/schema-file-removed");
    assert_eq!(removed["location"]["path"], "api/admin.yaml");
    assert!(
        removed["message"]
            .as_str()
            .unwrap()
            .contains(", and old pods will reject requests from updated clients")
    );
}

#[test]
fn without_a_base_or_a_tag_the_check_says_how_to_pass_one() {
    let dir = repo_with(
        &[("gonogo.yaml", CONFIG), ("api/openapi.yaml", SPEC)],
        false,
    );
    let (out, compat) = check(dir.path(), &[]);
    assert_eq!(out.code, 1);
    assert_eq!(compat["status"], "error");
    let summary = compat["summary"].as_str().unwrap();
    assert!(
        summary.contains("--base <ref>")
            && summary.contains("GONOGO_BASE")
            && summary.contains("`base:`"),
        "{summary}"
    );
}

#[test]
fn a_base_that_does_not_exist_is_named() {
    let dir = repo_with(&[("gonogo.yaml", CONFIG), ("api/openapi.yaml", SPEC)], true);
    let out = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--only", "compat", "--base", "v9.9.9"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("base `v9.9.9` is not a commit"),
        "{}",
        out.stderr
    );
}

#[test]
fn outside_a_git_repository_the_check_says_so() {
    let dir = project(&[("gonogo.yaml", CONFIG), ("api/openapi.yaml", SPEC)]);
    let (_, compat) = check(dir.path(), &[]);
    assert_eq!(compat["status"], "error");
    assert!(
        compat["summary"]
            .as_str()
            .unwrap()
            .contains("is not inside a git repository"),
        "{compat:#}"
    );
}

#[test]
fn an_unparseable_spec_is_an_error_naming_file_line_and_column() {
    let dir = repo_with(
        &[
            ("gonogo.yaml", CONFIG),
            ("api/openapi.yaml", SPEC),
            ("schemas/event.json", EVENT),
        ],
        true,
    );
    write(
        dir.path(),
        "api/openapi.yaml",
        "openapi: 3.0.3\npaths:\n  /a: [\n",
    );
    write(
        dir.path(),
        "schemas/event.json",
        &EVENT.replace("\"paid\"", "\"paid\", \"refunded\""),
    );
    let (out, compat) = check(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 1);
    assert_eq!(compat["status"], "error");
    let summary = compat["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("cannot read api/openapi.yaml:"),
        "{summary}"
    );
    assert!(summary.contains("(working tree)"), "{summary}");
    assert_eq!(
        rules(&compat),
        ["compat/enum-value-added"],
        "the other files' findings stay"
    );
}

#[test]
fn waivers_in_the_config_apply_to_compat_findings() {
    let config = format!(
        "{CONFIG}waivers:\n  - {{rule: compat/property-removed, path: api/openapi.yaml, reason: \"no client reads total\"}}\n"
    );
    let dir = repo_with(
        &[("gonogo.yaml", &config), ("api/openapi.yaml", SPEC)],
        true,
    );
    write(
        dir.path(),
        "api/openapi.yaml",
        &SPEC.replace("                  total: {type: integer}\n", ""),
    );
    let (out, compat) = check(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 0, "{compat:#}");
    assert_eq!(compat["status"], "pass");
    let waived = finding(&compat, "compat/property-removed");
    assert_eq!(waived["waived"]["reason"], "no client reads total");
}

#[test]
fn a_project_below_the_repository_top_reports_paths_from_its_root() {
    let dir = repo_with(
        &[
            ("services/shop/gonogo.yaml", CONFIG),
            ("services/shop/api/openapi.yaml", SPEC),
        ],
        true,
    );
    let root = dir.path().join("services/shop");
    write(
        &root,
        "api/openapi.yaml",
        &SPEC.replace("{type: integer}", "{type: integer, nullable: true}"),
    );
    let (_, compat) = check(&root, &["--base", "v1"]);
    assert_eq!(rules(&compat), ["compat/type-changed"], "{compat:#}");
    assert_eq!(
        finding(&compat, "compat/type-changed")["location"]["path"],
        "api/openapi.yaml"
    );
}

#[test]
fn explain_prints_a_compat_rule_and_the_check() {
    let out = run(gonogo().args(["explain", "compat/property-removed"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    for heading in [
        "What it catches",
        "Why it matters during a deploy",
        "Example",
        "Do this instead",
    ] {
        assert!(out.stdout.contains(heading), "{}", out.stdout);
    }
    let out = run(gonogo().args(["explain", "compat"]));
    assert!(
        out.stdout.contains("--base <ref>") || out.stdout.contains("base ref"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("compat/openapi-endpoint-removed"),
        "{}",
        out.stdout
    );
}
