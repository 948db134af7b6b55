//! The MySQL schema changes old code can notice, read from migrations as compat reads them.

use super::tests::*;
use crate::sql::changes::ChangeKind::*;

#[test]
fn tables_created_renamed_dropped() {
    let old = "CREATE TABLE a (id INT); CREATE TABLE x (id INT);";
    let new = "DROP TABLE a;
        RENAME TABLE x TO y, c TO d;
        ALTER TABLE y RENAME TO z;
        ALTER TABLE z RENAME AS w;
        CREATE TABLE n (id INT);";
    assert_eq!(
        deploy(MY, old, new),
        vec![
            on("a", DropTable),
            on("x", RenameTable { to: s("y") }),
            on("c", RenameTable { to: s("d") }),
            on("y", RenameTable { to: s("z") }),
            on("z", RenameTable { to: s("w") }),
            on("n", CreateTable),
        ]
    );
}

#[test]
fn columns_added_dropped_renamed() {
    let old = "CREATE TABLE t (g INT NULL);";
    let new = "ALTER TABLE t ADD COLUMN a INT NOT NULL, ADD b INT NOT NULL DEFAULT 0,
            ADD c BIGINT NOT NULL AUTO_INCREMENT, ADD e INT UNIQUE;
        ALTER TABLE t DROP COLUMN x, DROP y;
        ALTER TABLE t RENAME COLUMN f TO f2;
        ALTER TABLE t CHANGE COLUMN g h INT NULL;
        ALTER TABLE t CHANGE h h BIGINT NULL;";
    assert_eq!(
        deploy(MY, old, new),
        all_on(
            "t",
            vec![
                add("a", true),
                add_filled("b"),
                add_filled("c"),
                add("e", false),
                unique(&["e"]),
                drop_column("x"),
                drop_column("y"),
                rename_column("f", "f2"),
                rename_column("g", "h"),
                typed("h", Some("int"), "bigint", false),
            ]
        )
    );
}

#[test]
fn modify_types_nullability_and_enums() {
    let old = "CREATE TABLE t (a INT(11), b VARCHAR(64) NULL, s ENUM('a','b','c') NOT NULL,
        s2 ENUM('a','b'), n DECIMAL(10,2), f FLOAT, u INT UNSIGNED, v VARCHAR(10) NOT NULL);";
    let new = "ALTER TABLE t MODIFY a BIGINT, MODIFY COLUMN b VARCHAR(32) NOT NULL;
        ALTER TABLE t MODIFY s ENUM('a','b') NOT NULL, MODIFY s2 ENUM('a','b','c');
        ALTER TABLE t MODIFY n DECIMAL(12,2), MODIFY f DOUBLE, MODIFY u INT;
        ALTER TABLE t MODIFY v VARCHAR(10) NOT NULL, MODIFY v TEXT, MODIFY w INT;";
    assert_eq!(
        deploy(MY, old, new),
        all_on(
            "t",
            vec![
                typed("a", Some("int"), "bigint", false),
                typed("b", Some("varchar(64)"), "varchar(32)", true),
                not_null("b"),
                enum_removed("s", None, &["c"]),
                typed("n", Some("decimal(10,2)"), "decimal(12,2)", false),
                typed("f", Some("float"), "double", false),
                typed("u", Some("int unsigned"), "int", true),
                typed("v", Some("varchar(10)"), "text", false),
                // MODIFY restates the column: without NOT NULL it is nullable now.
                DropNotNull { column: s("v") },
                typed("w", None, "int", true),
            ]
        )
    );
}

#[test]
fn unique_and_checks() {
    let new = "ALTER TABLE t ADD UNIQUE KEY k (a, b), ADD CONSTRAINT u UNIQUE (c);
        CREATE UNIQUE INDEX i ON t (d);
        CREATE INDEX j ON t (e);
        ALTER TABLE t ADD CONSTRAINT ck CHECK (amount > 0 AND t.`Currency` <> 'x');
        ALTER TABLE t ADD CHECK (x < y) NOT ENFORCED;
        ALTER TABLE t ADD PRIMARY KEY (id);";
    assert_eq!(
        deploy(MY, "", new),
        all_on(
            "t",
            vec![
                unique(&["a", "b"]),
                unique(&["c"]),
                unique(&["d"]),
                check(
                    &["Currency", "amount"],
                    "amount > 0 AND t.`Currency` <> 'x'",
                    false
                ),
                not_null("id"),
                unique(&["id"]),
            ]
        )
    );
}

#[test]
fn backfills_and_copies() {
    let new = "UPDATE t SET total = price * qty, a = LOWER(a) WHERE total IS NULL;
        UPDATE t SET b = CAST(c AS CHAR), d = CASE WHEN e IS NULL THEN 'x' ELSE d END;
        INSERT INTO t2 SELECT * FROM t;
        INSERT INTO t2 (id) VALUES (1);";
    assert_eq!(
        deploy(MY, "", new),
        vec![
            on("t", backfill("total", &["price", "qty"])),
            on("t", backfill("b", &["c"])),
            on("t", backfill("d", &["e"])),
            on("t2", copy_from("t")),
        ]
    );
}

#[test]
fn quotes_keep_case_and_schema_is_dropped() {
    let new = "ALTER TABLE `Orders` DROP COLUMN `Total`;\nALTER TABLE shop.Orders DROP COLUMN X;";
    assert_eq!(
        deploy(MY, "", new),
        vec![
            on("Orders", drop_column("Total")),
            on("orders", drop_column("x")),
        ]
    );
}

#[test]
fn deeply_nested_statements_are_skipped_not_fatal() {
    // A test thread's stack is the size that overflowed before the parser had its own.
    let joins = format!(
        "SELECT * FROM {}t JOIN u ON 1{};",
        "(".repeat(25),
        ")".repeat(25)
    );
    let deeper = format!("SELECT {}1{};", "(".repeat(40), ")".repeat(40));
    let new = format!("{joins}\n{deeper}\nALTER TABLE t DROP COLUMN x;");
    assert_eq!(deploy(MY, "", &new), vec![on("t", drop_column("x"))]);
}

#[test]
fn new_tables_are_marked() {
    let found = run(
        MY,
        &[
            ("CREATE TABLE old_t (id INT);", false),
            (
                "CREATE TABLE `N` (id INT);\nALTER TABLE n DROP id;\nALTER TABLE old_t DROP id;",
                true,
            ),
        ],
    );
    let new: Vec<bool> = found.iter().map(|c| c.table_is_new).collect();
    assert_eq!(new, vec![false, false, true, false]);
}
