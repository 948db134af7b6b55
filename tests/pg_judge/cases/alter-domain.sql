-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- A domain CHECK without NOT VALID checks every column of that domain: credits is scanned.
ALTER DOMAIN positive_cents ADD CONSTRAINT positive_cents_cap CHECK (VALUE < 1000000000);
-- NOT VALID, then VALIDATE: the scan still holds SHARE on every table using the domain.
ALTER DOMAIN positive_cents ADD CONSTRAINT positive_cents_small CHECK (VALUE < 100000000) NOT VALID;
ALTER DOMAIN positive_cents VALIDATE CONSTRAINT positive_cents_small;
