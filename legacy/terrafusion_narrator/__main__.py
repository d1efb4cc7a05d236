"""`python3 -m terrafusion_narrator`: serve the narrator on HOST/PORT with uvicorn."""

import sys

import uvicorn

from .app import create_app
from .settings import load_settings


def main():
    settings = load_settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
