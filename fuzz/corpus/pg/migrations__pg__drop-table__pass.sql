-- Staging tables created in this file, dropped at the end: nothing outside this migration ever saw them.
CREATE TABLE order_backfill_staging (order_id bigint PRIMARY KEY, currency char(3) NOT NULL);
INSERT INTO order_backfill_staging (order_id, currency) VALUES (1, 'EUR'), (2, 'USD');
DROP TABLE order_backfill_staging;

CREATE TEMP TABLE tmp_invoice_ids (invoice_id bigint);
DROP TABLE IF EXISTS tmp_invoice_ids;
