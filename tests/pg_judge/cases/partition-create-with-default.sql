-- fixture: transaction=per-statement
SET lock_timeout = '2s';

-- measurements has a DEFAULT partition: PostgreSQL must prove none of its rows belong to the new
-- partition, so it scans measurements_default while holding a lock on it and on the parent.
CREATE TABLE measurements_2027 PARTITION OF measurements FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
