//! The PostgreSQL schema changes old code can notice, read from migrations as compat reads them.

use super::tests::*;
use crate::sql::changes::ChangeKind::*;

#[test]
fn tables_created_renamed_dropped() {
    let old = "CREATE TABLE orders (id bigint PRIMARY KEY); CREATE TABLE other (id int);";
    let new = "CREATE TABLE IF NOT EXISTS other (id int);
        ALTER TABLE orders RENAME TO purchases;
        DROP TABLE IF EXISTS purchases, other;
        CREATE TABLE fresh (id int);";
    assert_eq!(
        deploy(PG, old, new),
        vec![
            on("orders", RenameTable { to: s("purchases") }),
            on("purchases", DropTable),
            on("other", DropTable),
            on("fresh", CreateTable),
        ]
    );
}

#[test]
fn columns_added_dropped_renamed() {
    let new = "ALTER TABLE orders ADD COLUMN a int NOT NULL;
        ALTER TABLE orders ADD COLUMN b int NOT NULL DEFAULT 0, ADD COLUMN c bigserial NOT NULL;
        ALTER TABLE orders ADD COLUMN d int NOT NULL GENERATED ALWAYS AS IDENTITY, ADD e text UNIQUE;
        ALTER TABLE orders DROP COLUMN IF EXISTS x, DROP COLUMN y;
        ALTER TABLE orders RENAME COLUMN f TO g;";
    assert_eq!(
        deploy(PG, "", new),
        all_on(
            "orders",
            vec![
                add("a", true),
                add_filled("b"),
                add_filled("c"),
                add_filled("d"),
                add("e", false),
                unique(&["e"]),
                drop_column("x"),
                drop_column("y"),
                rename_column("f", "g"),
            ]
        )
    );
}

#[test]
fn not_null_and_checks() {
    let old = "CREATE TABLE orders (id int NOT NULL, note text);";
    let new = "ALTER TABLE orders ALTER COLUMN note SET NOT NULL, ALTER COLUMN id SET NOT NULL;
        ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0 AND orders.currency <> '') NOT VALID;
        ALTER TABLE orders ADD CHECK (length(code) = 3);";
    assert_eq!(
        deploy(PG, old, new),
        all_on(
            "orders",
            vec![
                not_null("note"),
                check(
                    &["amount", "currency"],
                    "amount > 0 AND orders.currency <> ''",
                    true
                ),
                check(&["code"], "length(code) = 3", false),
            ]
        )
    );
}

#[test]
fn unique_indexes_and_constraints() {
    let old = "CREATE INDEX orders_ref_idx ON orders (ref, shop_id);";
    let new = "CREATE UNIQUE INDEX CONCURRENTLY orders_email ON orders (email, lower(name));
        CREATE INDEX plain ON orders (x);
        ALTER TABLE orders ADD CONSTRAINT u UNIQUE (a, b);
        ALTER TABLE orders ADD CONSTRAINT orders_ref UNIQUE USING INDEX orders_ref_idx;
        ALTER TABLE orders ADD PRIMARY KEY (id);";
    assert_eq!(
        deploy(PG, old, new),
        all_on(
            "orders",
            vec![
                unique(&["email", "name"]),
                unique(&["a", "b"]),
                unique(&["ref", "shop_id"]),
                not_null("id"),
                unique(&["id"]),
            ]
        )
    );
}

#[test]
fn type_changes_know_the_type_from_older_files() {
    let old = "CREATE TABLE t (a int, b varchar(64), c character varying(64), d numeric(10,2),
        e numeric(10,2), f text, g integer, h timestamp, i real, j smallint, k numeric(8,2),
        l serial, m int8[]);";
    let new = "ALTER TABLE t ALTER COLUMN a TYPE int8, ALTER COLUMN b TYPE varchar(32),
        ALTER COLUMN c TYPE text, ALTER COLUMN d TYPE numeric(12,2);
        ALTER TABLE t ALTER COLUMN e TYPE numeric(10,3), ALTER COLUMN f TYPE varchar(64),
        ALTER COLUMN g TYPE text USING g::text, ALTER COLUMN h TYPE timestamptz;
        ALTER TABLE t ALTER COLUMN i TYPE double precision, ALTER COLUMN j TYPE numeric,
        ALTER COLUMN k TYPE numeric, ALTER COLUMN z TYPE bigint;
        ALTER TABLE t ALTER COLUMN l TYPE bigint, ALTER COLUMN m TYPE bigint[];";
    let expected = [
        ("a", Some("integer"), "bigint", false),
        ("b", Some("varchar(64)"), "varchar(32)", true),
        ("c", Some("varchar(64)"), "text", false),
        ("d", Some("numeric(10,2)"), "numeric(12,2)", false),
        ("e", Some("numeric(10,2)"), "numeric(10,3)", true),
        ("f", Some("text"), "varchar(64)", true),
        ("g", Some("integer"), "text", true),
        ("h", Some("timestamp"), "timestamptz", false),
        ("i", Some("real"), "double precision", false),
        ("j", Some("smallint"), "numeric", false),
        ("k", Some("numeric(8,2)"), "numeric", false),
        ("z", None, "bigint", true),
        ("l", Some("integer"), "bigint", false),
        ("m", Some("bigint[]"), "bigint[]", false),
    ];
    let expected = expected
        .iter()
        .map(|(column, from, to, narrowed)| on("t", typed(column, *from, to, *narrowed)))
        .collect::<Vec<_>>();
    assert_eq!(deploy(PG, old, new), expected);
}

/// Every char(n) value fits varchar(m ≥ n): a UUID column moved from char(36) to
/// varchar(36) is not a narrowing (issue 18); varchar(35) and char(1) → varchar(0) are.
#[test]
fn char_to_a_varchar_as_long_is_a_widening() {
    let old = "CREATE TABLE t (a char(36), b character(36), c char, d char(10));";
    let new = "ALTER TABLE t ALTER COLUMN a TYPE varchar(36), ALTER COLUMN b TYPE varchar(35),
        ALTER COLUMN c TYPE varchar(1), ALTER COLUMN d TYPE char(12);";
    let expected = [
        ("a", "char(36)", "varchar(36)", false),
        ("b", "char(36)", "varchar(35)", true),
        ("c", "char(1)", "varchar(1)", false),
        ("d", "char(10)", "char(12)", false),
    ];
    let expected = expected
        .iter()
        .map(|(column, from, to, narrowed)| on("t", typed(column, Some(from), to, *narrowed)))
        .collect::<Vec<_>>();
    assert_eq!(deploy(PG, old, new), expected);
}

#[test]
fn enum_values_removed() {
    let old = "CREATE TYPE status AS ENUM ('new', 'paid');
        ALTER TYPE status ADD VALUE 'shipped';
        CREATE TABLE orders (id int, state status);
        CREATE TABLE refunds (state public.status);
        CREATE TYPE status_v2 AS ENUM ('new', 'sent');
        CREATE TYPE unused AS ENUM ('a');";
    let new = "ALTER TYPE status RENAME VALUE 'paid' TO 'sent';
        ALTER TYPE unused RENAME VALUE 'a' TO 'b';
        ALTER TABLE orders ALTER COLUMN state TYPE status_v2 USING state::text::status_v2;";
    assert_eq!(
        deploy(PG, old, new),
        vec![
            on("orders", enum_removed("state", Some("status"), &["paid"])),
            on("refunds", enum_removed("state", Some("status"), &["paid"])),
            on(
                "orders",
                enum_removed("state", Some("status_v2"), &["shipped"])
            ),
        ]
    );
}

#[test]
fn backfills_and_copies() {
    let new = "UPDATE orders SET total = price * qty, note = lower(note) WHERE total IS NULL;
        UPDATE orders o SET ref = o.legacy_ref || '-' || other.x FROM other;
        INSERT INTO orders_v2 (id, total) SELECT o.id, o.total FROM orders o JOIN shops s ON true;
        INSERT INTO orders_v2 (id) VALUES (1);
        CREATE TABLE orders_copy AS SELECT * FROM orders;";
    assert_eq!(
        deploy(PG, "", new),
        vec![
            on("orders", backfill("total", &["price", "qty"])),
            on("orders", backfill("ref", &["legacy_ref"])),
            on("orders_v2", copy_from("orders")),
            on("orders_v2", copy_from("shops")),
            on("orders_copy", CreateTable),
            on("orders_copy", copy_from("orders")),
        ]
    );
}

#[test]
fn schema_is_dropped_and_quotes_keep_case() {
    let new = "ALTER TABLE public.orders DROP COLUMN a;
        ALTER TABLE \"Orders\" RENAME COLUMN \"Total\" TO total;
        DROP TABLE Public.ITEMS;";
    assert_eq!(
        deploy(PG, "", new),
        vec![
            on("orders", drop_column("a")),
            on("Orders", rename_column("Total", "total")),
            on("items", DropTable),
        ]
    );
}

/// (table, in_deploy, table_is_new, line, column)
type Summary<'a> = (&'a str, bool, bool, Option<u32>, Option<u32>);

#[test]
fn clauses_are_positioned_and_new_tables_marked() {
    let old = "CREATE TABLE old_t (id int);";
    let first = "CREATE TABLE fresh (id int);\nALTER TABLE fresh ADD COLUMN a int NOT NULL;";
    let second = "ALTER TABLE fresh DROP COLUMN a;\nALTER TABLE old_t ADD COLUMN b int,\n  DROP COLUMN id;\n-- migrate:down\nDROP TABLE old_t;";
    let found = run(PG, &[(old, false), (first, true), (second, true)]);
    let summary: Vec<Summary> = found
        .iter()
        .map(|c| {
            let l = &c.location;
            let new = c.table_is_new;
            (c.table.as_str(), c.in_deploy, new, l.line, l.column)
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("old_t", false, false, Some(1), Some(1)),
            ("fresh", true, false, Some(1), Some(1)),
            ("fresh", true, true, Some(2), Some(1)),
            ("fresh", true, true, Some(1), Some(1)),
            ("old_t", true, false, Some(2), Some(1)),
            ("old_t", true, false, Some(3), Some(3)),
        ]
    );
    assert_eq!(found[5].location.path, "2.sql");
}
