"""Who is calling: a Bearer access token or the Flask session cookie, and the RBAC guards.

Reproduces the legacy gateway's `login_required` / `rbac_required(permission)` decorators and
their 401/403 bodies (legacy-contract.md section 2).
"""

import functools
import json

from flask import g, request, session

from . import tokens
from .context import gateway
from .errors import json_error


class Identity:
    """An authenticated caller: claims from a token, or the user record behind a session."""

    def __init__(self, user_id, username, role, county_keys, source):
        self.user_id = user_id
        self.username = username
        self.role = role
        self.county_keys = list(county_keys or [])
        self.source = source


def _bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def resolve_identity():
    """(Identity or None, TokenRejected or None). A present but bad token wins over a session."""
    token = _bearer_token()
    if token is not None:
        try:
            claims = tokens.verify(token, gateway().settings.jwt_secret_key, "access")
        except tokens.TokenRejected as rejected:
            return None, rejected
        identity = Identity(
            claims["sub"], claims.get("username"), claims.get("role"), claims.get("county_ids"), "jwt"
        )
        return identity, None
    user_id = session.get("user_id")
    if user_id is not None:
        user = gateway().rbac.user_by_id(user_id)
        if user is not None:
            return Identity(str(user["id"]), user["username"], user["role"], user["county_ids"], "session"), None
    return None, None


def _authenticate(unauthenticated):
    """(Identity, None) for a valid caller, else (None, the 401 response to send)."""
    identity, rejected = resolve_identity()
    if rejected is not None:
        return None, json_error(401, rejected.error, rejected.message)
    if identity is None:
        return None, unauthenticated()
    return identity, None


def login_required(view):
    """401 `{"error":"Authentication required"}` unless a valid token or session is present."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        identity, refusal = _authenticate(lambda: json_error(401, "Authentication required"))
        if refusal is not None:
            return refusal
        g.identity = identity
        return view(*args, **kwargs)

    return wrapper


def rbac_required(permission):
    """Authentication plus `permission` (a name, or a function of the request giving one)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            identity, refusal = _authenticate(lambda: json_error(401, "Unauthorized", "Authentication required."))
            if refusal is not None:
                return refusal
            needed = permission(kwargs) if callable(permission) else permission
            if needed not in gateway().rbac.permissions_of(identity.role):
                return json_error(403, "Forbidden", f"Missing required permission: {needed}")
            g.identity = identity
            return view(*args, **kwargs)

        return wrapper

    return decorate


def allowed_county_ids(identity):
    """Platform county ids the caller may touch (its RBAC keys mapped through county.json)."""
    return gateway().rbac.county_ids_for_keys(identity.county_keys)


def county_forbidden(county_id):
    """A 403 response when the current caller may not touch `county_id`, else None."""
    if county_id is None or not isinstance(county_id, str):
        return None
    if county_id in allowed_county_ids(g.identity):
        return None
    return json_error(403, "Forbidden", f"Access denied for county: {county_id}")


def county_in_json_body():
    """`county_id` of a JSON object body, or None (bad JSON is left for the upstream to judge)."""
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body.get("county_id") if isinstance(body, dict) else None
