"""Payment capture for placed orders."""

import uuid

from shop import flags, risk
from shop.db import pool

INSERT_PAYMENT = """
    INSERT INTO payments (order_id, provider, amount_cents, currency, status, idempotency_key)
    VALUES (%(order_id)s, %(provider)s, %(amount_cents)s, %(currency)s, 'initiated', %(key)s)
    RETURNING id
"""

MARK_PAID = "UPDATE orders SET status = 'paid', updated_at = now() WHERE id = %(order_id)s"


class Declined(Exception):
    pass


def capture(order: dict, provider, card_token: str) -> int:
    total = order["total"]
    if flags.is_enabled("fraud-screening-v2") and risk.score(order, card_token) > 0.9:
        raise Declined("payment declined by risk screening")

    # Split a payment across two cards when the first one's limit is too low.
    if flags.flag("split-payments", False) and provider.supports_split():
        parts = provider.split_amount(total["amount_cents"], card_token)
    else:
        parts = [total["amount_cents"]]

    with pool.connection() as conn:
        for amount in parts:
            key = str(uuid.uuid4())
            payment_id = conn.execute(INSERT_PAYMENT, {
                "order_id": order["id"],
                "provider": provider.name,
                "amount_cents": amount,
                "currency": total["currency"],
                "key": key,
            }).fetchone()[0]
            provider.capture(amount, total["currency"], card_token, idempotency_key=key)
        conn.execute(MARK_PAID, {"order_id": order["id"]})
    return payment_id
