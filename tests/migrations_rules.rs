//! Migrations rules beyond their fixtures (those are run by rule_fixtures.rs, one folder per
//! rule under tests/fixtures/migrations/): where a finding points, and what older files give.

use gonogo::checks::migrations::{MigrationFile, Settings, analyze_files};
use gonogo::report::Finding;

use crate::common;
use common::fixtures::describe;

#[test]
fn findings_point_at_the_statement() {
    let text = "SET lock_timeout = '2s';\n\n-- a comment\nCREATE INDEX orders_status_idx\n  ON orders (status);\n";
    let file = MigrationFile {
        path: "db/0007.sql".into(),
        text: text.into(),
        in_deploy: true,
        transaction: None,
    };
    let findings = analyze_files(&[file], &Settings::default(), false);
    let finding = findings
        .iter()
        .find(|f| f.rule == "migrations/pg-add-index-not-concurrent")
        .expect("finding");
    assert_eq!(
        finding.location.as_ref().unwrap().to_string(),
        "db/0007.sql:4:1"
    );
    assert!(
        finding
            .fix
            .as_deref()
            .unwrap()
            .contains("CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);"),
        "{:?}",
        finding.fix
    );
}

#[test]
fn older_files_give_column_types_and_no_findings() {
    let old = MigrationFile {
        path: "0001.sql".into(),
        text: "CREATE TABLE orders (id bigint, note varchar(64), amount integer);\nCREATE INDEX a ON orders (id);\n".into(),
        in_deploy: false,
        transaction: None,
    };
    let new = MigrationFile {
        path: "0002.sql".into(),
        text: "SET lock_timeout = '1s';\nALTER TABLE orders ALTER COLUMN note TYPE varchar(128);\nALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n".into(),
        in_deploy: true,
        transaction: None,
    };
    let findings = analyze_files(&[old, new], &Settings::default(), true);
    let types: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == "migrations/pg-alter-column-type")
        .collect();
    assert_eq!(types.len(), 1, "{}", describe(&findings));
    assert!(
        types[0].message.contains("TYPE bigint from integer"),
        "{}",
        types[0].message
    );
    assert!(
        findings
            .iter()
            .all(|f| f.location.as_ref().unwrap().path == "0002.sql")
    );
}
