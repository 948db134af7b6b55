//! The rule registry cannot drift from the rule declarations: every `declare_rule!` in the source
//! is listed (so `gonogo list`, `explain`, SARIF and JUnit know it), ids are unique and start with
//! their check's id, and every rule explains itself with the four headings (the macro already
//! refuses a rule without them at compile time; this checks what the registry hands out).

use gonogo::checks::{BUILT_IN, GONOGO_RULES, RULE_HEADINGS, all_rules};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every rule id declared in the source: the string literal after `NAME = (` in a
/// `declare_rule!` block.
fn declared_ids(dir: &Path, out: &mut BTreeMap<String, String>) {
    for path in crate::common::files_under(dir) {
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // A declaration starts a line; the macro's own doc example sits behind `///`.
        for block in text.split("\ndeclare_rule! {").skip(1) {
            let Some(end) = block.find("\n}") else {
                continue;
            };
            let block = &block[..end];
            let Some(open) = block.find(" = (\"") else {
                continue;
            };
            let rest = &block[open + 5..];
            let id = &rest[..rest.find('"').unwrap()];
            let shown = path
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap_or(&path)
                .display()
                .to_string();
            assert!(
                out.insert(id.to_string(), shown.clone()).is_none(),
                "{id} is declared twice ({shown})"
            );
        }
    }
}

#[test]
fn every_declared_rule_is_registered_once() {
    let mut declared = BTreeMap::new();
    declared_ids(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut declared,
    );
    assert!(declared.len() > 100, "{} rules declared", declared.len());
    let mut registered = BTreeSet::new();
    for rule in all_rules() {
        assert!(
            registered.insert(rule.id),
            "{} is registered twice",
            rule.id
        );
    }
    let unlisted: Vec<String> = declared
        .iter()
        .filter(|(id, _)| !registered.contains(id.as_str()))
        .map(|(id, file)| format!("{id} ({file})"))
        .collect();
    assert!(
        unlisted.is_empty(),
        "declared but not in any check's RULES (invisible to list, explain and SARIF): {unlisted:?}"
    );
    let undeclared: Vec<&str> = registered
        .iter()
        .filter(|id| !declared.contains_key(**id))
        .copied()
        .collect();
    assert!(
        undeclared.is_empty(),
        "registered but not declared with declare_rule!: {undeclared:?}"
    );
}

#[test]
fn rule_ids_start_with_their_check_and_are_kebab_case() {
    for check in BUILT_IN {
        for rule in check.rules() {
            let (prefix, name) = rule.id.split_once('/').unwrap();
            assert_eq!(
                prefix,
                check.id(),
                "{} is listed under {}",
                rule.id,
                check.id()
            );
            assert!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not kebab-case",
                rule.id
            );
        }
    }
    for rule in GONOGO_RULES {
        assert!(rule.id.starts_with("waivers/"), "{}", rule.id);
    }
}

#[test]
fn every_rule_explains_itself_with_the_four_headings_in_order() {
    for rule in all_rules() {
        let help = rule.help();
        let mut from = 0;
        for heading in RULE_HEADINGS {
            let at = help[from..]
                .find(&format!("{heading}\n"))
                .unwrap_or_else(|| panic!("{}: no `{heading}` after offset {from}", rule.id));
            from += at + heading.len();
        }
        assert!(!rule.summary.is_empty(), "{}: no summary", rule.id);
    }
}
