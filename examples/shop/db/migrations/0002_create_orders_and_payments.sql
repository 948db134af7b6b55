-- Orders. Amounts are integer minor units (cents) with an ISO 4217 currency code; never floats.
CREATE TABLE orders (
    id            bigserial    PRIMARY KEY,
    customer_id   bigint       NOT NULL REFERENCES customers (id),
    status        text         NOT NULL DEFAULT 'pending',
    amount_cents  integer      NOT NULL,
    currency      char(3)      NOT NULL,
    created_at    timestamptz  NOT NULL DEFAULT now(),
    updated_at    timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT orders_status_check
        CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled', 'refunded')),
    CONSTRAINT orders_amount_positive CHECK (amount_cents > 0)
);

-- "My orders" page looks orders up by customer. New table, so no CONCURRENTLY needed.
CREATE INDEX orders_customer_id_idx ON orders (customer_id);

-- Payment attempts against an order. One order can have several attempts (declined card, retry),
-- at most one of them succeeded.
CREATE TABLE payments (
    id                bigserial    PRIMARY KEY,
    order_id          bigint       NOT NULL REFERENCES orders (id),
    provider          text         NOT NULL,
    provider_ref      text,
    amount_cents      integer      NOT NULL,
    currency          char(3)      NOT NULL,
    status            text         NOT NULL DEFAULT 'initiated',
    idempotency_key   uuid         NOT NULL,
    created_at        timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT payments_status_check
        CHECK (status IN ('initiated', 'authorized', 'captured', 'declined', 'refunded')),
    CONSTRAINT payments_idempotency_key_key UNIQUE (idempotency_key)
);

CREATE INDEX payments_order_id_idx ON payments (order_id);
