"""HTTP entry point: routes, health endpoints, graceful shutdown."""

import os
import signal
import threading

from flask import Flask, jsonify, request

from shop import db, orders

app = Flask(__name__)
draining = threading.Event()


@app.get("/healthz")
def healthz():
    # Liveness: the process is up and serving requests. Dependencies are not checked here; a
    # database outage must not make Kubernetes restart every pod.
    return "ok"


@app.get("/ready")
def ready():
    if draining.is_set() or not db.ready():
        return "not ready", 503
    return "ready"


@app.post("/orders")
def create_order():
    body = request.get_json()
    order = orders.create_order(
        body["customer_id"], body["total"], body.get("notes"), request.headers["Idempotency-Key"]
    )
    return jsonify(order), 201, {"Location": f"/v1/orders/{order['id']}"}


@app.get("/orders/<int:order_id>")
def get_order(order_id: int):
    order = orders.get_order(order_id)
    if order is None:
        return jsonify(code="not_found", message="no such order"), 404
    return jsonify(order)


@app.post("/orders/<int:order_id>/cancel")
def cancel_order(order_id: int):
    try:
        order = orders.cancel_order(order_id, by_customer=request.headers.get("X-Actor") == "customer")
    except orders.Conflict as exc:
        return jsonify(code="conflict", message=str(exc)), 409
    if order is None:
        return jsonify(code="not_found", message="no such order"), 404
    return jsonify(order)


def _on_sigterm(signum, frame):
    # Fail readiness first; the server stops after SHUTDOWN_DRAIN_SECONDS of in-flight requests.
    draining.set()


signal.signal(signal.SIGTERM, _on_sigterm)
DRAIN_SECONDS = int(os.environ.get("SHUTDOWN_DRAIN_SECONDS", "20"))
