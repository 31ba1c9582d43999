"""The demo app of the chaosops bundle: a small Flask service whose
Prometheus metrics show what an HTTP fault does to it.

Every request is counted in http_requests_total{method,path,status} and
timed in http_request_duration_seconds{method,path}. The path label is the
matched route ("/api/orders"), or "other" for anything unrouted, so a
scanner hitting random URLs cannot blow up the number of series.
"""

import os
import time

from flask import Flask, Response, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from werkzeug.exceptions import HTTPException

DEFAULT_PORT = 8080
UNROUTED_PATH = "other"

ORDERS = [
    {"id": 1001, "item": "chaos monkey plush", "quantity": 2, "status": "shipped"},
    {"id": 1002, "item": "circuit breaker", "quantity": 1, "status": "pending"},
    {"id": 1003, "item": "retry budget", "quantity": 5, "status": "delivered"},
]


def port_from_env(environ):
    """Returns the port to listen on from PORT (default 8080)."""
    raw = environ.get("PORT", "").strip()
    if raw == "":
        return DEFAULT_PORT
    try:
        port = int(raw)
    except ValueError:
        raise ValueError(f"PORT={raw!r} is not a number; use e.g. PORT=8080") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"PORT={port} is out of range; use 1-65535, e.g. PORT=8080")
    return port


def create_app(registry=None):
    """Builds the app with its metrics in registry (a new one by default,
    so tests get fresh counters)."""
    if registry is None:
        registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
    requests_total = Counter(
        "http_requests_total",
        "HTTP requests served, by method, route and status code.",
        ["method", "path", "status"],
        registry=registry,
    )
    duration = Histogram(
        "http_request_duration_seconds",
        "Time to serve an HTTP request, by method and route.",
        ["method", "path"],
        registry=registry,
    )

    app = Flask(__name__)

    @app.before_request
    def start_timer():
        g.started = time.perf_counter()

    @app.after_request
    def observe(response):
        path = request.url_rule.rule if request.url_rule is not None else UNROUTED_PATH
        requests_total.labels(request.method, path, str(response.status_code)).inc()
        started = g.get("started")
        if started is not None:
            duration.labels(request.method, path).observe(time.perf_counter() - started)
        return response

    @app.errorhandler(Exception)
    def internal_error(err):
        # Without a handler Flask skips after_request for a crash, and the
        # 500 would never be counted.
        if isinstance(err, HTTPException):
            return err
        app.logger.exception("request failed")
        return jsonify(error="internal server error"), 500

    @app.get("/")
    def hello():
        return "Hello from python-prometheus!\n"

    @app.get("/api/orders")
    def orders():
        return jsonify(orders=ORDERS, count=len(ORDERS))

    @app.get("/health")
    def health():
        return jsonify(status="ok")

    @app.get("/metrics")
    def metrics():
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return app


app = create_app()

if __name__ == "__main__":
    app.run(host="0.0.0.0", port=port_from_env(os.environ), threaded=True)
