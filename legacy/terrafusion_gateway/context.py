"""What the routes share: settings, the RBAC store, the upstream clients and the metrics."""

from dataclasses import dataclass
from typing import Any

from flask import current_app


@dataclass(frozen=True)
class GatewayContext:
    settings: Any
    rbac: Any
    sync: Any
    narrator: Any
    metrics: Any


def gateway():
    """The GatewayContext of the app serving the current request."""
    return current_app.extensions["terrafusion_gateway"]
