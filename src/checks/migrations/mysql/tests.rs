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

/// The findings of `text`, a migration of this deploy, after `schema`, an earlier one.
fn findings_after(schema: &str, text: &str) -> Vec<Finding> {
    let files = [
        MigrationFile {
            path: "schema.sql".into(),
            text: schema.into(),
            in_deploy: false,
            transaction: None,
        },
        MigrationFile {
            path: "m.sql".into(),
            text: format!("SET lock_wait_timeout = 5;\n{text}"),
            in_deploy: true,
            transaction: None,
        },
    ];
    let followed = follow_files(&files, Dialect::Mysql, FollowSettings::of(None, false));
    let SetFacts::Mysql(events) = followed else {
        panic!("MySQL files are followed into MySQL facts");
    };
    analyze(&files, &events)
}

/// A parent, a child whose foreign key cascades, and a child whose foreign key only restricts.
const FK_SCHEMA: &str = "\
CREATE TABLE identities (id CHAR(36) NOT NULL PRIMARY KEY, email VARCHAR(255) NOT NULL);\n\
CREATE TABLE sessions (id CHAR(36) NOT NULL PRIMARY KEY, identity_id CHAR(36) NOT NULL, \
expires_at DATETIME NULL, \
CONSTRAINT sessions_identity_fk FOREIGN KEY (identity_id) REFERENCES identities (id) ON DELETE CASCADE);\n\
CREATE TABLE audits (id BIGINT NOT NULL PRIMARY KEY, identity_id CHAR(36) NULL, \
FOREIGN KEY (identity_id) REFERENCES identities (id) ON DELETE RESTRICT);\n";

fn rule_ids(found: &[Finding]) -> Vec<&str> {
    found
        .iter()
        .map(|f| f.rule.trim_start_matches("migrations/"))
        .collect()
}

#[test]
fn lock_none_on_a_cascading_child_fails_the_migration() {
    let found = findings_after(
        FK_SCHEMA,
        "ALTER TABLE sessions ADD INDEX sessions_expires_idx (expires_at), ALGORITHM=INPLACE, LOCK=NONE;\n",
    );
    assert_eq!(rule_ids(&found), vec!["mysql-cascading-foreign-key-lock"]);
    assert_eq!(found[0].severity, Severity::Fail);
    assert!(
        found[0].message.contains(
            "sessions has the foreign key sessions_identity_fk ON DELETE CASCADE (to identities)"
        ) && found[0]
            .message
            .contains("MySQL rejects the statement and the migration fails"),
        "{}",
        found[0].message
    );
    let fix = found[0].fix.as_deref().unwrap_or_default();
    assert!(
        fix.starts_with("`ALTER TABLE sessions ADD INDEX sessions_expires_idx (expires_at), ALGORITHM=INPLACE, LOCK=SHARED;`"),
        "{fix}"
    );
    assert!(!fix.contains("LOCK=NONE"), "{fix}");
    assert!(
        fix.contains("pt-online-schema-change") && fix.contains("gh-ost does not support"),
        "{fix}"
    );
}

#[test]
fn an_index_build_on_a_cascading_child_blocks_writes() {
    let found = findings_after(
        FK_SCHEMA,
        "ALTER TABLE sessions ADD INDEX sessions_expires_idx (expires_at);\nCREATE INDEX sessions_identity_expires_idx ON sessions (identity_id, expires_at);\n",
    );
    // Not mysql-missing-algorithm-lock, whose fix would ask for LOCK=NONE.
    assert_eq!(
        rule_ids(&found),
        vec![
            "mysql-cascading-foreign-key-lock",
            "mysql-cascading-foreign-key-lock"
        ]
    );
    assert!(
        found[0]
            .message
            .contains("writes to sessions are blocked until it finishes"),
        "{}",
        found[0].message
    );
    for finding in &found {
        let fix = finding.fix.as_deref().unwrap_or_default();
        assert!(
            fix.contains("LOCK=SHARED") && !fix.contains("LOCK=NONE"),
            "{fix}"
        );
    }
    // A rebuild is reported once, by this rule, with its reasons; INSTANT changes are split off.
    let found = findings_after(
        FK_SCHEMA,
        "ALTER TABLE sessions ADD COLUMN device VARCHAR(64) NULL, ADD INDEX sessions_expires_idx (expires_at);\n",
    );
    assert_eq!(rule_ids(&found), vec!["mysql-cascading-foreign-key-lock"]);
    assert!(
        found[0].message.contains("rebuilds sessions ("),
        "{}",
        found[0].message
    );
    assert_eq!(
        found[0].fix.as_deref(),
        Some(
            "split it: `ALTER TABLE sessions ADD COLUMN device VARCHAR(64) NULL, ALGORITHM=INSTANT;` (no table lock), then `ALTER TABLE sessions ADD INDEX sessions_expires_idx (expires_at), ALGORITHM=INPLACE, LOCK=SHARED;` if writes to sessions can wait for it, or use pt-online-schema-change (it recreates the foreign keys of sessions on its copy; gh-ost does not support foreign keys) for sessions"
        )
    );
}

#[test]
fn what_a_cascading_foreign_key_does_not_limit() {
    // INSTANT changes take no table lock; stating LOCK=SHARED is what MySQL does anyway;
    // metadata-only changes hold the lock a moment.
    let found = findings_after(
        FK_SCHEMA,
        "ALTER TABLE sessions ADD COLUMN device VARCHAR(64) NULL, ALGORITHM=INSTANT;\n\
         ALTER TABLE sessions ADD INDEX sessions_expires_idx (expires_at), ALGORITHM=INPLACE, LOCK=SHARED;\n\
         ALTER TABLE sessions RENAME INDEX sessions_expires_idx TO sessions_expiry_idx;\n",
    );
    assert_eq!(
        rule_ids(&found),
        vec!["mysql-cascading-foreign-key-lock"],
        "only the index build, whose LOCK=SHARED blocks writes"
    );
    // The parent and a child whose foreign key only restricts are not limited.
    let found = findings_after(
        FK_SCHEMA,
        "ALTER TABLE identities ADD INDEX identities_email_idx (email), ALGORITHM=INPLACE, LOCK=NONE;\n\
         ALTER TABLE audits ADD INDEX audits_identity_idx (identity_id), ALGORITHM=INPLACE, LOCK=NONE;\n",
    );
    assert!(found.is_empty(), "{:?}", rule_ids(&found));
    // Metadata-only with LOCK=NONE written: the manual's rule has no exception.
    let found = findings_after(
        FK_SCHEMA,
        "ALTER TABLE sessions DROP INDEX sessions_old_idx, ALGORITHM=INPLACE, LOCK=NONE;\n",
    );
    assert_eq!(rule_ids(&found), vec!["mysql-cascading-foreign-key-lock"]);
    assert_eq!(
        found[0].fix.as_deref().map(|f| f.split('`').nth(1)),
        Some(Some(
            "ALTER TABLE sessions DROP INDEX sessions_old_idx, ALGORITHM=INPLACE, LOCK=SHARED;"
        ))
    );
}

#[test]
fn foreign_keys_are_followed_through_alter_table() {
    // Added by an earlier migration, unnamed: InnoDB names it `<table>_ibfk_1`.
    let schema = "CREATE TABLE p (id INT PRIMARY KEY);\n\
                  CREATE TABLE c (id INT PRIMARY KEY, p_id INT NULL, n INT NULL);\n\
                  SET foreign_key_checks = 0;\n\
                  ALTER TABLE c ADD FOREIGN KEY (p_id) REFERENCES p (id) ON UPDATE SET NULL;\n";
    let lock_none = "ALTER TABLE c ADD INDEX c_n_idx (n), ALGORITHM=INPLACE, LOCK=NONE;\n";
    let found = findings_after(schema, lock_none);
    assert_eq!(rule_ids(&found), vec!["mysql-cascading-foreign-key-lock"]);
    assert!(
        found[0]
            .message
            .contains("the foreign key c_ibfk_1 ON UPDATE SET NULL (to p)"),
        "{}",
        found[0].message
    );
    // Dropped by its generated name: LOCK=NONE works again.
    let found = findings_after(
        schema,
        &format!("ALTER TABLE c DROP FOREIGN KEY c_ibfk_1;\n{lock_none}"),
    );
    assert!(found.is_empty(), "{:?}", rule_ids(&found));
    // The foreign key is judged as it was before the statement that drops it.
    let found = findings_after(
        schema,
        "ALTER TABLE c DROP FOREIGN KEY c_ibfk_1, ADD INDEX c_n_idx (n), ALGORITHM=INPLACE, LOCK=NONE;\n",
    );
    assert_eq!(rule_ids(&found), vec!["mysql-cascading-foreign-key-lock"]);
    // CREATE TABLE … LIKE copies no foreign key; a renamed parent keeps its children.
    let found = findings_after(
        &format!("{schema}CREATE TABLE c_copy LIKE c;\nRENAME TABLE p TO parents;\n"),
        "ALTER TABLE c_copy ADD INDEX c_copy_n_idx (n), ALGORITHM=INPLACE, LOCK=NONE;\n\
         ALTER TABLE parents MODIFY COLUMN id BIGINT NOT NULL;\n",
    );
    assert_eq!(rule_ids(&found), vec!["mysql-copy-algorithm"]);
    let fix = found[0].fix.as_deref().unwrap_or_default();
    assert!(
        fix.contains("pt-online-schema-change --alter-foreign-keys-method=auto (it repoints the foreign keys of c at the new parents; gh-ost does not support foreign keys)"),
        "{fix}"
    );
    assert!(!fix.contains("gh-ost or"), "{fix}");
}

#[test]
fn lock_none_fails_on_a_new_cascading_child_too() {
    // A table created in this file is empty, so no lock blocks anyone; MySQL still refuses
    // LOCK=NONE on it, and the migration stops there.
    let found = findings_after(
        "CREATE TABLE p (id INT PRIMARY KEY);\n",
        "CREATE TABLE c (id INT PRIMARY KEY, p_id INT NULL, n INT NULL, FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE);\n\
         ALTER TABLE c ADD INDEX c_n_idx (n);\n\
         CREATE INDEX c_n2_idx ON c (n) ALGORITHM=INPLACE LOCK=NONE;\n",
    );
    assert_eq!(rule_ids(&found), vec!["mysql-cascading-foreign-key-lock"]);
    assert_eq!(found[0].location.as_ref().and_then(|l| l.line), Some(4));
    assert_eq!(found[0].severity, Severity::Fail);
}

#[test]
fn rebuild_fixes_on_a_cascading_child_never_ask_for_lock_none() {
    let found = findings_after(
        FK_SCHEMA,
        "OPTIMIZE TABLE sessions;\nALTER TABLE sessions DROP PRIMARY KEY;\n",
    );
    assert_eq!(
        rule_ids(&found),
        vec!["mysql-table-rebuild", "mysql-copy-algorithm"]
    );
    assert!(
        found[0]
            .message
            .contains("writes to sessions are blocked while MySQL rewrites every row"),
        "{}",
        found[0].message
    );
    for finding in &found {
        let fix = finding.fix.as_deref().unwrap_or_default();
        assert!(
            fix.contains("LOCK=SHARED")
                && !fix.contains("LOCK=NONE;")
                && !fix.contains("gh-ost or"),
            "{fix}"
        );
    }
}
