-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- No CHECK proves the partition bound: PostgreSQL scans measurements_2025 (and the DEFAULT
-- partition, which must not hold 2025 rows) before attaching it.
ALTER TABLE measurements ATTACH PARTITION measurements_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
