SET SESSION lock_wait_timeout = 5;

-- A type change: MySQL copies orders row by row and blocks every write until it is done.
-- (The current type of amount_cents is not in this file: gonogo says so, and still fails it.)
ALTER TABLE orders MODIFY COLUMN amount_cents BIGINT NOT NULL;

-- CHANGE with a new type is a copy too.
ALTER TABLE orders CHANGE COLUMN placed_at placed_at DATETIME(6) NOT NULL;

-- Dropping the primary key without adding another one in the same statement.
ALTER TABLE audit_log DROP PRIMARY KEY;

-- A foreign key while foreign_key_checks is on.
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);

-- An enforced CHECK constraint is validated against every row with ALGORITHM=COPY.
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount_cents > 0);

-- A STORED generated column is computed for every row.
ALTER TABLE orders ADD COLUMN total_cents BIGINT AS (amount_cents + tax_cents) STORED;

-- Asking for it explicitly, or for a lock that blocks writes.
ALTER TABLE orders ADD INDEX orders_status_idx (status), ALGORITHM=COPY;
ALTER TABLE orders ADD INDEX orders_placed_at_idx (placed_at), LOCK=SHARED;
