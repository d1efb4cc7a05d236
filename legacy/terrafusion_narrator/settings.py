"""The narrator's environment, read once at start (legacy-contract.md, conventions and section 3)."""

import os
from dataclasses import dataclass

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    ollama_url: str
    sync_service_url: str
    model_name: str
    max_tokens: int
    temperature: float
    # Seconds one Ollama (or cloud) call may take before it counts as failed.
    timeout_seconds: float
    enable_cloud_ai: bool
    openai_api_key: str
    openai_base_url: str
    openai_model: str
    # When false, a failed chain answers 503 instead of the canned template answer.
    enable_template_fallback: bool
    environment: str


def load_settings(env=None):
    """Settings from the environment, with the platform's defaults."""
    env = os.environ if env is None else env
    return Settings(
        host=env.get("HOST", "127.0.0.1"),
        port=int(env.get("PORT", "7100")),
        ollama_url=env.get("OLLAMA_URL", "http://127.0.0.1:11434").rstrip("/"),
        sync_service_url=env.get("SYNC_SERVICE_URL", "http://127.0.0.1:8080").rstrip("/"),
        model_name=env.get("AI_MODEL_NAME", "llama3.2"),
        max_tokens=int(env.get("AI_MAX_TOKENS", "1000")),
        temperature=float(env.get("AI_TEMPERATURE", "0.7")),
        timeout_seconds=float(env.get("AI_TIMEOUT_SECONDS", "30")),
        enable_cloud_ai=env.get("ENABLE_CLOUD_AI", "").strip().lower() in _TRUE,
        openai_api_key=env.get("OPENAI_API_KEY", ""),
        openai_base_url=env.get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/"),
        openai_model=env.get("OPENAI_MODEL", "gpt-4o-mini"),
        enable_template_fallback=env.get("ENABLE_TEMPLATE_FALLBACK", "true").strip().lower() in _TRUE,
        environment=env.get("ENVIRONMENT", "development"),
    )
