SET SESSION lock_wait_timeout = 5;
-- Existing rows get 0, but every INSERT of the old version, which does not set it, is rejected.
ALTER TABLE orders ADD COLUMN fulfillment_center_id BIGINT NOT NULL, ALGORITHM=INSTANT;
