"""The fallback chain: Ollama, then the cloud (only with ENABLE_CLOUD_AI and OPENAI_API_KEY), then the canned answer.

Outcomes, as counted by ai_jobs_total's `status` label and shown to the caller:
- "success": Ollama answered; model_used = the Ollama model; no `fallback` field in the response.
- "cloud_fallback": the cloud answered; model_used = OPENAI_MODEL; `fallback: true, fallback_source: "cloud"`.
- "template_fallback": canned answer; model_used = "template-fallback"; `fallback: true, fallback_source: "template"`.
- "error": every link failed (the template link is off with ENABLE_TEMPLATE_FALLBACK=false): 503.
"""

import logging
from dataclasses import dataclass
from typing import Optional

from .models import ModelUnavailable, cloud_generate, ollama_generate

TEMPLATE_MODEL = "template-fallback"

log = logging.getLogger("terrafusion_narrator")


@dataclass(frozen=True)
class Narration:
    result: str
    model_used: str
    status: str
    fallback_source: Optional[str]


class NarrationFailed(Exception):
    """Every link of the chain failed; the message lists why."""


def narrate(settings, task_type, prompt, canned, model, max_tokens, temperature):
    """Runs the chain for one prompt; `canned` is the template answer of the last link."""
    reasons = []
    try:
        return Narration(ollama_generate(settings, model, prompt, max_tokens, temperature).strip(), model, "success", None)
    except ModelUnavailable as error:
        reasons.append(f"ollama: {error}")
        log.warning("%s: Ollama failed (%s)", task_type, error)
    if settings.enable_cloud_ai and settings.openai_api_key:
        try:
            text = cloud_generate(settings, prompt, max_tokens, temperature).strip()
            return Narration(text, settings.openai_model, "cloud_fallback", "cloud")
        except ModelUnavailable as error:
            reasons.append(f"cloud: {error}")
            log.warning("%s: cloud AI failed (%s)", task_type, error)
    if settings.enable_template_fallback:
        return Narration(canned, TEMPLATE_MODEL, "template_fallback", "template")
    raise NarrationFailed("; ".join(reasons))
