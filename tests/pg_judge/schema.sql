-- The fixture database the PostgreSQL judge (tests/pg_judge.rs) runs every migration on: the
-- tables, columns, indexes and objects the PostgreSQL fixtures under tests/fixtures/migrations/
-- and the cases in tests/pg_judge/cases/ name, each with rows, so that what PostgreSQL does to a
-- realistic table (scan, rewrite, index build, refusal) is what gets measured. It is also read by
-- gonogo as an earlier migration (outside the deploy), which gives it the column types.
-- The tablespace fast_ssd and the roles reporting and support_agent are made by the harness.
CREATE EXTENSION btree_gist;
CREATE EXTENSION citext;

CREATE TYPE payment_status AS ENUM ('pending', 'authorized', 'captured', 'refunded');
CREATE DOMAIN positive_cents AS bigint CHECK (VALUE >= 0);
CREATE SEQUENCE invoice_number_seq;

CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text CONSTRAINT users_email_check CHECK (email LIKE '%@%'),
    display_name varchar(64),
    name text,
    legacy_password_hash text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO users (id, email, display_name, name)
SELECT i, 'user' || i || '@example.com', 'User ' || i, 'Name ' || i FROM generate_series(1, 2000) i;

CREATE TABLE customers (id bigint PRIMARY KEY, company_name varchar(64), currency text, email text);
INSERT INTO customers SELECT i, 'Company ' || i, 'EUR', 'billing' || i || '@example.com'
FROM generate_series(1, 2000) i;

CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint,
    notes text,
    total_cents bigint NOT NULL,
    discount_cents bigint,
    status text,
    placed_at timestamptz,
    created_at timestamptz NOT NULL,
    currency text,
    coupon_code text
);
INSERT INTO orders
SELECT i, (i % 2000) + 1, 'note ' || i, i * 10, 0, CASE WHEN i % 3 = 0 THEN 'open' ELSE 'shipped' END,
       timestamptz '2026-01-01' + i * interval '1 hour', timestamptz '2026-01-01' + i * interval '1 hour',
       'EUR', NULL
FROM generate_series(1, 5000) i;
CREATE INDEX orders_status_idx ON orders (status);
CREATE INDEX orders_created_at_idx ON orders (created_at);
CREATE INDEX orders_customer_idx ON orders (customer_id);

CREATE TABLE order_items (
    id bigint PRIMARY KEY,
    order_id bigint NOT NULL,
    quantity integer NOT NULL,
    unit_price_cents bigint NOT NULL
);
INSERT INTO order_items SELECT i, (i % 5000) + 1, 1 + i % 4, 250 FROM generate_series(1, 8000) i;
CREATE INDEX order_items_order_id_idx ON order_items (order_id);

CREATE TABLE products (id bigint PRIMARY KEY, sku varchar(255) NOT NULL, name varchar(64) NOT NULL);
INSERT INTO products SELECT i, 'SKU-' || i, 'Product ' || i FROM generate_series(1, 2000) i;

CREATE TABLE invoices (
    id bigint PRIMARY KEY,
    customer_id bigint,
    due_date date NOT NULL,
    issued_on date NOT NULL,
    reference_number text,
    amount numeric(10,2) NOT NULL,
    currency text,
    notes text DEFAULT '',
    old_number text
);
INSERT INTO invoices
SELECT i, (i % 2000) + 1, date '2026-02-01' + i % 30, date '2026-01-01' + i % 30, i::text, i * 1.5, 'EUR', '', 'INV-' || i
FROM generate_series(1, 3000) i;
CREATE INDEX invoices_old_number_idx ON invoices (old_number);

CREATE TABLE payments (
    id bigint PRIMARY KEY,
    invoice_id bigint,
    customer_id bigint,
    amount_cents bigint,
    refunded_cents bigint,
    currency text,
    fee numeric(10,2),
    processed_at timestamp,
    created_at timestamptz NOT NULL,
    status text,
    legacy_ref text,
    card_last4 text,
    card_brand text,
    state payment_status NOT NULL DEFAULT 'pending'
);
INSERT INTO payments
SELECT i, (i % 3000) + 1, (i % 2000) + 1, 100 + i, 0, 'EUR', 0.30, timestamp '2026-01-01' + i * interval '1 minute',
       timestamptz '2026-01-01' + i * interval '1 minute', CASE WHEN i % 10 = 0 THEN 'pending' ELSE 'settled' END,
       'LEG-' || i, '4242', 'visa', 'captured'
FROM generate_series(1, 5000) i;
CREATE INDEX payments_legacy_ref_idx ON payments (legacy_ref);
CREATE INDEX payments_customer_id_idx ON payments (customer_id);
CREATE INDEX payments_processed_at_idx ON payments (processed_at);

CREATE TABLE invoice_lines (invoice_id bigint NOT NULL, line_no integer NOT NULL, description text);
INSERT INTO invoice_lines SELECT (i % 3000) + 1, i, 'line ' || i FROM generate_series(1, 4000) i;

CREATE TABLE subscriptions (id bigint PRIMARY KEY, customer_id bigint NOT NULL, active_during tstzrange NOT NULL);
INSERT INTO subscriptions SELECT i, i, tstzrange(timestamptz '2026-01-01', timestamptz '2026-02-01')
FROM generate_series(1, 2000) i;

CREATE TABLE events (id bigint PRIMARY KEY, payload json NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO events (id, payload) SELECT i, json_build_object('n', i) FROM generate_series(1, 4000) i;

CREATE TABLE audit_log (id bigint PRIMARY KEY, action text NOT NULL);
INSERT INTO audit_log SELECT i, 'login' FROM generate_series(1, 2000) i;

CREATE UNLOGGED TABLE import_rows (id bigint PRIMARY KEY, line text);
INSERT INTO import_rows SELECT i, 'row ' || i FROM generate_series(1, 2000) i;

CREATE TABLE sessions (id bigint PRIMARY KEY, client_network cidr, expires_at timestamptz NOT NULL);
INSERT INTO sessions SELECT i, '10.0.0.0/8', timestamptz '2026-01-01' + i * interval '1 hour'
FROM generate_series(1, 3000) i;

CREATE TABLE password_reset_tokens (id bigint PRIMARY KEY, token text NOT NULL);
INSERT INTO password_reset_tokens SELECT i, md5(i::text) FROM generate_series(1, 500) i;
CREATE TABLE email_verifications (id bigint PRIMARY KEY, token text NOT NULL);
INSERT INTO email_verifications SELECT i, md5(i::text) FROM generate_series(1, 500) i;

CREATE TABLE settings (key text PRIMARY KEY, value text);
INSERT INTO settings VALUES ('site_name', 'shop');

CREATE TABLE legacy_carts (id bigint PRIMARY KEY, customer_id bigint);
INSERT INTO legacy_carts SELECT i, i FROM generate_series(1, 500) i;
CREATE TABLE order_notes_old (id bigint PRIMARY KEY, body text);
INSERT INTO order_notes_old SELECT i, 'old' FROM generate_series(1, 500) i;
CREATE TABLE payment_attempts_v1 (id bigint PRIMARY KEY, payment_id bigint);
INSERT INTO payment_attempts_v1 SELECT i, i FROM generate_series(1, 500) i;
CREATE TABLE line_items (id bigint PRIMARY KEY, order_id bigint);
INSERT INTO line_items SELECT i, i FROM generate_series(1, 500) i;

-- A table whose column has a domain type (ALTER DOMAIN … VALIDATE checks every row of it).
CREATE TABLE credits (id bigint PRIMARY KEY, amount positive_cents NOT NULL, kind text);
INSERT INTO credits SELECT i, i, 'goodwill' FROM generate_series(1, 2000) i;

-- A partitioned table with a DEFAULT partition holding rows.
CREATE TABLE measurements (id bigint NOT NULL, recorded_on date NOT NULL, reading numeric NOT NULL)
    PARTITION BY RANGE (recorded_on);
CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE measurements_default PARTITION OF measurements DEFAULT;
INSERT INTO measurements SELECT i, date '2026-01-01' + i % 300, i FROM generate_series(1, 3000) i;
INSERT INTO measurements SELECT i, date '2028-01-01' + i % 300, i FROM generate_series(3001, 4000) i;
-- A table shaped like a partition, to be attached.
CREATE TABLE measurements_2025 (id bigint NOT NULL, recorded_on date NOT NULL, reading numeric NOT NULL);
INSERT INTO measurements_2025 SELECT i, date '2025-01-01' + i % 300, i FROM generate_series(4001, 6000) i;

CREATE MATERIALIZED VIEW daily_revenue AS
    SELECT created_at::date AS day, sum(total_cents) AS revenue_cents FROM orders GROUP BY 1;
CREATE UNIQUE INDEX daily_revenue_day_key ON daily_revenue (day);
CREATE MATERIALIZED VIEW customer_lifetime_value AS
    SELECT customer_id, sum(total_cents) AS total_cents FROM orders GROUP BY customer_id;
CREATE UNIQUE INDEX customer_lifetime_value_customer_id_key ON customer_lifetime_value (customer_id);

ANALYZE;
