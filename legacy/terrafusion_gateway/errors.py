"""The gateway's error bodies: `{"error": ..., "message": ...}`, keys sorted by jsonify."""

from flask import jsonify
from werkzeug.exceptions import HTTPException


def json_error(status, error, message=None):
    """A Flask response with the legacy error shape; `message` is left out when None."""
    body = {"error": error}
    if message is not None:
        body["message"] = message
    response = jsonify(body)
    response.status_code = status
    return response


def register_error_handlers(app):
    # Flask's defaults are HTML pages; the legacy gateway answered JSON for every error.
    @app.errorhandler(HTTPException)
    def _http_error(exc):
        response = json_error(exc.code or 500, exc.name, exc.description)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc):
        app.logger.exception("unhandled error")
        return json_error(500, "Internal Server Error", str(exc))
