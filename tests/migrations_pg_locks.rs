//! The lock, rewrite and scan claims of the PostgreSQL rules changed for issue 16 (points 6–7),
//! checked on a real server: the lock modes a statement holds (`pg_locks`, before COMMIT), whether
//! it read every row (`pg_stat_get_xact_numscans`, this transaction's sequential scans of the
//! table) and whether it rewrote the table (`pg_relation_filenode` changes).

use crate::common::pg::Cluster;

const SCHEMA: &str = "
CREATE TABLE customers (id int PRIMARY KEY);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, v int);
INSERT INTO customers SELECT g FROM generate_series(1, 1000) g;
INSERT INTO orders SELECT g, g, g FROM generate_series(1, 1000) g;
";

/// What `sql` does to `orders`, inside a transaction that is never committed: its sequential
/// scans of orders, the locks held on orders and customers, and whether orders was rewritten.
struct Effect {
    scans: u32,
    locks: String,
    rewritten: bool,
}

fn effect(cluster: &Cluster, sql: &str) -> Effect {
    let before = cluster.query("gonogo", "SELECT pg_relation_filenode('orders')");
    // One simple-query message: BEGIN opens a transaction that psql's exit rolls back; the last
    // SELECT sees this transaction's statistics and locks.
    let out = cluster.query(
        "gonogo",
        &format!(
            "BEGIN; {sql}; SELECT pg_stat_get_xact_numscans('orders'::regclass), \
             (SELECT string_agg(relation::regclass::text || ' ' || mode, ', ' ORDER BY relation::regclass::text, mode) \
              FROM pg_locks WHERE pid = pg_backend_pid() AND relation IN ('orders'::regclass, 'customers'::regclass) \
              AND mode IN ('AccessExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock', 'ExclusiveLock')), \
             pg_relation_filenode('orders') <> {before}"
        ),
    );
    let last = out.lines().last().unwrap_or_default().to_string();
    let fields: Vec<&str> = last.split('|').collect();
    assert_eq!(fields.len(), 3, "{out}");
    Effect {
        scans: fields[0].parse().unwrap_or_else(|_| panic!("{out}")),
        locks: fields[1].to_string(),
        rewritten: fields[2] == "t",
    }
}

#[test]
fn the_lock_rewrite_and_scan_claims_hold_on_a_real_server() {
    let cluster = Cluster::start();
    cluster.create_database("gonogo");
    cluster.execute("gonogo", SCHEMA);

    // Plain ADD COLUMN: a catalog change, no scan.
    let plain = effect(&cluster, "ALTER TABLE orders ADD COLUMN amount int");
    assert_eq!(
        (plain.scans, plain.rewritten),
        (0, false),
        "{}",
        plain.locks
    );

    // pg-add-check-constraint: an inline CHECK on the new column reads every row under ACCESS
    // EXCLUSIVE, without a rewrite.
    let inline = effect(
        &cluster,
        "ALTER TABLE orders ADD COLUMN amount int CHECK (amount > 0)",
    );
    assert_eq!(inline.scans, 1);
    assert!(!inline.rewritten);
    assert_eq!(inline.locks, "orders AccessExclusiveLock");

    // pg-add-foreign-key: SET NOT NULL beside the foreign key makes the ALTER hold ACCESS
    // EXCLUSIVE on orders (the strongest of its sub-commands), SHARE ROW EXCLUSIVE on customers.
    let combined = effect(
        &cluster,
        "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL, \
         ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)",
    );
    assert_eq!(
        combined.locks,
        "customers ShareRowExclusiveLock, orders AccessExclusiveLock, orders ShareRowExclusiveLock"
    );
    assert!(combined.scans >= 1);
    let alone = effect(
        &cluster,
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)",
    );
    assert_eq!(
        alone.locks,
        "customers ShareRowExclusiveLock, orders ShareRowExclusiveLock"
    );
    // The fix gonogo suggests: the constraint alone, NOT VALID: no scan at all.
    let not_valid = effect(
        &cluster,
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID",
    );
    assert_eq!(not_valid.scans, 0);

    // pg-unbatched-backfill: after ADD COLUMN in the same transaction, the UPDATE of every row
    // runs with ACCESS EXCLUSIVE still held.
    let backfill = effect(
        &cluster,
        "ALTER TABLE orders ADD COLUMN currency text; \
         UPDATE orders SET currency = 'EUR' WHERE currency IS NULL",
    );
    assert_eq!(backfill.locks, "orders AccessExclusiveLock");
    assert_eq!(backfill.scans, 1);

    // pg-add-column-generated-stored: fourteen (here three) stored generated columns in one
    // ALTER are one rewrite.
    let generated = effect(
        &cluster,
        "ALTER TABLE orders ADD COLUMN g1 int GENERATED ALWAYS AS (v * 1) STORED, \
         ADD COLUMN g2 int GENERATED ALWAYS AS (v * 2) STORED, \
         ADD COLUMN g3 int GENERATED ALWAYS AS (v * 3) STORED",
    );
    assert!(generated.rewritten);
    // (plus SHARE on orders while its primary key index is rebuilt for the new file)
    assert!(
        generated.locks.starts_with("orders AccessExclusiveLock"),
        "{}",
        generated.locks
    );
}
