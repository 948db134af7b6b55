CREATE TABLE drafts (id BIGINT NOT NULL PRIMARY KEY, legacy_status VARCHAR(16));
ALTER TABLE drafts DROP COLUMN legacy_status;
