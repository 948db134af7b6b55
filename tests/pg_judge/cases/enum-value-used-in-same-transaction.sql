SET lock_timeout = '2s';

-- The runner wraps the file in one transaction: a value added by ALTER TYPE … ADD VALUE cannot be
-- used before that transaction commits ("unsafe use of new value"), so the migration cannot succeed.
ALTER TYPE payment_status ADD VALUE 'disputed';
UPDATE payments SET state = 'disputed' WHERE id = 1;
