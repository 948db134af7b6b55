SET SESSION lock_wait_timeout = 5;
ALTER TABLE users RENAME COLUMN name TO full_name, ALGORITHM=INSTANT;
-- CHANGE with a new name is a rename too.
ALTER TABLE users CHANGE COLUMN email email_address VARCHAR(255) NOT NULL;
