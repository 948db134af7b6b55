SET SESSION lock_wait_timeout = 5;
-- INSTANT in MySQL 8.0.29+, but old pods still select and insert legacy_status.
ALTER TABLE orders DROP COLUMN legacy_status, ALGORITHM=INSTANT;
