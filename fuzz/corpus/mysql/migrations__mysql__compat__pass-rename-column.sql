SET SESSION lock_wait_timeout = 5;
-- CHANGE with the same name only redefines the column.
ALTER TABLE users CHANGE COLUMN email email VARCHAR(255) NULL, ALGORITHM=INPLACE, LOCK=NONE;
CREATE TABLE drafts (id BIGINT NOT NULL PRIMARY KEY, title VARCHAR(100));
ALTER TABLE drafts RENAME COLUMN title TO headline;
