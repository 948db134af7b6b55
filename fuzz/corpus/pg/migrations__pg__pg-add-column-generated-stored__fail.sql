-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- A STORED generated column is computed for every existing row: order_items is rewritten under ACCESS EXCLUSIVE.
ALTER TABLE order_items ADD COLUMN line_total_cents bigint GENERATED ALWAYS AS (quantity * unit_price_cents) STORED;

-- Even a cheap expression rewrites the whole table: users is unreadable until it finishes.
ALTER TABLE users ADD COLUMN email_lower text GENERATED ALWAYS AS (lower(email)) STORED;
