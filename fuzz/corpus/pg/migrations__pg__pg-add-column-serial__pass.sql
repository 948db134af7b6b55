-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- A nullable bigint with no default is metadata-only; existing rows are numbered later in batches.
ALTER TABLE events ADD COLUMN seq bigint;

-- The sequence default only applies to new rows: SET DEFAULT is a catalog change, no rewrite.
CREATE SEQUENCE events_seq_seq OWNED BY events.seq;
ALTER TABLE events ALTER COLUMN seq SET DEFAULT nextval('events_seq_seq');

-- serial on a table created in this file: nothing to rewrite.
CREATE TABLE import_batches (
    source text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE import_batches ADD COLUMN id bigserial PRIMARY KEY;
