//! The fixture harness every rule test shares: `fail*` files must raise the rule, `pass*` files
//! must not, and every file of a `quiet/` folder must raise nothing at warn or fail.

use gonogo::report::{Finding, Severity};
use std::path::{Path, PathBuf};

/// One line per finding, for failure messages.
pub fn describe(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "  (none)".to_string();
    }
    findings
        .iter()
        .map(|f| {
            let location = f
                .location
                .as_ref()
                .map(|l| l.to_string())
                .unwrap_or_default();
            format!("  {location} {} {}: {}", f.severity, f.rule, f.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Files of `dir` with one of `extensions`, sorted.
pub fn files_in(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| extensions.iter().any(|x| e == *x))
        })
        .collect();
    files.sort();
    files
}

/// Check `files` named `<fail_prefix>*` / `<pass_prefix>*` against `rule`; push what misbehaves
/// to `problems`; return how many fail and pass files there were.
pub fn check_rule_files(
    rule: &str,
    files: &[PathBuf],
    (fail_prefix, pass_prefix): (&str, &str),
    analyze: &dyn Fn(&Path) -> Vec<Finding>,
    problems: &mut Vec<String>,
) -> (usize, usize) {
    let (mut fails, mut passes) = (0, 0);
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        let expect_hit = if stem.starts_with(fail_prefix) {
            fails += 1;
            true
        } else if stem.starts_with(pass_prefix) {
            passes += 1;
            false
        } else {
            continue;
        };
        let findings = analyze(file);
        let hit = findings.iter().any(|f| f.rule == rule);
        if hit != expect_hit {
            let what = if expect_hit {
                "raised nothing of it"
            } else {
                "should be quiet for it"
            };
            problems.push(format!(
                "{rule}: {} {what}; findings:\n{}",
                file.display(),
                describe(&findings)
            ));
        }
    }
    (fails, passes)
}

/// Every rule in `rules` has a folder `dir/<rule name>` with at least one fail and one pass file
/// that behave. `name_of` turns a rule id into its folder name.
pub fn check_rule_folders(
    rules: &[&str],
    dir: &Path,
    extensions: &[&str],
    name_of: &dyn Fn(&str) -> String,
    analyze: &dyn Fn(&Path) -> Vec<Finding>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for rule in rules {
        let folder = dir.join(name_of(rule));
        if !folder.is_dir() {
            problems.push(format!("{rule}: no fixture folder {}", folder.display()));
            continue;
        }
        let files = files_in(&folder, extensions);
        let (fails, passes) =
            check_rule_files(rule, &files, ("fail", "pass"), analyze, &mut problems);
        if fails == 0 || passes == 0 {
            problems.push(format!(
                "{rule}: needs fail* and pass* fixtures (has {fails} and {passes})"
            ));
        }
    }
    problems
}

/// Files under `dir` that raise a warning or failure (they must not: false-alarm guards).
pub fn loud_quiet_fixtures(
    dir: &Path,
    extensions: &[&str],
    analyze: &dyn Fn(&Path) -> Vec<Finding>,
) -> Vec<String> {
    let files = files_in(dir, extensions);
    assert!(!files.is_empty(), "no quiet fixtures in {}", dir.display());
    files
        .iter()
        .filter_map(|file| {
            let loud: Vec<Finding> = analyze(file)
                .into_iter()
                .filter(|f| f.severity != Severity::Info && f.waived.is_none())
                .collect();
            (!loud.is_empty()).then(|| format!("{}:\n{}", file.display(), describe(&loud)))
        })
        .collect()
}
