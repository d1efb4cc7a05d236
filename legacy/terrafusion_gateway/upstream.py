"""Forwarding to the sync service and the narrator over a keep-alive requests.Session.

A refused or failed connection means the component is offline (503 with its fixed body);
any other transport failure (timeout, broken response) is a communication error (500).
"""

import requests
from flask import Response
from requests.adapters import HTTPAdapter

from .errors import json_error

# Headers of the upstream answer worth keeping; hop-by-hop and length are recomputed.
_KEPT_RESPONSE_HEADERS = ("Content-Type", "Content-Disposition", "Location")


class Upstream:
    def __init__(self, base_url, component, unavailable_error, unavailable_message, connect_timeout, read_timeout):
        self.base_url = base_url
        self.component = component
        self.unavailable_error = unavailable_error
        self.unavailable_message = unavailable_message
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        # The gateway is threaded: let each worker thread keep its own connection.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def probe(self, path, timeout):
        """GET a health path with a short timeout; raises requests exceptions."""
        response = self.session.get(self.base_url + path, timeout=timeout)
        response.close()
        return response

    def call(self, method, path, params=None, body=None, content_type=None, stream=False):
        """(requests.Response, None) or (None, Flask error response).

        With `stream`, the body is left unread: the caller must hand it on or close it.
        """
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                data=body,
                headers=headers,
                timeout=self.timeout,
                stream=stream,
            )
        except requests.exceptions.ConnectionError:
            return None, json_error(503, self.unavailable_error, self.unavailable_message)
        except requests.exceptions.RequestException as exc:
            return None, json_error(500, f"{self.component} communication error", str(exc))
        return response, None

    def forward(self, method, path, params=None, body=None, content_type=None):
        """The upstream's status and body unchanged, or the 503/500 error response."""
        response, error = self.call(method, path, params, body, content_type)
        return error if error is not None else to_flask(response)


def to_flask(response):
    headers = {name: response.headers[name] for name in _KEPT_RESPONSE_HEADERS if name in response.headers}
    return Response(response.content, status=response.status_code, headers=headers)


def to_flask_streamed(response):
    """A streamed upstream answer (a file) relayed in chunks; the connection is released at the end."""
    names = _KEPT_RESPONSE_HEADERS + ("Content-Length",)
    headers = {name: response.headers[name] for name in names if name in response.headers}
    relayed = Response(response.iter_content(chunk_size=64 * 1024), status=response.status_code, headers=headers)
    relayed.call_on_close(response.close)
    return relayed


def sync_upstream(settings):
    return Upstream(
        settings.sync_service_url,
        "SyncService",
        "SyncService is not available",
        "The SyncService component is currently offline.",
        settings.upstream_connect_timeout,
        settings.upstream_read_timeout,
    )


def narrator_upstream(settings):
    return Upstream(
        settings.narrator_url,
        "Narrator",
        "Narrator service is not available",
        "The Narrator AI component is currently offline.",
        settings.upstream_connect_timeout,
        settings.narrator_read_timeout,
    )
