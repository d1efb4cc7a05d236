"""The narrator's FastAPI app (legacy-contract.md section 3).

Routes: GET /api/v1/health, POST /api/v1/{summarize,classify,explain},
POST /api/v1/ai/analyze/gis-export, GET /api/v1/metrics. Errors are `{"error", "details"}`
(not FastAPI's `{"detail"}`); request validation stays pydantic v1's 422 list.
"""

import logging
import time
import uuid
from typing import Optional
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, confloat, conint, constr

from . import metrics, prompts
from .gis_jobs import JobNotFound, SyncUnavailable, fetch_job
from .models import ModelUnavailable, ollama_models
from .narration import NarrationFailed, narrate

log = logging.getLogger("terrafusion_narrator")


class TextRequest(BaseModel):
    text: constr(min_length=1)
    model: Optional[str] = None
    max_tokens: Optional[conint(ge=1)] = None
    temperature: Optional[confloat(ge=0, le=2)] = None


class GisExportAnalysisRequest(BaseModel):
    job_id: constr(min_length=1)


def _error(status, error, details):
    return JSONResponse(status_code=status, content={"error": error, "details": details})


def create_app(settings):
    app = FastAPI(title="TerraFusion Narrator AI", version="0.1.0")

    def run_task(task_type, prompt, canned, model=None, max_tokens=None, temperature=None, extra=None):
        started = time.perf_counter()
        model = model or settings.model_name
        try:
            narration = narrate(
                settings, task_type, prompt, canned, model,
                settings.max_tokens if max_tokens is None else max_tokens,
                settings.temperature if temperature is None else temperature)
        except NarrationFailed as error:
            metrics.record(task_type, model, "error", time.perf_counter() - started)
            return _error(503, "AI processing failed", str(error))
        elapsed = time.perf_counter() - started
        metrics.record(task_type, narration.model_used, narration.status, elapsed)
        body = {
            "id": str(uuid.uuid4()),
            **(extra or {}),
            "result": narration.result,
            "model_used": narration.model_used,
            "processing_time_ms": round(elapsed * 1000, 2),
            "success": True,
        }
        if narration.fallback_source:
            body["fallback"] = True
            body["fallback_source"] = narration.fallback_source
        return body

    def text_route(task_type):
        def handler(request: TextRequest):
            return run_task(task_type, prompts.build_prompt(task_type, text=request.text),
                            prompts.canned_answer(task_type),
                            request.model, request.max_tokens, request.temperature)
        handler.__name__ = task_type
        return handler

    for task in ("summarize", "classify", "explain"):
        app.post(f"/api/v1/{task}")(text_route(task))

    @app.post("/api/v1/ai/analyze/gis-export")
    def analyze_gis_export(request: GisExportAnalysisRequest):
        try:
            job, result = fetch_job(settings.sync_service_url, quote(request.job_id, safe=""))
        except JobNotFound as error:
            return _error(404, "GIS export job not found", str(error))
        except SyncUnavailable as error:
            return _error(502, "SyncService is not available", str(error))
        fields = prompts.gis_export_fields(job, result)
        return run_task("gis_export_analysis",
                        prompts.build_prompt("gis_export_analysis", **fields),
                        prompts.canned_answer("gis_export_analysis", **fields),
                        extra={"job_id": job.get("job_id"), "job_status": job.get("status")})

    @app.get("/api/v1/health")
    def health():
        try:
            models = ollama_models(settings, timeout=min(5.0, settings.timeout_seconds))
            return {"status": "healthy", "ollama": {"status": "connected", "models": models}}
        except ModelUnavailable:
            # The narrator still answers (it falls back), so it is degraded, not down: 200.
            return {"status": "degraded", "ollama": {"status": "disconnected", "models": []}}

    @app.get("/api/v1/metrics")
    def metrics_route():
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return app
