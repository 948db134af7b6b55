-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- The per-partition recipe: an invalid index on the parent only, one concurrent build per
-- partition, then ATTACH PARTITION of each (catalog changes): writes go on throughout.
CREATE INDEX measurements_reading_idx ON ONLY measurements (reading);
CREATE INDEX CONCURRENTLY measurements_2026_reading_idx ON measurements_2026 (reading);
ALTER INDEX measurements_reading_idx ATTACH PARTITION measurements_2026_reading_idx;
CREATE INDEX CONCURRENTLY measurements_default_reading_idx ON measurements_default (reading);
ALTER INDEX measurements_reading_idx ATTACH PARTITION measurements_default_reading_idx;
