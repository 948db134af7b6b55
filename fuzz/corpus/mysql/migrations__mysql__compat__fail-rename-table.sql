SET SESSION lock_wait_timeout = 5;
RENAME TABLE customers TO accounts;
ALTER TABLE sessions RENAME TO user_sessions;
