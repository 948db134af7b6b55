-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- The old version still running during the rollout selects legacy_password_hash: its queries fail once it is gone.
ALTER TABLE users DROP COLUMN legacy_password_hash;

-- IF EXISTS and CASCADE: the column (and any view using it) is gone for the old code too.
ALTER TABLE orders DROP COLUMN IF EXISTS coupon_code CASCADE;

-- Two columns in one statement.
ALTER TABLE payments DROP COLUMN card_last4, DROP COLUMN card_brand;
