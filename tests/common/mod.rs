//! Helpers shared by the end-to-end tests: run the built binary, build throwaway projects, mask
//! what changes between runs (timings, timestamps, the commit) so snapshots are stable.

pub mod compat;
pub mod corpus;
pub mod fixtures;
pub mod migrations_json;
pub mod pg;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The pinned "today" of every test: waiver expiry and the freeze-calendar plugin depend on it.
pub const TODAY: &str = "2026-11-23";

/// Every file under `dir`, recursively, in sorted order (so tests that walk a tree are
/// deterministic); an unreadable `dir` gives nothing.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `.yaml` and `.yml` files under `dir`, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect()
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn shop() -> PathBuf {
    repo_root().join("examples/shop")
}

/// The gonogo binary with a clean, reproducible environment.
pub fn gonogo() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gonogo"));
    command
        .env("GONOGO_TODAY", TODAY)
        .env_remove("NO_COLOR")
        .env_remove("GONOGO_BASE")
        .env_remove("COLUMNS")
        .env_remove("GITHUB_ACTIONS");
    command
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(command: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("the gonogo binary runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

/// `gonogo check <dir> --only <check> --format json <extra…>`: the run and that check's result
/// from the JSON report (panics, with both streams, when there is no report).
pub fn check_only(dir: &Path, check: &str, extra: &[&str]) -> (Run, serde_json::Value) {
    let out = run(gonogo()
        .arg("check")
        .arg(dir)
        .args(["--only", check, "--format", "json"])
        .args(extra));
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON report expected ({e}): stdout {} stderr {}",
            out.stdout, out.stderr
        )
    });
    let result = report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["id"] == check))
        .unwrap_or_else(|| panic!("a {check} result in {report}"))
        .clone();
    (out, result)
}

/// The findings of one rule in a check's JSON result.
pub fn findings<'a>(check: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    check["findings"]
        .as_array()
        .expect("a findings list")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// A project directory in a temp dir, with files written from (path, content) pairs.
pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, content) in files {
        write(dir.path(), path, content);
    }
    dir
}

pub fn write(root: &Path, path: &str, content: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(&full, content).unwrap();
    if path.ends_with(".sh") {
        make_executable(&full);
    }
}

pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    permissions.set_mode(0o755);
    std::fs::set_permissions(path, permissions).unwrap();
}

/// Replace what legitimately changes between runs: durations, timestamps and the commit hash.
pub fn mask(text: &str, head: Option<&str>) -> String {
    let mut out = text.to_string();
    if let Some(head) = head {
        out = out.replace(head, "[HEAD]");
    }
    out = mask_after(&out, "\"duration_ms\": ", |c| c.is_ascii_digit(), "[MS]");
    out = mask_after(&out, "\"started_at\": \"", |c| c != '"', "[TIME]");
    out = mask_after(&out, "time=\"", |c| c != '"', "[SECS]");
    out = mask_after(&out, "timestamp=\"", |c| c != '"', "[TIME]");
    mask_human_durations(&out)
}

fn mask_after(text: &str, prefix: &str, keep: impl Fn(char) -> bool, replacement: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find(prefix) {
        out.push_str(&rest[..index + prefix.len()]);
        rest = &rest[index + prefix.len()..];
        let end = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
        out.push_str(replacement);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// "12 ms", "1.2 s", "14 s" → "[T]", padded so table columns keep their width stable.
fn mask_human_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_number =
            chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_alphanumeric());
        if starts_number {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            let unit_ms = chars[j..].starts_with(&[' ', 'm', 's']);
            let unit_s = chars[j..].starts_with(&[' ', 's']);
            let after = |len: usize| chars.get(j + len).is_none_or(|c| !c.is_alphanumeric());
            if unit_ms && after(3) {
                out.push_str("[T]");
                i = j + 3;
                continue;
            }
            if unit_s && after(2) {
                out.push_str("[T]");
                i = j + 2;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The head commit as gonogo reports it, read from a JSON report.
pub fn head_of(json: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    value["head"].as_str().map(str::to_string)
}

/// Table borders and padding follow the widest cell, and a duration's width varies from run to
/// run: squash runs of spaces and rule characters so table snapshots compare the content.
pub fn squash_table(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous: Option<char> = None;
    for c in text.chars() {
        let squashable = matches!(c, ' ' | '─' | '═' | '┄' | '╌');
        if squashable && previous == Some(c) {
            continue;
        }
        out.push(c);
        previous = Some(c);
    }
    out
}

/// Run git in `dir` with a fixed identity (tests build real repositories in temp dirs).
pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .status()
        .expect("git is installed (scripts/install-deps installs it)");
    assert!(status.success(), "git {args:?}");
}

/// A project whose config declares the given plugins (name, script body, extra YAML keys).
pub fn plugin_project(plugins: &[(&str, &str, &str)]) -> tempfile::TempDir {
    let mut config = String::from("checks:\n  plugins:\n");
    let dir = project(&[]);
    for (name, body, extra) in plugins {
        write(
            dir.path(),
            &format!("checks/{name}.sh"),
            &format!("#!/bin/sh\n{body}\n"),
        );
        config.push_str(&format!(
            "    - {{name: {name}, run: [\"checks/{name}.sh\"]{extra}}}\n"
        ));
    }
    write(dir.path(), "gonogo.yaml", &config);
    dir
}

/// `gonogo check <dir> --only rollout --format json` with its standard input, output and errors
/// piped, for tests that feed a manifest stream on stdin (`manifests: ["-"]`).
pub fn spawn_rollout_reading_stdin(dir: &Path) -> std::process::Child {
    use std::process::Stdio;
    gonogo()
        .arg("check")
        .arg(dir)
        .args(["--only", "rollout", "--format", "json", "--deadline", "10m"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the gonogo binary runs")
}

/// A test whose input (the shared corpus, an installed server) is missing: a failure when the
/// environment variable `require` is set (CI, scripts/test), otherwise one line on stderr,
/// `<not_run> <test>: <why>`, which scripts/test counts — never a silent pass.
pub fn missing_input(require: &str, not_run: &str, required_message: &str, why: &str) {
    let required = std::env::var_os(require).is_some_and(|v| !v.is_empty() && v != "0");
    assert!(!required, "{require} is set, but {required_message}");
    // Straight to the process's stderr, past the test harness's output capture (which only takes
    // print!/eprint!), so a passing run still shows which test did not run and why.
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!("{not_run} {test}: {why}\n"),
    );
}
