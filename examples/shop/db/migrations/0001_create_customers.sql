-- Customers of the shop. Email is the login identifier, so it is unique (case-insensitively, see
-- the index below); everything else about a customer lives in the CRM, not here.
CREATE TABLE customers (
    id          bigserial    PRIMARY KEY,
    email       text         NOT NULL,
    full_name   text         NOT NULL,
    country     char(2)      NOT NULL,
    created_at  timestamptz  NOT NULL DEFAULT now(),
    updated_at  timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT customers_email_len CHECK (char_length(email) <= 254)
);

-- The table is created in this same migration, so a plain CREATE INDEX is fine here: nobody can be
-- writing to it yet.
CREATE UNIQUE INDEX customers_email_lower_key ON customers (lower(email));
