//! The MySQL rules against small migrations, end to end through the facts.

use super::*;
use crate::config::Dialect;
use crate::report::{Finding, Severity};
use crate::sql::followed::{FollowSettings, SetFacts, follow_files};

fn findings(text: &str) -> Vec<Finding> {
    let file = MigrationFile {
        path: "m.sql".into(),
        text: text.into(),
        in_deploy: true,
        transaction: None,
    };
    let files = [file];
    let followed = follow_files(&files, Dialect::Mysql, FollowSettings::of(None, false));
    let SetFacts::Mysql(events) = followed else {
        panic!("MySQL files are followed into MySQL facts");
    };
    analyze(&files, &events)
}

fn rules(text: &str) -> Vec<String> {
    findings(text)
        .into_iter()
        .map(|f| {
            format!(
                "{}:{}",
                f.location.unwrap().line.unwrap(),
                f.rule.trim_start_matches("migrations/")
            )
        })
        .collect()
}

#[test]
fn instant_ops_combined_with_inplace_ops_rebuild() {
    let found = rules(
        "SET lock_wait_timeout = 5;\nALTER TABLE t ADD COLUMN c INT NULL, ADD INDEX i (d);\nALTER TABLE t ADD COLUMN e INT NULL, ALGORITHM=INPLACE, LOCK=NONE;\nALTER TABLE t RENAME COLUMN a TO b, ALGORITHM=INPLACE, LOCK=NONE;\n",
    );
    assert_eq!(
        found,
        vec![
            "2:mysql-table-rebuild",
            "3:mysql-table-rebuild",
            "4:rename-column"
        ]
    );
}

#[test]
fn textual_clauses_are_classified() {
    let found = rules(
        "SET lock_wait_timeout = 5;\n\
         ALTER TABLE t ENGINE = InnoDB;\n\
         ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4;\n\
         ALTER TABLE t RENAME INDEX a TO b, ALGORITHM=INPLACE, LOCK=NONE;\n\
         ALTER TABLE t COMMENT = 'x', ALGORITHM=INPLACE, LOCK=NONE;\n\
         ALTER TABLE t ADD COLUMN (a INT NULL, b INT NULL), ALGORITHM=INSTANT;\n\
         ALTER TABLE t RENAME t2;\n\
         OPTIMIZE NO_WRITE_TO_BINLOG TABLE t2, t3;\n\
         ALTER TABLE t2 PARTITION BY HASH(id);\n",
    );
    assert_eq!(
        found,
        vec![
            "2:mysql-table-rebuild",
            "3:mysql-copy-algorithm",
            "7:rename-table",
            "7:mysql-missing-algorithm-lock",
            "8:mysql-table-rebuild",
            "8:mysql-table-rebuild",
            "9:unparsed-statement",
        ]
    );
}

#[test]
fn lock_wait_timeout_is_session_scoped_and_once_per_file() {
    assert_eq!(
        rules("SET GLOBAL lock_wait_timeout = 5;\nDROP TABLE a;\nDROP TABLE b;\n"),
        vec![
            "2:mysql-missing-lock-wait-timeout",
            "2:drop-table",
            "3:drop-table"
        ]
    );
    assert_eq!(
        rules("SET @@SESSION.LOCK_WAIT_TIMEOUT = 5;\nDROP TABLE a;\n"),
        vec!["2:drop-table"]
    );
    assert_eq!(
        rules("SET lock_wait_timeout = DEFAULT;\nTRUNCATE TABLE a;\n"),
        vec!["2:mysql-missing-lock-wait-timeout"]
    );
    assert_eq!(
        rules("CREATE TABLE a (id INT);\nDROP TABLE a;\n"),
        Vec::<String>::new()
    );
}

#[test]
fn dropping_the_primary_key_copies_unless_another_is_added() {
    let found = rules(
        "SET lock_wait_timeout = 5;\n\
         ALTER TABLE t DROP PRIMARY KEY;\n\
         ALTER TABLE t DROP INDEX `PRIMARY`;\n\
         DROP INDEX `PRIMARY` ON t;\n\
         ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (a, b);\n",
    );
    assert_eq!(
        found,
        vec![
            "2:mysql-copy-algorithm",
            "3:mysql-copy-algorithm",
            "4:mysql-copy-algorithm",
            "5:mysql-table-rebuild"
        ]
    );
}

#[test]
fn foreign_keys_copy_unless_checks_are_off() {
    let add = "ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id), ALGORITHM=INPLACE, LOCK=NONE;\n";
    let on = findings(&format!("SET lock_wait_timeout = 5;\n{add}"));
    assert_eq!(on.len(), 1);
    assert!(
        on[0].message.contains("MySQL rejects the statement"),
        "{}",
        on[0].message
    );
    assert!(
        findings(&format!(
            "SET lock_wait_timeout = 5;\nSET foreign_key_checks = OFF;\n{add}"
        ))
        .is_empty()
    );
}

#[test]
fn instant_changes_without_the_option_are_info() {
    let found =
        findings("SET lock_wait_timeout = 5;\nALTER TABLE t ALTER COLUMN c SET DEFAULT 1;\n");
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].rule,
        missing_algorithm_lock::MYSQL_MISSING_ALGORITHM_LOCK.id
    );
    assert_eq!(found[0].severity, Severity::Info);
    assert_eq!(
        found[0].fix.as_deref(),
        Some("`ALTER TABLE t ALTER COLUMN c SET DEFAULT 1, ALGORITHM=INSTANT;`")
    );
}

#[test]
fn add_column_not_null_needs_a_default_or_a_value() {
    let found = rules(
        "SET lock_wait_timeout = 5;\n\
         ALTER TABLE t ADD COLUMN a INT NOT NULL, ALGORITHM=INSTANT;\n\
         ALTER TABLE t ADD COLUMN b INT NOT NULL DEFAULT 0, ALGORITHM=INSTANT;\n\
         ALTER TABLE t ADD COLUMN c INT AS (b + 1) VIRTUAL NOT NULL, ALGORITHM=INSTANT;\n",
    );
    assert_eq!(found, vec!["2:add-column-not-null-without-default"]);
}

/// An ALTER of thousands of characters is quoted as an excerpt, never whole.
#[test]
fn findings_of_a_huge_alter_are_bounded() {
    let indexes: Vec<String> = (0..300)
        .map(|i| format!("ADD INDEX a_rather_long_index_name_{i} (a_rather_long_column_name_{i})"))
        .collect();
    let sql = format!(
        "SET lock_wait_timeout = 5;\nALTER TABLE t {};\n",
        indexes.join(", ")
    );
    assert!(sql.len() > 10_000);
    let found = findings(&sql);
    assert!(!found.is_empty());
    for finding in found {
        assert!(
            finding.message.chars().count() <= 600,
            "{}",
            finding.message
        );
        let fix = finding.fix.unwrap_or_default();
        assert!(fix.chars().count() <= 600, "{fix}");
    }
}
