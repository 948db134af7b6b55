-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- gen_random_uuid() is volatile: each existing row needs its own value, so orders is rewritten under ACCESS EXCLUSIVE.
ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();

-- clock_timestamp() changes on every call: the default cannot be stored once in the catalog, events is rewritten.
ALTER TABLE events ADD COLUMN ingested_at timestamptz NOT NULL DEFAULT clock_timestamp();

-- random() is volatile: payments is rewritten while every read and write on it waits.
ALTER TABLE payments ADD COLUMN retry_jitter double precision DEFAULT random();

-- nextval() draws a new number per row: invoices is rewritten to fill the column.
ALTER TABLE invoices ADD COLUMN invoice_number bigint DEFAULT nextval('invoice_number_seq');
