CREATE TABLE accounts_new (id BIGINT NOT NULL PRIMARY KEY);
RENAME TABLE accounts_new TO accounts_v2;
ALTER TABLE accounts_v2 RENAME TO accounts_v3;
