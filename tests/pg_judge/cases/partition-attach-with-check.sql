-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- A validated CHECK matching the bound lets PostgreSQL skip the scan of the attached table
-- ("partition constraint … is implied by existing constraints").
ALTER TABLE measurements_2025 ADD CONSTRAINT measurements_2025_bound
    CHECK (recorded_on >= DATE '2025-01-01' AND recorded_on < DATE '2026-01-01') NOT VALID;
ALTER TABLE measurements_2025 VALIDATE CONSTRAINT measurements_2025_bound;
ALTER TABLE measurements ATTACH PARTITION measurements_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
