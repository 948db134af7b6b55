-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- Code still deployed may read legacy_carts: dropping it breaks the old version during the rollout, and the data is gone.
DROP TABLE legacy_carts;

-- IF EXISTS with several tables: each one is dropped for good.
DROP TABLE IF EXISTS order_notes_old, payment_attempts_v1;

-- CASCADE also drops the views and foreign keys that depend on audit_log.
DROP TABLE audit_log CASCADE;
