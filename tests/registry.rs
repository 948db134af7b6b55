//! The rule registry. build.rs collects every `declare_rule!` into `checks::registry`, so a
//! declared rule is listed by construction, and the macro refuses a rule without the four doc
//! headings at compile time. What is left to check is what construction does not give: every
//! group of rules belongs to a check that hands it out, ids are unique and well formed, the
//! registry hands out complete docs, and no id a check writes as a string is missing from it.
//! (A fixture folder per rule: rule_fixtures.rs.)

use gonogo::checks::registry::{BY_CHECK, DECLARED_AT};
use gonogo::checks::{BUILT_IN, GONOGO_RULES, RULE_HEADINGS, all_rules};
use std::collections::BTreeSet;
use std::path::Path;

/// Where a rule is declared, for messages.
fn declared_at(id: &str) -> String {
    DECLARED_AT
        .iter()
        .find(|(declared, _, _)| *declared == id)
        .map_or_else(
            || "not declared".to_string(),
            |(_, file, line)| format!("{file}:{line}"),
        )
}

#[test]
fn every_group_of_rules_is_handed_out_by_its_check() {
    for (check, rules) in BY_CHECK {
        let handed_out = if *check == "waivers" {
            GONOGO_RULES
        } else {
            let Some(built_in) = BUILT_IN.iter().find(|c| c.id() == *check) else {
                panic!(
                    "rules {:?} start with `{check}/`, which is no built-in check ({})",
                    rules.iter().map(|r| r.id).collect::<Vec<_>>(),
                    declared_at(rules[0].id)
                );
            };
            built_in.rules()
        };
        let ids = |list: &[&gonogo::checks::Rule]| list.iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(
            ids(handed_out),
            ids(rules),
            "`{check}` does not hand out the registry's list (checks::registry::{})",
            check.to_uppercase()
        );
    }
    for check in BUILT_IN {
        assert!(
            BY_CHECK.iter().any(|(id, _)| *id == check.id()),
            "{} declares no rules",
            check.id()
        );
    }
    assert_eq!(all_rules().count(), DECLARED_AT.len());
}

#[test]
fn rule_ids_are_unique_kebab_case_and_start_with_their_check() {
    let mut seen = BTreeSet::new();
    assert!(all_rules().count() > 100, "{} rules", all_rules().count());
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
                "{} is not kebab-case ({})",
                rule.id,
                declared_at(rule.id)
            );
        }
    }
    for rule in GONOGO_RULES {
        assert!(rule.id.starts_with("waivers/"), "{}", rule.id);
    }
    for rule in all_rules() {
        assert!(
            seen.insert(rule.id),
            "{} is registered twice ({})",
            rule.id,
            declared_at(rule.id)
        );
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

/// A finding written with its id as a string (`Finding::new("migrations/x", …)`, a waiver
/// pattern, a message naming a rule) must name a registered rule: every string literal in the
/// source (outside `#[cfg(test)]` modules) that is `<check>/<kebab-name>` for a built-in check.
#[test]
fn every_rule_id_the_source_names_is_registered() {
    let registered: BTreeSet<&str> = all_rules().map(|rule| rule.id).collect();
    let mut prefixes: BTreeSet<&str> = BUILT_IN.iter().map(|check| check.id()).collect();
    prefixes.insert("waivers");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut named = 0;
    let mut unknown = Vec::new();
    for path in crate::common::files_under(&src) {
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Test modules make up ids on purpose.
        let code = text.split("\n#[cfg(test)]").next().unwrap_or("");
        for (line_number, line) in code.lines().enumerate() {
            for literal in line.split('"').skip(1).step_by(2) {
                let Some((prefix, name)) = literal.split_once('/') else {
                    continue;
                };
                let kebab = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                if !prefixes.contains(prefix) || !kebab {
                    continue;
                }
                named += 1;
                if !registered.contains(literal) {
                    unknown.push(format!(
                        "{literal} ({}:{})",
                        path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
                            .unwrap_or(&path)
                            .display(),
                        line_number + 1
                    ));
                }
            }
        }
    }
    assert!(named > 100, "only {named} rule ids found in the source");
    assert!(
        unknown.is_empty(),
        "rule ids named in the source but not declared with declare_rule!: {unknown:?}"
    );
}
