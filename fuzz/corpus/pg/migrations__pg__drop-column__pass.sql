-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- Contract plan: stop writing users.legacy_password_hash in this release, drop it in the next one.
-- Here we only stop requiring it; DROP NOT NULL and DROP DEFAULT do not remove the column.
ALTER TABLE users ALTER COLUMN legacy_password_hash DROP NOT NULL;
ALTER TABLE users ALTER COLUMN legacy_password_hash DROP DEFAULT;

-- Columns of a table created in this file: no deployed code uses it yet.
CREATE TABLE loyalty_accounts (id bigint PRIMARY KEY, customer_id bigint NOT NULL, points integer);
ALTER TABLE loyalty_accounts ADD COLUMN tier text;
ALTER TABLE loyalty_accounts DROP COLUMN points;
