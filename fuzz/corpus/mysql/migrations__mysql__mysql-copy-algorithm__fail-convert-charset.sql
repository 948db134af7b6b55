SET SESSION lock_wait_timeout = 5;

-- sqlparser does not parse CONVERT TO CHARACTER SET; gonogo recognises it: every string column
-- of customers is rewritten with ALGORITHM=COPY.
ALTER TABLE customers CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
