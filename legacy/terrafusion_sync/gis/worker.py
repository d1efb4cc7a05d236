"""Runs GIS export jobs off the event loop, in a bounded pool of worker threads.

The /run route only enqueues (via BackgroundTasks, right after the response, as production
did); the job moves PENDING->RUNNING when a worker picks it up. GDAL releases the GIL in
its C calls, so a long export neither blocks the event loop nor the other routes.
"""
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor

from .. import metrics
from . import jobs
from .export import run_export

logger = logging.getLogger("terrafusion_sync.gis_export")

SIMULATED_FAILURE_FORMAT = "FAIL_FORMAT_SIM"
_executor = ThreadPoolExecutor(max_workers=int(os.environ.get("GIS_EXPORT_WORKERS", "2")),
                               thread_name_prefix="gis-export")


def download_location(job_id: str) -> str:
    return f"/plugins/v1/gis-export/download/{job_id}"


def submit(job_id: str) -> None:
    _executor.submit(process, job_id)


def process(job_id: str) -> None:
    """The whole life of a job after creation; never raises."""
    try:
        if not jobs.mark_running(job_id):
            return  # cancelled while PENDING
        job = jobs.get(job_id)
        _export(job)
    except Exception:
        logger.exception("GIS export job %s crashed outside the export", job_id)


def _export(job) -> None:
    labels = {"county_id": job["county_id"], "export_format": job["export_format"]}
    started = time.monotonic()
    try:
        if job["export_format"] == SIMULATED_FAILURE_FORMAT:
            raise Exception("Simulated failure for testing purposes")
        result = run_export(job["job_id"], job["county_id"], job["export_format"],
                            job["area_of_interest_json"], job["layers_json"] or [],
                            job["parameters_json"] or {})
    except Exception as exc:
        logger.warning("GIS export job %s failed: %s", job["job_id"], exc)
        jobs.mark_failed(job["job_id"], str(exc))
        metrics.GIS_EXPORT_FAILED.labels(**labels, error_type=type(exc).__name__).inc()
        metrics.GIS_EXPORT_DURATION.labels(**labels).observe(time.monotonic() - started)
        return
    jobs.mark_completed(job["job_id"], download_location(job["job_id"]), result.file_size_kb,
                        result.record_count)
    metrics.GIS_EXPORT_COMPLETED.labels(**labels).inc()
    metrics.GIS_EXPORT_DURATION.labels(**labels).observe(time.monotonic() - started)
    metrics.GIS_EXPORT_FILE_SIZE.labels(**labels).observe(result.file_size_kb)
    metrics.GIS_EXPORT_RECORD_COUNT.labels(**labels).observe(result.record_count)
