"""JWTs of the legacy gateway: HS256 with JWT_SECRET_KEY.

Claims: sub (user id as a string), username, role, county_ids (RBAC keys), type
(access|refresh), iat, exp. Access tokens live 3600 s, refresh tokens 30 days.
"""

import time

import jwt

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600


class TokenRejected(Exception):
    """Why a token was refused, already in the shape of the 401 body."""

    def __init__(self, error, message):
        super().__init__(message)
        self.error = error
        self.message = message


def mint(user, token_type, secret):
    """A signed token of `token_type` for the user, valid from now."""
    now = int(time.time())
    lifetime = ACCESS_TOKEN_SECONDS if token_type == "access" else REFRESH_TOKEN_SECONDS
    claims = {
        "sub": str(user["id"]),
        "username": user["username"],
        "role": user["role"],
        "county_ids": list(user.get("county_ids", [])),
        "type": token_type,
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(token, secret, expected_type):
    """The claims of a valid token of `expected_type`; raises TokenRejected otherwise.

    Only HS256 is accepted, so `alg: none` and any other algorithm fail as invalid tokens.
    The signature is checked before the expiry, so a forged expired token is "invalid".
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["sub", "type", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("Token expired", "The token has expired. Please log in again.")
    except jwt.InvalidTokenError:
        raise TokenRejected("Invalid token", "The token is invalid.")
    if claims.get("type") != expected_type:
        if expected_type == "access":
            raise TokenRejected(
                "Invalid token type",
                "An access token is required; refresh tokens are only accepted by /auth/refresh.",
            )
        raise TokenRejected("Invalid token type", "A refresh token is required.")
    return claims
