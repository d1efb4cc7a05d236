"""Prometheus metrics of the legacy gateway, served at /gateway-metrics.

`endpoint` is the Flask url_rule string (`/api/v1/gis-export/status/<job_id>`), or
`404_not_found` when no rule matched -- which, as in production, includes 405s.
"""

import time

from flask import Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest


class GatewayMetrics:
    def __init__(self):
        # A registry per app, so two apps in one process (tests) do not collide.
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_http_requests_total",
            "Total HTTP requests handled by the gateway",
            ["method", "endpoint", "http_status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "gateway_http_request_duration_seconds",
            "HTTP request duration in seconds",
            ["method", "endpoint"],
            registry=self.registry,
        )

    def install(self, app):
        @app.before_request
        def _start_timer():
            g.request_started = time.perf_counter()

        @app.after_request
        def _record(response):
            started = g.get("request_started")
            endpoint = request.url_rule.rule if request.url_rule is not None else "404_not_found"
            self.requests.labels(request.method, endpoint, str(response.status_code)).inc()
            if started is not None:
                self.duration.labels(request.method, endpoint).observe(time.perf_counter() - started)
            return response

        @app.route("/gateway-metrics", methods=["GET"])
        def gateway_metrics():
            return Response(generate_latest(self.registry), content_type=CONTENT_TYPE_LATEST)
