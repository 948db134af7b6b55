//! The MySQL side of `migrations` beyond its fixtures (those are run by rule_fixtures.rs: the
//! `mysql-*` rule folders, the `fail-mysql.sql`/`pass-mysql.sql` fixtures of the shared rules and
//! `quiet/mysql-*.sql` under tests/fixtures/migrations/): locations, fixes, odd input.

use gonogo::checks::migrations::{MigrationFile, Settings, analyze_files};
use gonogo::config::Dialect;
use gonogo::report::{Finding, Severity};

use crate::common;
use common::fixtures::describe;

fn settings() -> Settings {
    Settings {
        dialect: Dialect::Mysql,
        ..Settings::default()
    }
}

fn file(path: &str, text: &str, in_deploy: bool) -> MigrationFile {
    MigrationFile {
        path: path.into(),
        text: text.into(),
        in_deploy,
        transaction: None,
    }
}

fn analyze_text(text: &str) -> Vec<Finding> {
    analyze_files(&[file("m.sql", text, true)], &settings(), false)
}

#[test]
fn findings_point_at_the_statement_and_fix_it_with_the_users_names() {
    let text = "SET SESSION lock_wait_timeout = 5;\n\n-- a comment; with a semicolon\n  ALTER TABLE orders\n    ADD INDEX orders_status_idx (status);\n";
    let findings = analyze_files(&[file("db/0007.sql", text, true)], &settings(), false);
    let finding = findings
        .iter()
        .find(|f| f.rule == "migrations/mysql-missing-algorithm-lock")
        .unwrap_or_else(|| panic!("no finding:\n{}", describe(&findings)));
    assert_eq!(
        finding.location.as_ref().unwrap().to_string(),
        "db/0007.sql:4:3"
    );
    assert_eq!(finding.severity, Severity::Warn);
    assert!(
        finding.fix.as_deref().unwrap().contains(
            "ALTER TABLE orders ADD INDEX orders_status_idx (status), ALGORITHM=INPLACE, LOCK=NONE;"
        ),
        "{:?}",
        finding.fix
    );
    assert_eq!(findings.len(), 1, "{}", describe(&findings));
}

#[test]
fn older_files_give_column_types_and_no_findings() {
    let old = file(
        "0001.sql",
        "CREATE TABLE orders (\n  id BIGINT NOT NULL PRIMARY KEY,\n  note VARCHAR(100) NULL,\n  code VARCHAR(32) NOT NULL,\n  amount INT NOT NULL,\n  email VARCHAR(255) NULL,\n  status ENUM('new','paid') NOT NULL\n) ENGINE=InnoDB;\nALTER TABLE orders ADD INDEX a (id);\n",
        false,
    );
    let new = file(
        "0002.sql",
        "SET SESSION lock_wait_timeout = 5;\n\
         ALTER TABLE orders MODIFY COLUMN note VARCHAR(200) NULL, ALGORITHM=INPLACE, LOCK=NONE;\n\
         ALTER TABLE orders MODIFY COLUMN amount BIGINT NOT NULL;\n\
         ALTER TABLE orders MODIFY COLUMN email VARCHAR(255) NOT NULL;\n\
         ALTER TABLE orders MODIFY COLUMN code VARCHAR(64) NOT NULL;\n\
         ALTER TABLE orders MODIFY COLUMN status ENUM('new','paid','refunded') NOT NULL, ALGORITHM=INSTANT;\n",
        true,
    );
    let findings = analyze_files(&[old, new], &settings(), true);
    let at_line = |line: u32| -> Vec<&Finding> {
        findings
            .iter()
            .filter(|f| f.location.as_ref().unwrap().line == Some(line))
            .collect()
    };
    assert!(
        at_line(2).is_empty(),
        "VARCHAR(100) → VARCHAR(200) in utf8mb4 is INPLACE:\n{}",
        describe(&findings)
    );
    let copy = at_line(3);
    assert_eq!(copy.len(), 1, "{}", describe(&findings));
    assert_eq!(copy[0].rule, "migrations/mysql-copy-algorithm");
    assert!(
        copy[0].message.contains("INT to BIGINT is a type change"),
        "{}",
        copy[0].message
    );
    assert!(
        copy[0].message.contains("writes to orders are blocked"),
        "{}",
        copy[0].message
    );
    assert!(
        copy[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("amount_new BIGINT"),
        "{:?}",
        copy[0].fix
    );
    let rebuild = at_line(4);
    assert_eq!(rebuild.len(), 1, "{}", describe(&findings));
    assert_eq!(rebuild[0].rule, "migrations/mysql-table-rebuild");
    assert!(
        rebuild[0].message.contains("makes email NOT NULL"),
        "{}",
        rebuild[0].message
    );
    let crossing = at_line(5);
    assert_eq!(crossing.len(), 1, "{}", describe(&findings));
    assert_eq!(crossing[0].rule, "migrations/mysql-copy-algorithm");
    assert!(
        crossing[0].message.contains("crosses 255 bytes"),
        "{}",
        crossing[0].message
    );
    assert!(
        at_line(6).is_empty(),
        "appending an ENUM value is INSTANT:\n{}",
        describe(&findings)
    );
    assert!(
        findings
            .iter()
            .all(|f| f.location.as_ref().unwrap().path == "0002.sql")
    );
}

#[test]
fn unknown_current_type_is_said_and_still_fails() {
    let findings = analyze_text(
        "SET SESSION lock_wait_timeout = 5;\nALTER TABLE orders MODIFY amount BIGINT NOT NULL;\n",
    );
    assert_eq!(findings.len(), 1, "{}", describe(&findings));
    assert_eq!(findings[0].rule, "migrations/mysql-copy-algorithm");
    assert_eq!(findings[0].severity, Severity::Fail);
    assert!(
        findings[0]
            .message
            .contains("did not find orders.amount's current type"),
        "{}",
        findings[0].message
    );
}

#[test]
fn one_bad_statement_does_not_hide_the_others() {
    let text = "SET SESSION lock_wait_timeout = 5;\nALTER TABLE orders ADD COLUMN;\nALTER TABLE orders ENGINE=InnoDB;\nALTER TABLE products ADD FULLTEXT INDEX ft (name);\n";
    let findings = analyze_text(text);
    let rules: Vec<(&str, Option<u32>)> = findings
        .iter()
        .map(|f| (f.rule.as_str(), f.location.as_ref().unwrap().line))
        .collect();
    assert!(
        rules.contains(&("migrations/unparsed-statement", Some(2))),
        "{}",
        describe(&findings)
    );
    assert!(
        rules.contains(&("migrations/mysql-table-rebuild", Some(3))),
        "{}",
        describe(&findings)
    );
    assert!(
        rules.contains(&("migrations/mysql-fulltext-index", Some(4))),
        "{}",
        describe(&findings)
    );
}

#[test]
fn tokenizer_errors_and_delimiter_blocks_are_reported_not_fatal() {
    let text = "SET SESSION lock_wait_timeout = 5;\nALTER TABLE a ADD INDEX i (x);\nDELIMITER //\nCREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; END //\nDELIMITER ;\nALTER TABLE b ADD INDEX j (y);\nUPDATE a SET note = 'unterminated;\nALTER TABLE c DROP COLUMN z;\n";
    let findings = analyze_text(text);
    let at = |rule: &str, line: u32| {
        findings
            .iter()
            .any(|f| f.rule == rule && f.location.as_ref().unwrap().line == Some(line))
    };
    assert!(
        at("migrations/mysql-missing-algorithm-lock", 2),
        "{}",
        describe(&findings)
    );
    assert!(
        at("migrations/unparsed-statement", 3),
        "DELIMITER block:\n{}",
        describe(&findings)
    );
    assert!(
        at("migrations/mysql-missing-algorithm-lock", 6),
        "{}",
        describe(&findings)
    );
    let error = findings
        .iter()
        .find(|f| {
            f.rule == "migrations/unparsed-statement"
                && f.location.as_ref().unwrap().line == Some(7)
        })
        .unwrap_or_else(|| panic!("no tokenizer error finding:\n{}", describe(&findings)));
    assert_eq!(
        error.location.as_ref().unwrap().column,
        Some(21),
        "{}",
        describe(&findings)
    );
    assert!(
        !at("migrations/drop-column", 8),
        "after an unterminated quote nothing is read:\n{}",
        describe(&findings)
    );
}

#[test]
fn new_tables_are_safe_and_files_outside_the_deploy_are_silent() {
    let old = file(
        "0001.sql",
        "ALTER TABLE orders MODIFY amount BIGINT NOT NULL;\nDROP TABLE legacy;\n",
        false,
    );
    let new = file(
        "0002.sql",
        "CREATE TABLE t (id INT);\nALTER TABLE t MODIFY id BIGINT NOT NULL, ADD FULLTEXT INDEX f (id);\nDROP TABLE t;\n",
        true,
    );
    let findings = analyze_files(&[old, new], &settings(), true);
    assert!(findings.is_empty(), "{}", describe(&findings));
}

#[test]
fn never_panics_on_odd_input() {
    let mut inputs: Vec<String> = vec![
        String::new(),
        ";;;".into(),
        "\0\u{1}\u{7f}\u{feff}ÿ€漢字 ; ` ' \" /* -- #".into(),
        "'unterminated".into(),
        "`unterminated".into(),
        "/* unterminated".into(),
        "DELIMITER".into(),
        "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$".into(),
        "ALTER TABLE".into(),
        "ALTER TABLE t".into(),
        "ALTER TABLE t,,,".into(),
        "ALTER TABLE t ADD (".into(),
        "ALTER TABLE t ADD COLUMN (a INT, b INT NOT NULL), RENAME t2, ALTER INDEX i INVISIBLE, COMMENT = 'x';".into(),
        "ALTER IGNORE TABLE `s`.`t` ENGINE=InnoDB, FORCE;".into(),
        "OPTIMIZE TABLE".into(),
        "CREATE FULLTEXT INDEX ON".into(),
        "DROP INDEX i;".into(),
        "SET @@lock_wait_timeout;".into(),
        format!("SELECT {}1{};", "(".repeat(5000), ")".repeat(5000)),
        "ALTER TABLE t MODIFY c VARCHAR(18446744073709551615), MODIFY d ENUM(), MODIFY e SET();".into(),
    ];
    // Pseudo-random bytes from a fixed seed, made UTF-8.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..50 {
        let text: String = (0..400)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let alphabet = b"ALTER TABLE ADD COLUMN MODIFY INDEX FULLTEXT ; , ( ) ' \" ` = \n -- # /* */ DELIMITER 0123";
                alphabet[(seed % alphabet.len() as u64) as usize] as char
            })
            .collect();
        inputs.push(text);
    }
    for input in &inputs {
        let findings = analyze_text(input);
        for finding in &findings {
            let location = finding.location.as_ref().unwrap();
            assert!(
                location.line.unwrap_or(1) >= 1 && location.column.unwrap_or(1) >= 1,
                "{input:?}: {}",
                describe(&findings)
            );
        }
    }
}

#[test]
fn ten_thousand_statements_are_each_judged() {
    let mut text = String::from("SET SESSION lock_wait_timeout = 5;\n");
    for i in 0..10_000 {
        text.push_str(&format!("ALTER TABLE orders ADD INDEX idx_{i} (c{i});\n"));
    }
    let findings = analyze_text(&text);
    let warned = findings
        .iter()
        .filter(|f| f.rule == "migrations/mysql-missing-algorithm-lock")
        .count();
    assert_eq!(warned, 10_000);
    let last = findings
        .iter()
        .filter_map(|f| f.location.as_ref()?.line)
        .max();
    assert_eq!(
        last,
        Some(10_001),
        "line numbers survive the segmented tokenizing"
    );
}

#[test]
fn a_string_spanning_a_segment_cut_is_read_whole() {
    // A multi-line string whose lines end in `;` must not be cut into statements.
    let mut text =
        String::from("SET SESSION lock_wait_timeout = 5;\nINSERT INTO notes (body) VALUES ('");
    for _ in 0..5_000 {
        text.push_str("ALTER TABLE orders DROP COLUMN x;\n");
    }
    text.push_str("');\nALTER TABLE orders DROP COLUMN legacy, ALGORITHM=INSTANT;\n");
    let findings = analyze_text(&text);
    let drops: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == "migrations/drop-column")
        .collect();
    assert_eq!(
        drops.len(),
        1,
        "{}",
        describe(&findings[..findings.len().min(5)])
    );
    assert_eq!(drops[0].location.as_ref().unwrap().line, Some(5_003));
}
