-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- A constant default fills existing rows (metadata-only since PG 11) and covers inserts from the old version.
ALTER TABLE users ADD COLUMN country_code text NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN channel varchar(32) DEFAULT 'web' NOT NULL;

-- Nullable: tighten it later once backfilled.
ALTER TABLE payments ADD COLUMN provider text;

-- NOT NULL without default on a table created in this file: it has no rows.
CREATE TABLE payment_methods (id bigint PRIMARY KEY);
ALTER TABLE payment_methods ADD COLUMN customer_id bigint NOT NULL;
