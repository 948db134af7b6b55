SET SESSION lock_wait_timeout = 5;
ALTER TABLE orders ADD COLUMN fulfillment_center_id BIGINT NULL, ALGORITHM=INSTANT;
ALTER TABLE orders ADD COLUMN priority INT NOT NULL DEFAULT 0, ALGORITHM=INSTANT;
-- On a table created in this file there are no old INSERTs.
CREATE TABLE shipments (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY);
ALTER TABLE shipments ADD COLUMN order_id BIGINT NOT NULL;
