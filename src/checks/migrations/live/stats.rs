//! Table statistics from the stats database: sizes for the cost model, activity for the queue.

use super::connect::describe;
use super::estimate::TableSize;
use std::collections::HashMap;
use tokio_postgres::Client;

#[derive(Debug, Clone, PartialEq)]
pub struct TableStats {
    pub oid: u32,
    /// `pg_class.reltuples`: the planner's row estimate (-1 or 0 before the first ANALYZE).
    pub rows: f64,
    /// The main fork (`pg_class.relpages` × block size).
    pub heap_bytes: u64,
    /// Heap + TOAST: what a rewrite copies.
    pub table_bytes: u64,
    /// All indexes together.
    pub index_bytes: u64,
    pub indexes: u32,
    /// Rows inserted, updated and deleted per second, averaged since the statistics were reset.
    pub writes_per_s: f64,
    /// Sequential and index scans per second, same average.
    pub reads_per_s: f64,
}

impl TableStats {
    pub fn size(&self) -> TableSize {
        TableSize {
            table_bytes: self.table_bytes,
            indexes: self.indexes,
        }
    }
}

/// Statistics for each of `tables` (names as in the migration, resolved with the stats
/// connection's search_path); a table the database does not have is absent from the map.
pub async fn read(
    client: &Client,
    tables: &[String],
) -> Result<HashMap<String, TableStats>, String> {
    if tables.is_empty() {
        return Ok(HashMap::new());
    }
    // One round trip for all tables. to_regclass returns NULL for a missing table instead of
    // failing the query; names are quoted so a mixed-case or odd name cannot break the parse.
    // Sizes come from pg_class (as of the last VACUUM/ANALYZE/CREATE INDEX), not from
    // pg_relation_size: that takes ACCESS SHARE on the table and would wait behind a session
    // holding ACCESS EXCLUSIVE, the very situation the pre-flight must report.
    let rows = client
        .query(
            "WITH wanted AS (
                 SELECT name, to_regclass(quote_ident(name)) AS oid FROM unnest($1::text[]) AS name
             ), since AS (
                 SELECT greatest(extract(epoch FROM now() - coalesce(
                     (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()),
                     pg_postmaster_start_time())), 1)::float8 AS seconds,
                     current_setting('block_size')::int8 AS block
             )
             SELECT w.name, c.oid, c.reltuples::float8,
                    c.relpages::int8 * since.block,
                    (c.relpages::int8 + coalesce(t.relpages, 0)) * since.block,
                    coalesce((SELECT sum(ic.relpages)::int8 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                              WHERE i.indrelid = c.oid), 0) * since.block,
                    (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid)::int8,
                    (coalesce(s.n_tup_ins + s.n_tup_upd + s.n_tup_del, 0))::float8 / since.seconds,
                    (coalesce(s.seq_scan, 0) + coalesce(s.idx_scan, 0))::float8 / since.seconds
             FROM wanted w
             JOIN pg_class c ON c.oid = w.oid
             LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
             LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
             CROSS JOIN since",
            &[&tables],
        )
        .await
        .map_err(|e| format!("reading table statistics failed: {}", describe(&e)))?;
    let mut out = HashMap::new();
    for row in rows {
        let name: String = row.get(0);
        let nonneg = |v: i64| u64::try_from(v).unwrap_or(0);
        out.insert(
            name,
            TableStats {
                oid: row.get(1),
                rows: row.get::<_, f64>(2).max(0.0),
                heap_bytes: nonneg(row.get(3)),
                table_bytes: nonneg(row.get(4)),
                index_bytes: nonneg(row.get(5)),
                indexes: u32::try_from(row.get::<_, i64>(6)).unwrap_or(u32::MAX),
                writes_per_s: row.get(7),
                reads_per_s: row.get(8),
            },
        );
    }
    Ok(out)
}
