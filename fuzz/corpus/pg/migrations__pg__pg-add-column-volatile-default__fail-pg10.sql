-- fixture: postgres_version=10
SET lock_timeout = '2s';

-- Before PostgreSQL 11 any non-NULL default is written into every existing row:
-- even this constant default rewrites users under ACCESS EXCLUSIVE.
ALTER TABLE users ADD COLUMN status text DEFAULT 'new';
