"""Builds the legacy gateway's Flask app (legacy-contract.md section 2)."""

from flask import Flask

from . import api_routes, auth_routes, health
from .context import GatewayContext
from .errors import register_error_handlers
from .metrics import GatewayMetrics
from .rbac_store import load_rbac_store
from .settings import load_settings
from .upstream import narrator_upstream, sync_upstream


def create_app(settings=None):
    settings = settings or load_settings()
    app = Flask("terrafusion_gateway")
    app.config["SECRET_KEY"] = settings.secret_key
    metrics = GatewayMetrics()
    app.extensions["terrafusion_gateway"] = GatewayContext(
        settings=settings,
        rbac=load_rbac_store(settings.county_configs_dir),
        sync=sync_upstream(settings),
        narrator=narrator_upstream(settings),
        metrics=metrics,
    )
    metrics.install(app)
    register_error_handlers(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(auth_routes.blueprint)
    app.register_blueprint(api_routes.blueprint)
    return app
