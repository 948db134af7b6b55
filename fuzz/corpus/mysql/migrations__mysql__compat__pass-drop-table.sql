-- A table created and dropped in the same file never existed for the old version.
CREATE TABLE tmp_backfill (id BIGINT NOT NULL PRIMARY KEY);
DROP TABLE tmp_backfill;
DROP TEMPORARY TABLE IF EXISTS tmp_ids;
