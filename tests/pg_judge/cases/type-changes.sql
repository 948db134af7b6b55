-- fixture: transaction=per-statement
-- setup: CREATE INDEX customers_company_name_idx ON customers (company_name);
SET lock_timeout = '2s';

-- A numeric scale change rewrites every value.
ALTER TABLE invoices ALTER COLUMN amount TYPE numeric(10,3);
-- More precision, same scale: binary-coercible, no rewrite.
ALTER TABLE payments ALTER COLUMN fee TYPE numeric(12,2);
-- timestamp -> timestamptz: no heap rewrite when the session time zone is UTC (PostgreSQL 12+),
-- but the index on the column is rebuilt; a rewrite in any other time zone.
ALTER TABLE payments ALTER COLUMN processed_at TYPE timestamptz;
-- varchar -> citext keeps the heap (a binary-coercible cast) but rebuilds the index with citext's
-- operator class.
ALTER TABLE customers ALTER COLUMN company_name TYPE citext;
-- varchar(64) -> text: binary-coercible.
ALTER TABLE users ALTER COLUMN display_name TYPE text;
