-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- An inline CHECK on a new column is verified against every row: a scan under ACCESS EXCLUSIVE.
ALTER TABLE orders ADD COLUMN weight_grams integer CHECK (weight_grams > 0);
-- A column of a domain with a CHECK: PostgreSQL rewrites the table to check the domain.
ALTER TABLE orders ADD COLUMN refund_cents positive_cents;
-- A foreign key on a new column with no default: every value is NULL.
ALTER TABLE orders ADD COLUMN referrer_id bigint REFERENCES users (id);
-- The same with a non-NULL default: every row references users 1 and is checked.
ALTER TABLE orders ADD COLUMN region_owner_id bigint DEFAULT 1 REFERENCES users (id);
