-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- A plain nullable column is metadata-only; a trigger keeps new rows current and old rows are backfilled in batches.
ALTER TABLE order_items ADD COLUMN line_total_cents bigint;
CREATE OR REPLACE FUNCTION order_items_set_line_total() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.line_total_cents := NEW.quantity * NEW.unit_price_cents;
    RETURN NEW;
END;
$$;
CREATE TRIGGER order_items_line_total BEFORE INSERT OR UPDATE ON order_items
    FOR EACH ROW EXECUTE FUNCTION order_items_set_line_total();

-- Or compute it on read.
CREATE OR REPLACE VIEW users_normalized AS SELECT id, lower(email) AS email_lower FROM users;

-- Stored generated columns on a table created in this file: no rows to rewrite.
CREATE TABLE shipments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    weight_grams integer NOT NULL,
    weight_kg numeric GENERATED ALWAYS AS (weight_grams / 1000.0) STORED
);
ALTER TABLE shipments ADD COLUMN is_heavy boolean GENERATED ALWAYS AS (weight_grams > 30000) STORED;
