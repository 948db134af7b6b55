//! docs/gonogo.schema.json, the JSON Schema editors use to complete and validate gonogo.yaml
//! (the YAML language server: `# yaml-language-server: $schema=…`), kept in step with the config
//! types: every mapping the schema closes (`additionalProperties: false`) lists exactly the keys
//! gonogo accepts there, which gonogo itself names when given an unknown key. When a config type
//! gains a key, this test names it and the place in the schema to add it. The bundled example
//! and every documented gonogo.yaml example validate against the schema.

use crate::common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;

fn schema() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("docs/gonogo.schema.json")).unwrap(),
    )
    .expect("docs/gonogo.schema.json is JSON")
}

/// One step from a mapping to a nested one: a key, or "an item of this list".
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Item,
}

/// Every closed mapping of the schema, with the path to it; `$ref`s into `definitions` and
/// each `anyOf` branch are followed (`checks.migrations` is one set or a list of them).
fn closed_mappings(
    root: &Value,
    node: &Value,
    path: Vec<Step>,
    out: &mut Vec<(Vec<Step>, BTreeSet<String>)>,
) {
    if let Some(name) = node["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/definitions/"))
    {
        closed_mappings(root, &root["definitions"][name], path, out);
        return;
    }
    for branch in node["anyOf"].as_array().into_iter().flatten() {
        closed_mappings(root, branch, path.clone(), out);
    }
    if let Some(properties) = node["properties"].as_object() {
        if node["additionalProperties"] == false {
            out.push((path.clone(), properties.keys().cloned().collect()));
        }
        for (key, child) in properties {
            let mut child_path = path.clone();
            child_path.push(Step::Key(key.clone()));
            closed_mappings(root, child, child_path, out);
        }
    }
    if node["items"].is_object() {
        let mut item_path = path;
        item_path.push(Step::Item);
        closed_mappings(root, &node["items"], item_path, out);
    }
}

/// A config with the key `zz_not_a_key` first in the mapping at `path` (first, so serde meets it
/// before it could miss a required key).
fn config_with_unknown_key(path: &[Step]) -> String {
    let mut yaml = "{zz_not_a_key: 1}".to_string();
    for step in path.iter().rev() {
        yaml = match step {
            Step::Key(key) => format!("{{{key}: {yaml}}}"),
            Step::Item => format!("[{yaml}]"),
        };
    }
    yaml + "\n"
}

/// The keys gonogo accepts where it met the unknown one, from its message.
fn accepted_keys(stderr: &str) -> BTreeSet<String> {
    if stderr.contains("this mapping takes no keys") {
        return BTreeSet::new();
    }
    let list = stderr
        .split("(valid keys here: ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no list of valid keys in: {stderr}"));
    list.split(", ").map(str::to_string).collect()
}

#[test]
fn schema_lists_exactly_the_keys_gonogo_accepts() {
    let mut mappings = Vec::new();
    let schema = schema();
    closed_mappings(&schema, &schema, Vec::new(), &mut mappings);
    assert!(mappings.len() >= 15, "{} closed mappings", mappings.len());
    let dir = tempfile::tempdir().unwrap();
    let mut drift = Vec::new();
    for (path, in_schema) in mappings {
        let config = dir.path().join("gonogo.yaml");
        std::fs::write(&config, config_with_unknown_key(&path)).unwrap();
        let run = run(gonogo()
            .arg("check")
            .arg(dir.path())
            .arg("--config")
            .arg(&config));
        assert_eq!(run.code, 2, "{path:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("unknown key `zz_not_a_key`"),
            "{path:?}: {}",
            run.stderr
        );
        let accepted = accepted_keys(&run.stderr);
        let place: Vec<String> = path
            .iter()
            .map(|s| match s {
                Step::Key(k) => k.clone(),
                Step::Item => "[]".to_string(),
            })
            .collect();
        for key in accepted.difference(&in_schema) {
            drift.push(format!(
                "{}: `{key}` is accepted but missing from the schema",
                place.join(".")
            ));
        }
        for key in in_schema.difference(&accepted) {
            drift.push(format!(
                "{}: `{key}` is in the schema but not accepted",
                place.join(".")
            ));
        }
    }
    assert!(
        drift.is_empty(),
        "docs/gonogo.schema.json is out of step with the config types:\n{}",
        drift.join("\n")
    );
}

/// A YAML text as the JSON value the YAML language server validates.
fn yaml_to_json(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The ```yaml blocks of a markdown file that are whole gonogo configs (start with a top-level
/// key of the config).
fn config_examples(markdown: &str) -> Vec<String> {
    let top_level = [
        "service:",
        "base:",
        "deadline:",
        "checks:",
        "waivers:",
        "docs_url:",
    ];
    markdown
        .split("```yaml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .filter(|block| {
            block
                .lines()
                .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .is_some_and(|first| top_level.iter().any(|k| first.starts_with(k)))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn the_example_and_documented_configs_validate() {
    let validator = jsonschema::options()
        .build(&schema())
        .expect("docs/gonogo.schema.json is a valid JSON Schema");
    let mut configs = vec![(
        "examples/shop/gonogo.yaml".to_string(),
        std::fs::read_to_string(shop().join("gonogo.yaml")).unwrap(),
    )];
    for doc in ["README.md", "docs/config.md"] {
        let text = std::fs::read_to_string(repo_root().join(doc)).unwrap();
        for (index, example) in config_examples(&text).into_iter().enumerate() {
            configs.push((format!("{doc} example {}", index + 1), example));
        }
    }
    assert!(
        configs.len() >= 2,
        "documented examples found: {}",
        configs.len()
    );
    for (name, text) in configs {
        let value = yaml_to_json(&text);
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name} does not validate: {errors:#?}");
    }
}

#[test]
fn the_schema_rejects_what_gonogo_rejects() {
    let validator = jsonschema::options().build(&schema()).unwrap();
    for bad in [
        "checks: {migrations: {dialect: oracle}}\n",
        "checks: {rollback: {target_seconds: 0}}\n",
        "checks: {dns: {phase: during}}\n",
        "deadline: 120\n",
        "waivers: [{rule: migrations/x, reason: \"\"}]\n",
        "chekcs: {}\n",
    ] {
        assert!(
            !validator.is_valid(&yaml_to_json(bad)),
            "schema accepts {bad}"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gonogo.yaml"), bad).unwrap();
        let run = run(gonogo().arg("check").arg(dir.path()));
        assert_eq!(run.code, 2, "gonogo accepts {bad}: {}", run.stderr);
    }
}
