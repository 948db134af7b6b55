-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- NOT NULL without a default fails on any table with rows ("contains null values"), and inserts from
-- the old version, which does not set the column, fail too.
ALTER TABLE users ADD COLUMN country_code text NOT NULL;

-- COLUMN is optional: same problem on orders.
ALTER TABLE orders ADD channel varchar(32) NOT NULL;

-- IF NOT EXISTS does not supply a value for existing rows.
ALTER TABLE payments ADD COLUMN IF NOT EXISTS provider text NOT NULL;
