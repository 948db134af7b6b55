-- fixture: transaction=per-file
-- setup: ALTER TABLE payments ADD CONSTRAINT payments_fee_not_null CHECK (fee IS NOT NULL) NOT VALID;
SET lock_timeout = '2s';

-- Already NOT NULL (declared, or the primary key): PostgreSQL only takes ACCESS EXCLUSIVE, no scan.
ALTER TABLE orders ALTER COLUMN total_cents SET NOT NULL;
ALTER TABLE orders ALTER COLUMN id SET NOT NULL;

-- Validated earlier in the same transaction: PostgreSQL 12+ skips the scan (DEBUG1 "existing
-- constraints on column … are sufficient"); the VALIDATE itself scans under the ACCESS
-- EXCLUSIVE the ADD took.
ALTER TABLE users ADD CONSTRAINT users_name_not_null CHECK (name IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_name_not_null;
ALTER TABLE users ALTER COLUMN name SET NOT NULL;

-- An earlier migration added the check NOT VALID and never validated it: SET NOT NULL scans.
ALTER TABLE payments ALTER COLUMN fee SET NOT NULL;
