"""GIS export plugin, prefix /plugins/v1/gis-export (contract section 1, "GIS export plugin").

Quirks kept from production: /run answers 200 with PENDING (not 202); the job starts after
the response; a cancel of a RUNNING job only marks it CANCELLING and the worker later
overwrites that with COMPLETED. `username` is required and never stored. GET /metrics
(section 1b.C) serves the GIS export families with real samples, which production never had.
"""
import logging
import os
import uuid
from typing import Any, Dict, List, Optional

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query
from fastapi.responses import FileResponse, Response
from prometheus_client import generate_latest
from pydantic import BaseModel

from .. import county_config, metrics
from ..gis import jobs, worker
from ..gis.export import job_dir
from ..gis.writers import MEDIA_TYPES
from ..timefmt import iso, utcnow

logger = logging.getLogger("terrafusion_sync.gis_export")

router = APIRouter(prefix="/plugins/v1/gis-export", tags=["gis_export"])


class GisExportRunRequest(BaseModel):
    county_id: str
    format: str
    username: str
    area_of_interest: Dict[str, Any]
    layers: List[str]
    parameters: Optional[Dict[str, Any]] = None


def _parameters(job: Dict[str, Any]) -> Dict[str, Any]:
    return {"area_of_interest": job["area_of_interest_json"], "layers": job["layers_json"],
            **(job["parameters_json"] or {})}


def _status_response(job: Dict[str, Any]) -> Dict[str, Any]:
    return {"job_id": job["job_id"], "county_id": job["county_id"],
            "export_format": job["export_format"], "status": job["status"],
            "message": job["message"], "parameters": _parameters(job),
            "created_at": iso(job["created_at"]), "updated_at": iso(job["updated_at"]),
            "started_at": iso(job["started_at"]), "completed_at": iso(job["completed_at"])}


def _result_response(job: Dict[str, Any]) -> Dict[str, Any]:
    return {"job_id": job["job_id"], "county_id": job["county_id"],
            "export_format": job["export_format"], "status": job["status"],
            "message": job["message"], "parameters": _parameters(job),
            "created_at": iso(job["created_at"]), "completed_at": iso(job["completed_at"]),
            "result": {"file_location": job["result_file_location"],
                       "file_size_kb": job["result_file_size_kb"],
                       "record_count": job["result_record_count"], "data": None}}


def _job_or_404(job_id: str) -> Dict[str, Any]:
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail=f"GIS export job {job_id} not found")
    return job


def _formats_of(county_id: str) -> List[str]:
    config = county_config.get(county_id)
    return list(config.get("available_formats", [])) if config else []


def _defaults_of(county_id: str) -> Dict[str, Any]:
    config = county_config.get(county_id)
    return dict(config.get("export_defaults", {})) if config else {}


@router.post("/run")
def run_export(request: GisExportRunRequest, background_tasks: BackgroundTasks) -> Dict[str, Any]:
    formats = _formats_of(request.county_id)
    if request.format not in formats:
        raise HTTPException(status_code=400, detail=(
            f"Export format '{request.format}' is not supported for county '{request.county_id}'. "
            f"Supported formats are: {', '.join(formats)}"))
    parameters = request.parameters if request.parameters is not None else _defaults_of(request.county_id)
    try:
        job = jobs.insert(str(uuid.uuid4()), request.county_id, request.format,
                          request.area_of_interest, request.layers, parameters)
    except Exception as exc:
        logger.exception("could not create GIS export job")
        raise HTTPException(status_code=500, detail=f"Failed to create export job: {exc}")
    metrics.GIS_EXPORT_SUBMITTED.labels(county_id=request.county_id,
                                        export_format=request.format).inc()
    background_tasks.add_task(worker.submit, job["job_id"])
    return _status_response(job)


@router.get("/status/{job_id}")
def get_status(job_id: str) -> Dict[str, Any]:
    return _status_response(_job_or_404(job_id))


@router.get("/results/{job_id}")
def get_results(job_id: str) -> Dict[str, Any]:
    job = _job_or_404(job_id)
    if job["status"] != "COMPLETED":
        raise HTTPException(status_code=400, detail=(
            f"GIS export job {job_id} is not completed (current status: {job['status']})"))
    return _result_response(job)


@router.post("/cancel/{job_id}")
def cancel_job(job_id: str) -> Dict[str, Any]:
    _job_or_404(job_id)
    refused_by = jobs.cancel(job_id)
    if refused_by is not None:
        raise HTTPException(status_code=400, detail=f"Cannot cancel job that is already {refused_by}")
    return _status_response(_job_or_404(job_id))


@router.get("/list")
def list_jobs(county_id: Optional[str] = None, status: Optional[str] = None,
              limit: int = Query(100, ge=1, le=1000),
              offset: int = Query(0, ge=0)) -> List[Dict[str, Any]]:
    return [_status_response(job) for job in jobs.list_jobs(county_id, status, limit, offset)]


@router.get("/formats/{county_id}")
def get_formats(county_id: str) -> List[str]:
    return _formats_of(county_id)


@router.get("/defaults/{county_id}")
def get_defaults(county_id: str) -> Dict[str, Any]:
    return _defaults_of(county_id)


@router.get("/download/{job_id}")
def download(job_id: str) -> FileResponse:
    job = _job_or_404(job_id)
    directory = job_dir(job_id)
    files = sorted(os.listdir(directory)) if job["status"] == "COMPLETED" and os.path.isdir(directory) else []
    files = [f for f in files if os.path.isfile(os.path.join(directory, f))]
    if not files:
        raise HTTPException(status_code=404, detail=f"Export file for GIS export job {job_id} not found")
    name = files[0]
    media_type = MEDIA_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")
    return FileResponse(os.path.join(directory, name), media_type=media_type, filename=name)


@router.get("/metrics")
def get_metrics() -> Response:
    """The six GIS export families with the samples of the jobs this process ran (1b.C)."""
    try:
        body = generate_latest(metrics.GIS_EXPORT_REGISTRY)
    except Exception as exc:
        raise HTTPException(status_code=500, detail=f"Failed to get metrics: {exc}")
    # media_type text/plain: Starlette answers `text/plain; charset=utf-8`, as production did.
    return Response(content=body, media_type="text/plain")


@router.get("/health")
def health() -> Dict[str, Any]:
    return {"status": "healthy", "plugin": "gis_export", "version": "1.0.0", "timestamp": iso(utcnow())}
