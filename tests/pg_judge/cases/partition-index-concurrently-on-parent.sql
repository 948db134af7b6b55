-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned table
-- ("cannot create index on partitioned table … concurrently"): the deploy stops here.
CREATE INDEX CONCURRENTLY measurements_reading_idx ON measurements (reading);
