-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- DETACH without CONCURRENTLY locks the parent: every query on measurements waits.
ALTER TABLE measurements DETACH PARTITION measurements_2026;
-- CONCURRENTLY (PostgreSQL 14+) cannot run in a transaction block; alone it does not block.
ALTER TABLE measurements DETACH PARTITION measurements_default CONCURRENTLY;
