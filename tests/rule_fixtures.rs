//! Every rule against its fixtures, in the one layout of tests/common/fixtures.rs: for each rule
//! of `gonogo::checks::all_rules()` the folder `tests/fixtures/<check>/<rule name>/` must exist
//! (unless the rule is in [`WITHOUT_FIXTURES`], with the reason), hold at least one `fail*` and
//! one `pass*` fixture, `fail*` fixtures must raise the rule and `pass*`/`quiet*` fixtures must
//! not. Each rule's fixtures' full findings (rule, severity, location, message, evidence, fix,
//! waiver) are one snapshot, `tests/snapshots/suite__rule_fixtures__<check>__<rule name>.snap`,
//! so a changed message is a reviewed snapshot change. Every file of `<check>/quiet/` must raise
//! nothing unwaived at warn or fail; their findings are the snapshot `<check>__quiet`.
//!
//! Adding a rule: its folder with a fail and a pass fixture; run the suite, review the new
//! `.snap.new` (`cargo insta review`, or rename it to `.snap`).

use crate::common::fixtures::{
    Expect, describe, entries, expectation, findings_of, name_of, render_full, root,
};
use gonogo::checks::{Rule, all_rules, find_rule};
use gonogo::report::{Finding, Severity};
use std::collections::BTreeSet;
use std::path::Path;

/// Rules that cannot have a static fixture: why, and where they are tested instead.
const WITHOUT_FIXTURES: &[(&str, &[&str])] = &[
    (
        "about files and config, not statements: migrations_cli.rs runs them end to end",
        &["migrations/unreadable-file", "migrations/unmatched-path"],
    ),
    (
        "about a file at the base ref against the working tree: migration_sets.rs runs it in real \
         git repos",
        &["migrations/applied-migration-edited"],
    ),
    (
        "a configured manifests path that matches nothing: k8s_cli.rs",
        &["rollout/unmatched-path", "rollout/unreadable-manifest"],
    ),
    (
        "a configured schema file gone at the base ref: compat_cli.rs",
        &["compat/schema-file-removed"],
    ),
    (
        "live, against a real PostgreSQL cluster: migrations_live.rs",
        &[
            "migrations/pg-autovacuum-running",
            "migrations/pg-blocking-session",
            "migrations/pg-estimate-unavailable",
            "migrations/pg-not-traceable",
            "migrations/pg-role-statement-timeout",
            "migrations/pg-trace-failed",
            "migrations/pg-traced-locks",
        ],
    ),
    (
        "the live rollback drill on a real PostgreSQL cluster: rollback_database.rs",
        &[
            "rollback/down-drill-failed",
            "rollback/down-leaves-changes",
            "rollback/not-drillable",
        ],
    ),
    (
        "the deployed code at the base ref against the migrations, in real git repos: \
         compat_database.rs",
        &[
            "compat/db-column-still-used",
            "compat/db-contract-prepared",
            "compat/db-enum-value-removed",
            "compat/db-expand-and-contract-together",
            "compat/db-null-read-into-non-null",
            "compat/db-old-writes-rejected",
            "compat/db-table-still-used",
            "compat/db-type-narrowed",
        ],
    ),
    (
        "live drill against a real service process and proxy: readiness_live.rs",
        &[
            "readiness/body-omits-dependency",
            "readiness/cut-not-detected",
            "readiness/drill-result",
            "readiness/liveness-fails-on-cut",
            "readiness/looks-static",
            "readiness/soft-dependency-unready",
        ],
    ),
    (
        "live drill that stops a real process under load: grace_drill.rs, grace_servers.rs",
        &[
            "grace/drill-timeline",
            "grace/exit-not-clean",
            "grace/in-flight-failed",
            "grace/listener-close-race",
            "grace/new-connection-broken",
        ],
    ),
    (
        "live drill; no test raises it yet (a gap)",
        &["readiness/no-recovery", "grace/readiness-stays-up"],
    ),
    (
        "live DNS queries against in-process authoritative servers (zones in fixtures/dns): dns.rs",
        &[
            "dns/expect-mismatch",
            "dns/not-authoritative",
            "dns/record-missing",
            "dns/servers-disagree",
            "dns/ttl-still-low",
            "dns/ttl-too-high",
            "dns/unresolved",
        ],
    ),
    (
        "bookkeeping of a whole run's waivers: cli.rs",
        &[
            "waivers/expired",
            "waivers/missing-reason",
            "waivers/unused",
        ],
    ),
];

/// Why `id` has no fixtures, if it is in [`WITHOUT_FIXTURES`].
fn without_fixtures(id: &str) -> Option<&'static str> {
    WITHOUT_FIXTURES
        .iter()
        .find(|(_, ids)| ids.contains(&id))
        .map(|(why, _)| *why)
}

/// Folders of a check's fixture tree that belong to no rule.
const OTHER_FOLDERS: &[(&str, &str)] = &[
    ("quiet", "false-alarm guards of the whole check"),
    (
        "broken",
        "compat inputs that must be errors with a position, not findings",
    ),
    (
        "recorded",
        "compat: buf's recorded findings on buf's suite (scripts/buf-compare)",
    ),
];

/// A fixture raises its rule with a finding of the rule at warn or fail, or at info for a rule
/// whose default is info. An info finding of a warn or fail rule says why all is well
/// (`rollback/slow-rollback` says how fast a fine rollback is): that is a pass.
fn raises(findings: &[Finding], rule: &Rule) -> bool {
    findings.iter().any(|f| {
        f.rule == rule.id
            && (f.severity > Severity::Info || rule.default_severity == Severity::Info)
    })
}

/// Findings whose rule no check declares (plugins' own rules are `plugin/<name>/…`).
fn unregistered(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| find_rule(&f.rule).is_none() && !f.rule.starts_with("plugin/"))
        .map(|f| f.rule.clone())
        .collect()
}

/// Compare `text` with snapshot `name`; a mismatch is recorded, not thrown, so that one run
/// writes every `.snap.new` to review.
fn snapshot(name: &str, text: &str, mismatches: &mut Vec<String>) {
    let outcome = std::panic::catch_unwind(|| {
        insta::assert_snapshot!(name.to_string(), text);
    });
    if outcome.is_err() {
        mismatches.push(name.to_string());
    }
}

/// Check one rule's folder; return its snapshot text.
fn check_rule_folder(rule: &'static Rule, folder: &Path, problems: &mut Vec<String>) -> String {
    let check = rule.id.split_once('/').unwrap().0;
    let mut snapshot = String::new();
    let (mut fails, mut passes) = (0, 0);
    for fixture in entries(folder) {
        let name = name_of(&fixture);
        let Some(expect) = expectation(&name) else {
            continue;
        };
        match expect {
            Expect::Raise => fails += 1,
            Expect::NotRaise if name.starts_with("pass") => passes += 1,
            Expect::NotRaise => {}
        }
        let findings = match findings_of(check, &fixture) {
            Ok(findings) => findings,
            Err(why) => {
                problems.push(format!(
                    "{}: {} is not a valid input: {why}",
                    rule.id,
                    fixture.display()
                ));
                continue;
            }
        };
        if raises(&findings, rule) != (expect == Expect::Raise) {
            let what = match expect {
                Expect::Raise => "raised nothing of it",
                Expect::NotRaise => "must not raise it",
            };
            problems.push(format!(
                "{}: {} {what}; findings:\n{}",
                rule.id,
                fixture.display(),
                describe(&findings)
            ));
        }
        for id in unregistered(&findings) {
            problems.push(format!(
                "{}: {} raised the unregistered rule {id}",
                rule.id,
                fixture.display()
            ));
        }
        // A compat fixture may say which words its message must have (the direction that breaks).
        if expect == Expect::Raise
            && let Ok(expected) = std::fs::read_to_string(fixture.join("expect.txt"))
        {
            for line in expected.lines().filter(|l| !l.is_empty()) {
                let found = findings
                    .iter()
                    .any(|f| f.rule == rule.id && f.message.contains(line));
                if !found {
                    problems.push(format!(
                        "{}: {} has no message with `{line}`:\n{}",
                        rule.id,
                        fixture.display(),
                        describe(&findings)
                    ));
                }
            }
        }
        snapshot.push_str(&format!("== {name}\n{}", render_full(&findings)));
    }
    if fails == 0 || passes == 0 {
        problems.push(format!(
            "{}: {} needs fail* and pass* fixtures (has {fails} and {passes})",
            rule.id,
            folder.display()
        ));
    }
    snapshot
}

/// Check the `quiet/` folder of a check; return its snapshot text.
fn check_quiet_folder(check: &str, folder: &Path, problems: &mut Vec<String>) -> String {
    let mut snapshot = String::new();
    let fixtures = entries(folder);
    if fixtures.is_empty() {
        problems.push(format!("{} is empty", folder.display()));
    }
    for fixture in fixtures {
        let findings = match findings_of(check, &fixture) {
            Ok(findings) => findings,
            Err(why) => {
                problems.push(format!("{} is not a valid input: {why}", fixture.display()));
                continue;
            }
        };
        let loud: Vec<Finding> = findings
            .iter()
            .filter(|f| f.severity != Severity::Info && f.waived.is_none())
            .cloned()
            .collect();
        if !loud.is_empty() {
            problems.push(format!(
                "{} must be quiet:\n{}",
                fixture.display(),
                describe(&loud)
            ));
        }
        for id in unregistered(&findings) {
            problems.push(format!(
                "{} raised the unregistered rule {id}",
                fixture.display()
            ));
        }
        snapshot.push_str(&format!(
            "== {}\n{}",
            name_of(&fixture),
            render_full(&findings)
        ));
    }
    snapshot
}

#[test]
fn every_rule_has_fixtures_that_behave_and_their_findings_are_snapshotted() {
    let mut problems = Vec::new();
    let mut mismatches = Vec::new();
    let mut checks = BTreeSet::new();
    let mut rule_folders = BTreeSet::new();
    for rule in all_rules() {
        let (check, name) = rule.id.split_once('/').expect("ids are <check>/<name>");
        checks.insert(check);
        let folder = root().join(check).join(name);
        if let Some(why) = without_fixtures(rule.id) {
            if folder.exists() {
                problems.push(format!(
                    "{}: has fixtures now; take it off WITHOUT_FIXTURES ({why})",
                    rule.id
                ));
            }
            continue;
        }
        if !folder.is_dir() {
            problems.push(format!(
                "{}: no fixture folder {}",
                rule.id,
                folder.display()
            ));
            continue;
        }
        rule_folders.insert(folder.clone());
        let text = check_rule_folder(rule, &folder, &mut problems);
        snapshot(&format!("{check}__{name}"), &text, &mut mismatches);
    }
    for id in WITHOUT_FIXTURES.iter().flat_map(|(_, ids)| ids.iter()) {
        assert!(
            find_rule(id).is_some(),
            "WITHOUT_FIXTURES names {id}, which is not a rule"
        );
    }
    // Every folder of the tree is a check, and every folder of a check is a rule's, `quiet/`
    // or one of OTHER_FOLDERS: a renamed rule cannot leave its fixtures behind untested.
    for check_dir in entries(&root()).into_iter().filter(|p| p.is_dir()) {
        let check = name_of(&check_dir);
        if !checks.contains(check.as_str()) {
            problems.push(format!("{}: no check `{check}`", check_dir.display()));
            continue;
        }
        for folder in entries(&check_dir).into_iter().filter(|p| p.is_dir()) {
            let name = name_of(&folder);
            if name == "quiet" {
                let text = check_quiet_folder(&check, &folder, &mut problems);
                snapshot(&format!("{check}__quiet"), &text, &mut mismatches);
            } else if !rule_folders.contains(&folder)
                && !OTHER_FOLDERS.iter().any(|(n, _)| *n == name)
            {
                problems.push(format!("{}: no rule `{check}/{name}`", folder.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n\n")
    );
    assert!(
        mismatches.is_empty(),
        "{} snapshots differ (review the .snap.new files): {mismatches:?}",
        mismatches.len()
    );
}
