"""Login routes of the legacy gateway: /login (form + session cookie), /auth/login and
/auth/refresh (JWT). legacy-contract.md section 2.
"""

from html import escape

from flask import Blueprint, flash, get_flashed_messages, jsonify, redirect, request, session, url_for

from . import tokens
from .context import gateway
from .errors import json_error
from .identity import resolve_identity

blueprint = Blueprint("auth", __name__)


def _safe_next(target):
    # Only same-site paths: an absolute or protocol-relative `next` would be an open redirect.
    if isinstance(target, str) and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@blueprint.route("/", methods=["GET"])
def index():
    identity, _ = resolve_identity()
    who = f"Signed in as {escape(identity.username)}." if identity else '<a href="/login">Sign in</a>'
    return f"<!doctype html><title>TerraFusion</title><h1>TerraFusion API Gateway</h1><p>{who}</p>"


@blueprint.route("/login", methods=["GET"])
def login_form():
    messages = "".join(f"<p class=error>{escape(m)}</p>" for m in get_flashed_messages())
    next_path = escape(_safe_next(request.args.get("next")))
    return (
        "<!doctype html><title>Sign in - TerraFusion</title><h1>Sign in</h1>"
        f"{messages}<form method=post action=/login>"
        f'<input type=hidden name=next value="{next_path}">'
        "<input name=username placeholder=Username><input name=password type=password placeholder=Password>"
        "<button type=submit>Sign in</button></form>"
    )


@blueprint.route("/login", methods=["POST"])
def login_submit():
    """Form login. Success: session cookie and 302 to `next` (or /). Failure: a flashed
    message and 302 back to /login (with `next` kept), as Flask apps of the era did."""
    next_path = _safe_next(request.form.get("next") or request.args.get("next"))
    user = gateway().rbac.authenticate(request.form.get("username"), request.form.get("password"))
    if user is None:
        flash("Invalid username or password")
        return redirect(url_for("auth.login_form", next=next_path))
    session.clear()
    session["user_id"] = str(user["id"])
    session["username"] = user["username"]
    session["role"] = user["role"]
    return redirect(next_path)


def _user_body(user):
    return {
        "id": user["id"],
        "username": user["username"],
        "role": user["role"],
        "county_access": list(user.get("county_ids", [])),
    }


@blueprint.route("/auth/login", methods=["POST"])
def token_login():
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    username, password = body.get("username"), body.get("password")
    if not username or not password:
        return json_error(400, "Bad request", "Username and password are required.")
    user = gateway().rbac.authenticate(username, password)
    if user is None:
        return json_error(401, "Authentication failed", "Invalid username or password.")
    secret = gateway().settings.jwt_secret_key
    return jsonify(
        access_token=tokens.mint(user, "access", secret),
        refresh_token=tokens.mint(user, "refresh", secret),
        token_type="Bearer",
        expires_in=tokens.ACCESS_TOKEN_SECONDS,
        user=_user_body(user),
    )


@blueprint.route("/auth/refresh", methods=["POST"])
def token_refresh():
    """A new access token for a refresh token given as JSON `refresh_token` or as Bearer."""
    body = request.get_json(silent=True)
    token = body.get("refresh_token") if isinstance(body, dict) else None
    if not token:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
    if not token or not isinstance(token, str):
        return json_error(401, "Authentication required")
    secret = gateway().settings.jwt_secret_key
    try:
        claims = tokens.verify(token, secret, "refresh")
    except tokens.TokenRejected as rejected:
        return json_error(401, rejected.error, rejected.message)
    # Role and counties come from the current RBAC files, not the old token.
    user = gateway().rbac.user_by_id(claims["sub"])
    if user is None:
        return json_error(401, "Invalid token", "The token's user no longer exists.")
    return jsonify(
        access_token=tokens.mint(user, "access", secret),
        token_type="Bearer",
        expires_in=tokens.ACCESS_TOKEN_SECONDS,
    )
