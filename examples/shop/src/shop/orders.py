"""Order handlers: place, read and cancel orders."""

from shop import checkout
from shop.db import pool
from shop.flags import flag

INSERT_ORDER = """
    INSERT INTO orders (customer_id, status, amount_cents, currency, notes, fulfillment_center_id)
    VALUES (%(customer_id)s, 'pending', %(amount_cents)s, %(currency)s, %(notes)s, %(fulfillment_center_id)s)
    RETURNING id, created_at
"""

SELECT_ORDER = """
    SELECT id, customer_id, status, amount_cents, currency, notes, created_at, cancelled_at
    FROM orders
    WHERE id = %(id)s
"""

CANCEL_ORDER = """
    UPDATE orders
    SET status = 'cancelled', cancelled_at = now(), updated_at = now()
    WHERE id = %(id)s AND status IN ('pending', 'paid')
    RETURNING id
"""


class Conflict(Exception):
    pass


def create_order(customer_id: int, total: dict, notes: str | None, idempotency_key: str) -> dict:
    if flag("new-checkout-flow"):
        center = checkout.pick_fulfillment_center(customer_id)
    else:
        center = checkout.DEFAULT_FULFILLMENT_CENTER
    params = {
        "customer_id": customer_id,
        "amount_cents": total["amount_cents"],
        "currency": total["currency"],
        "notes": notes,
        "fulfillment_center_id": center,
    }
    with pool.connection() as conn:
        order_id, created_at = conn.execute(INSERT_ORDER, params).fetchone()
    return get_order(order_id)


def get_order(order_id: int) -> dict | None:
    with pool.connection() as conn:
        row = conn.execute(SELECT_ORDER, {"id": order_id}).fetchone()
    if row is None:
        return None
    id_, customer_id, status, amount_cents, currency, notes, created_at, cancelled_at = row
    return {
        "id": id_,
        "customer_id": customer_id,
        "status": status,
        "total": {"amount_cents": amount_cents, "currency": currency},
        "notes": notes,
        "created_at": created_at.isoformat(),
        "cancelled_at": cancelled_at.isoformat() if cancelled_at else None,
    }


def cancel_order(order_id: int, by_customer: bool) -> dict | None:
    if by_customer and not flag('self-service-cancel'):
        raise PermissionError("cancellation by customers is not enabled")
    with pool.connection() as conn:
        if conn.execute(CANCEL_ORDER, {"id": order_id}).fetchone() is None:
            if get_order(order_id) is None:
                return None
            raise Conflict("the order has already shipped")
    return get_order(order_id)
