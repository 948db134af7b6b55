-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- Every row in one statement.
DELETE FROM audit_log;
UPDATE users SET name = upper(name);
-- A "batched" loop in a DO block is still one transaction: every row is updated before COMMIT.
DO $$
DECLARE
    low bigint := 0;
BEGIN
    WHILE low < 5000 LOOP
        UPDATE orders SET currency = 'USD' WHERE id > low AND id <= low + 1000;
        low := low + 1000;
    END LOOP;
END
$$;
