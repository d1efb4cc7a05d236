"""Health routes of the legacy gateway: /health, /health/live, /health/ready.

The gateway's own store is the PostgreSQL at DATABASE_URL: only when it is down does /health
answer 503. A missing sync service makes the gateway "degraded", still 200.
"""

from datetime import datetime

import psycopg2
import requests
from flask import Blueprint, jsonify

from .context import gateway

blueprint = Blueprint("health", __name__)

SERVICE_NAME = "TerraFusion API Gateway"
VERSION = "0.1.0"


def _now():
    # Naive UTC with microseconds, like the rest of the legacy platform.
    return datetime.utcnow().isoformat()


def database_up():
    url = gateway().settings.database_url
    if not url:
        return False
    try:
        # psycopg2's connect_timeout is whole seconds, and 2 is its minimum that is honoured.
        timeout = max(2, int(gateway().settings.health_probe_timeout))
        connection = psycopg2.connect(url, connect_timeout=timeout)
    except psycopg2.Error:
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except psycopg2.Error:
        return False
    finally:
        connection.close()


def sync_up():
    try:
        response = gateway().sync.probe("/health", gateway().settings.health_probe_timeout)
    except requests.RequestException:
        return False
    return response.status_code == 200


def _word(up):
    return "up" if up else "down"


@blueprint.route("/health", methods=["GET"])
def health():
    db, sync = database_up(), sync_up()
    status = "healthy" if db and sync else ("degraded" if db else "unhealthy")
    response = jsonify(
        service=SERVICE_NAME,
        status=status,
        version=VERSION,
        timestamp=_now(),
        components={"api_gateway": "up", "sync_service": _word(sync), "database": _word(db)},
    )
    response.status_code = 200 if db else 503
    return response


@blueprint.route("/health/live", methods=["GET"])
def live():
    return jsonify(status="alive", service=SERVICE_NAME, timestamp=_now())


@blueprint.route("/health/ready", methods=["GET"])
def ready():
    db, sync = database_up(), sync_up()
    response = jsonify(
        status="ready" if db else "not_ready",
        details={"dependencies": {"database": _word(db), "sync_service": _word(sync)}},
        timestamp=_now(),
    )
    response.status_code = 200 if db else 503
    return response
