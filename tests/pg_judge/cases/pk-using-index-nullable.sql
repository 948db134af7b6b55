-- fixture: transaction=per-statement
-- setup: CREATE TABLE coupons (code text, discount integer);
-- setup: INSERT INTO coupons SELECT 'C' || i, i FROM generate_series(1, 2000) i;
SET lock_timeout = '2s';

CREATE UNIQUE INDEX CONCURRENTLY coupons_code_key ON coupons (code);
-- code is nullable: PRIMARY KEY USING INDEX sets NOT NULL, which scans coupons under ACCESS EXCLUSIVE.
ALTER TABLE coupons ADD CONSTRAINT coupons_pkey PRIMARY KEY USING INDEX coupons_code_key;
