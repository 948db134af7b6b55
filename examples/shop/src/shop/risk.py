"""Client for the risk scoring service."""

import os

import requests

RISK_URL = os.environ.get("RISK_URL", "http://risk.internal:8080")


def score(order: dict, card_token: str) -> float:
    resp = requests.post(
        f"{RISK_URL}/v2/score",
        json={"order_id": order["id"], "amount_cents": order["total"]["amount_cents"], "card": card_token},
        timeout=0.5,
    )
    resp.raise_for_status()
    return float(resp.json()["score"])
