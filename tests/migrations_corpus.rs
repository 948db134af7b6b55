//! The migrations check over ~1,100 real PostgreSQL migration files from public projects
//! (../shared/corpus/pg-migrations): no panic, no unparsable statement except in the files that
//! are known not to be PostgreSQL, and a count of findings per rule in a snapshot, so changes in
//! behaviour show up in review.

use gonogo::checks::migrations::{MigrationFile, Settings, analyze_files};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The PostgreSQL migration histories, or `None` (said on stderr) where the corpus is absent.
pub(crate) fn corpus() -> Option<PathBuf> {
    crate::common::corpus::dir("pg-migrations")
}

pub(crate) fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sql_files(&path, out);
        } else if path.to_string_lossy().contains(".sql") {
            out.push(path);
        }
    }
}

/// Files the real PostgreSQL parser rejects (SOURCES.txt lists them with the reason).
const NOT_POSTGRES: &[&str] = &[
    "synapse/synapse/storage/schema/main/delta/12/v12.sql",
    "synapse/synapse/storage/schema/main/delta/14/v14.sql",
    "synapse/synapse/storage/schema/main/delta/16/users.sql",
    "synapse/synapse/storage/schema/main/delta/54/account_validity_with_renewal.sql",
    "synapse/synapse/storage/schema/main/delta/87/02_per_connection_state.sql",
    "synapse/synapse/storage/schema/state/delta/89/01_state_groups_deletion.sql",
];

#[test]
fn real_migrations_parse_and_findings_per_rule_are_stable() {
    let Some(root) = corpus() else {
        return;
    };
    let mut files = Vec::new();
    sql_files(&root, &mut files);
    assert!(files.len() > 1000, "{} files", files.len());
    let mut per_rule: BTreeMap<String, usize> = BTreeMap::new();
    let mut unexpected_unparsed = Vec::new();
    let mut unparsed_in_known_files = 0;
    for path in &files {
        let relative = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(path).unwrap();
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let file = MigrationFile {
            path: relative.clone(),
            text,
            in_deploy: true,
            transaction: None,
        };
        let findings = analyze_files(&[file], &Settings::default(), false);
        for finding in &findings {
            *per_rule.entry(finding.rule.clone()).or_default() += 1;
            let unread = finding.rule == "migrations/unparsed-statement"
                || finding.rule == "migrations/pg-syntax-error";
            if unread
                && !finding
                    .message
                    .contains("EXECUTE of a query built at run time")
            {
                if NOT_POSTGRES.contains(&relative.as_str())
                    || relative.starts_with("synapse-sqlite-only/")
                {
                    unparsed_in_known_files += 1;
                } else {
                    unexpected_unparsed.push(format!(
                        "{}: {}",
                        finding.location.as_ref().unwrap(),
                        finding.message
                    ));
                }
            }
        }
    }
    assert!(
        unexpected_unparsed.is_empty(),
        "statements gonogo could not parse:\n{}",
        unexpected_unparsed.join("\n")
    );
    assert!(
        unparsed_in_known_files >= NOT_POSTGRES.len(),
        "the known non-PostgreSQL files must be reported"
    );
    let mut counts = String::new();
    for (rule, count) in &per_rule {
        counts.push_str(&format!("{rule}: {count}\n"));
    }
    insta::assert_snapshot!("findings_per_rule", counts);
}
