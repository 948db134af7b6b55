"""Connection pool for the orders database."""

import os

from psycopg_pool import ConnectionPool

pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=2, max_size=10, open=False)


def ready() -> bool:
    """Readiness: the pool can hand out a connection that answers."""
    try:
        with pool.connection(timeout=1.0) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False
