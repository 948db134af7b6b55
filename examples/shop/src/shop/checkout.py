"""Checkout helpers shared by the order handlers."""

from shop.db import pool

DEFAULT_FULFILLMENT_CENTER = 1  # BER1

NEAREST_CENTER = """
    SELECT fc.id
    FROM fulfillment_centers fc
    JOIN customers c ON c.country = fc.country
    WHERE c.id = %(customer_id)s AND fc.active
    ORDER BY fc.id
    LIMIT 1
"""


def pick_fulfillment_center(customer_id: int) -> int:
    with pool.connection() as conn:
        row = conn.execute(NEAREST_CENTER, {"customer_id": customer_id}).fetchone()
    return row[0] if row else DEFAULT_FULFILLMENT_CENTER
