-- Back-office reports filter orders by day. orders is large and written on every checkout, so the
-- index is built CONCURRENTLY: no lock that blocks inserts while it builds.
-- (CREATE INDEX CONCURRENTLY cannot run inside a transaction block, which is why it is the only
-- statement in this file.)
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_idx ON orders (created_at);
