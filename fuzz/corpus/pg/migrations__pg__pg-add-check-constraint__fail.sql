-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- A CHECK without NOT VALID scans all of orders under ACCESS EXCLUSIVE: reads and writes wait.
ALTER TABLE orders ADD CONSTRAINT orders_total_nonnegative CHECK (total_cents >= 0);

-- Unnamed ADD CHECK: same full scan of invoices.
ALTER TABLE invoices ADD CHECK (due_date >= issued_on);

-- A multi-column rule on payments: same scan, same lock.
ALTER TABLE payments ADD CONSTRAINT payments_refund_le_amount CHECK (refunded_cents <= amount_cents);
