-- Free-text delivery notes from the checkout form ("leave it with the neighbour").
-- Nullable and without a default: a catalog-only change, no table rewrite.
ALTER TABLE orders ADD COLUMN notes text;

ALTER TABLE orders ADD COLUMN cancelled_at timestamptz;
