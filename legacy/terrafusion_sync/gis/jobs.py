"""Rows of `gis_export_jobs` (schema: legacy/schema/migrations/jobs/001_job_tables.sql).

Every state change is one conditional UPDATE, so a cancel racing the worker's start cannot
both win: PENDING->RUNNING and PENDING->CANCELLED exclude each other. RUNNING->COMPLETED is
deliberately unconditional: production overwrote CANCELLING with COMPLETED, and clients
have seen that.
"""
import json
from typing import Any, Dict, List, Optional

from sqlalchemy import text

from ..db import get_engine, where_equal
from ..timefmt import utcnow

_COLUMNS = ("job_id, export_format, county_id, area_of_interest_json, layers_json, status, message, "
            "parameters_json, created_at, updated_at, started_at, completed_at, "
            "result_file_location, result_file_size_kb, result_record_count")


def insert(job_id: str, county_id: str, export_format: str, area_of_interest: Any,
           layers: List[str], parameters: Dict[str, Any]) -> Dict[str, Any]:
    now = utcnow()
    row = {"job_id": job_id, "export_format": export_format, "county_id": county_id,
           "area_of_interest_json": area_of_interest, "layers_json": layers, "status": "PENDING",
           "message": "Job created and pending processing", "parameters_json": parameters,
           "created_at": now, "updated_at": now, "started_at": None, "completed_at": None,
           "result_file_location": None, "result_file_size_kb": None, "result_record_count": None}
    with get_engine().begin() as conn:
        conn.execute(text(
            "INSERT INTO gis_export_jobs (job_id, export_format, county_id, area_of_interest_json, "
            "layers_json, status, message, parameters_json, created_at, updated_at) VALUES "
            "(:job_id, :export_format, :county_id, CAST(:aoi AS json), CAST(:layers AS json), "
            ":status, :message, CAST(:parameters AS json), :created_at, :updated_at)"),
            {**row, "aoi": json.dumps(area_of_interest), "layers": json.dumps(layers),
             "parameters": json.dumps(parameters)})
    return row


def get(job_id: str) -> Optional[Dict[str, Any]]:
    with get_engine().connect() as conn:
        row = conn.execute(text(f"SELECT {_COLUMNS} FROM gis_export_jobs WHERE job_id = :id"),
                           {"id": job_id}).mappings().first()
    return dict(row) if row is not None else None


def list_jobs(county_id: Optional[str], status: Optional[str], limit: int, offset: int) -> List[Dict[str, Any]]:
    where, params = where_equal({"county_id": county_id, "status": status})
    # job_id breaks created_at ties so paging is stable.
    sql = (f"SELECT {_COLUMNS} FROM gis_export_jobs {where} "
           "ORDER BY created_at DESC, job_id DESC LIMIT :limit OFFSET :offset")
    with get_engine().connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), {**params, "limit": limit, "offset": offset}).mappings().all()]


def _transition(job_id: str, from_status: Optional[str], to_status: str, message: str,
                extra_sql: str = "", extra: Optional[Dict[str, Any]] = None) -> bool:
    now = utcnow()
    guard = " AND status = :from_status" if from_status is not None else ""
    sql = (f"UPDATE gis_export_jobs SET status = :to_status, message = :message, updated_at = :now"
           f"{extra_sql} WHERE job_id = :job_id{guard}")
    params = {"job_id": job_id, "from_status": from_status, "to_status": to_status,
              "message": message, "now": now, **(extra or {})}
    with get_engine().begin() as conn:
        return conn.execute(text(sql), params).rowcount == 1


def mark_running(job_id: str) -> bool:
    """PENDING -> RUNNING; False when the job was cancelled (or vanished) before processing."""
    return _transition(job_id, "PENDING", "RUNNING", "Job processing started",
                       ", started_at = :now")


def mark_completed(job_id: str, location: str, size_kb: int, record_count: int) -> None:
    # Unconditional on purpose: production's worker never looked at CANCELLING.
    _transition(job_id, None, "COMPLETED", "Export completed successfully",
                ", completed_at = :now, result_file_location = :loc, result_file_size_kb = :size, "
                "result_record_count = :count", {"loc": location, "size": size_kb, "count": record_count})


def mark_failed(job_id: str, error: str) -> None:
    _transition(job_id, None, "FAILED", f"Export failed: {error}", ", completed_at = :now")


def cancel(job_id: str) -> Optional[str]:
    """Applies a cancel request; returns the status that refused it, or None when applied."""
    if _transition(job_id, "PENDING", "CANCELLED", "Job cancelled before processing started"):
        return None
    if _transition(job_id, "RUNNING", "CANCELLING", "Job cancellation requested"):
        return None
    job = get(job_id)
    return job["status"] if job is not None else None
