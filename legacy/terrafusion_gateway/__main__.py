"""`python3 -m terrafusion_gateway`: serve the gateway on HOST/PORT with a threaded server.

Prints `listening on http://HOST:PORT` (the real port, so PORT=0 works) once it accepts connections.
"""

import sys

from werkzeug.serving import make_server

from .app import create_app
from .settings import UnsafeSecrets, check_secrets, load_settings


def main():
    settings = load_settings()
    try:
        check_secrets(settings)
    except UnsafeSecrets as error:
        print(f"{error.code}: {error}", file=sys.stderr, flush=True)
        return 2
    app = create_app(settings)
    server = make_server(settings.host, settings.port, app, threaded=True)
    print(f"listening on http://{settings.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
