//! `gonogo check --only migrations --format json` for the live migration tests: the run and
//! the migrations check's findings by rule.

use super::{gonogo, run};
use serde_json::Value;

pub struct Checked {
    pub code: i32,
    pub json: Value,
    pub stdout: String,
    pub stderr: String,
}

pub fn check(dir: &std::path::Path, env: &[(&str, String)], extra: &[&str]) -> Checked {
    let mut command = gonogo();
    command
        .arg("check")
        .arg(dir)
        .args(["--format", "json", "--only", "migrations"])
        .args(extra);
    for (name, value) in env {
        command.env(name, value);
    }
    let out = run(&mut command);
    let json = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("json: {e}\n{}\n{}", out.stdout, out.stderr));
    Checked {
        code: out.code,
        json,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

pub fn migrations(json: &Value) -> &Value {
    &json["checks"][0]
}

pub fn findings<'a>(json: &'a Value, rule: &str) -> Vec<&'a Value> {
    migrations(json)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}
