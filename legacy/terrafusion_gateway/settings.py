"""The gateway's environment, read once at start (legacy-contract.md, conventions section)."""

import json
import os
from dataclasses import dataclass

# The development secrets, declared once: the harness's config and the TypeScript gateway read the same file.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "development_secrets.json"), encoding="utf-8") as _file:
    DEVELOPMENT_SECRETS = json.load(_file)


class UnsafeSecrets(Exception):
    """Outside ENVIRONMENT=development, a secret is the development default or empty."""

    code = "CUTOVER_ERR_SECRETS_UNSAFE"


def _default_county_configs_dir():
    # cwd is legacy/ when the supervisor starts us; fall back to the package's sibling folder.
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(here), "county_configs")


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    database_url: str
    sync_service_url: str
    narrator_url: str
    county_configs_dir: str
    jwt_secret_key: str
    secret_key: str
    environment: str
    # Seconds: how long a passthrough may wait for sync/narrator before it counts as an error.
    upstream_connect_timeout: float
    upstream_read_timeout: float
    narrator_read_timeout: float
    # The health probes must answer fast even when a dependency hangs.
    health_probe_timeout: float


def load_settings(env=None):
    """Settings from the environment, with the platform's defaults."""
    env = os.environ if env is None else env
    ai_timeout = float(env.get("AI_TIMEOUT_SECONDS", "30"))
    return Settings(
        host=env.get("HOST", "127.0.0.1"),
        port=int(env.get("PORT", "5000")),
        database_url=env.get("DATABASE_URL", ""),
        sync_service_url=env.get("SYNC_SERVICE_URL", "http://127.0.0.1:8080").rstrip("/"),
        narrator_url=env.get("NARRATOR_URL", "http://127.0.0.1:7100").rstrip("/"),
        county_configs_dir=env.get("COUNTY_CONFIGS_DIR") or _default_county_configs_dir(),
        jwt_secret_key=env.get("JWT_SECRET_KEY", DEVELOPMENT_SECRETS["JWT_SECRET_KEY"]),
        secret_key=env.get("SECRET_KEY", DEVELOPMENT_SECRETS["SECRET_KEY"]),
        environment=env.get("ENVIRONMENT", "development"),
        upstream_connect_timeout=float(env.get("GATEWAY_CONNECT_TIMEOUT_SECONDS", "3")),
        upstream_read_timeout=float(env.get("GATEWAY_READ_TIMEOUT_SECONDS", "60")),
        # The narrator may wait AI_TIMEOUT_SECONDS on Ollama and then fall back; leave it room.
        narrator_read_timeout=ai_timeout + 15,
        health_probe_timeout=float(env.get("GATEWAY_HEALTH_TIMEOUT_SECONDS", "2")),
    )


def check_secrets(settings):
    """Raises UnsafeSecrets naming every problem when the gateway must not start with these secrets."""
    if settings.environment == "development":
        return
    problems = []
    for name, value in (("JWT_SECRET_KEY", settings.jwt_secret_key), ("SECRET_KEY", settings.secret_key)):
        if value == DEVELOPMENT_SECRETS[name]:
            problems.append(f"{name} is the development default")
        elif not value.strip():
            problems.append(f"{name} is empty")
    if problems:
        raise UnsafeSecrets(
            f"the legacy gateway refuses to start in environment '{settings.environment}': {'; '.join(problems)}. "
            "Set JWT_SECRET_KEY and SECRET_KEY to secrets of your own, or ENVIRONMENT=development for a local run."
        )
