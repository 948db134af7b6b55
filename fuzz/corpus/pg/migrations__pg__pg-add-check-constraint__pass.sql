-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- NOT VALID: only new and updated rows are checked; no scan under ACCESS EXCLUSIVE.
ALTER TABLE orders ADD CONSTRAINT orders_total_nonnegative CHECK (total_cents >= 0) NOT VALID;
ALTER TABLE invoices ADD CONSTRAINT invoices_due_after_issue CHECK (due_date >= issued_on) NOT VALID;

-- Validated in its own transaction: the scan runs under SHARE UPDATE EXCLUSIVE.
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_nonnegative;

-- Checks on a table created in this file: it is empty.
CREATE TABLE refunds (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    reason text
);
ALTER TABLE refunds ADD CONSTRAINT refunds_reason_length CHECK (length(reason) <= 500);
