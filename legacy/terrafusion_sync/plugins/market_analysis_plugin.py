"""Market-analysis plugin router, prefix /plugins/market-analysis (contract section 1b.D).

Production's `plugin_router` never answered (its session dependency was broken: 500 on
every call but /health and the 422s). legacy/ serves it with production's shapes, codes and
texts, doing the work for real: the studies of /plugins/v1/market-analysis, computed from
property_operational and property_sales, in the same `market_analysis_jobs` rows, so either
door reads the other's jobs.

- `POST /run` answers **202** `{job_id, status: PENDING, message}`; the job runs after the
  response: RUNNING `Job is being processed`, then COMPLETED `Job completed successfully` or
  FAILED `Error: <e>`. Production slept 1.5-4 s and stored canned numbers; here the study is
  the work.
- `POST /cancel/{id}` moves a PENDING or RUNNING job to CANCELLED `Job cancelled by user`,
  and CANCELLED is final: every later transition of the worker is conditional on the state
  it expects, so a cancelled job is never overwritten with COMPLETED (production's bug).
- While it reads a county and records its result, a job holds that county's market-data lock shared
  (`pg_advisory_lock_shared(hashtext('market_analysis'), hashtext(county_id))`), so a writer
  of the county's sales that takes it exclusively makes running analyses wait instead of
  reading half-written data. The reimplementation takes the same lock.
- `/results` holds `results`: the job's stored result (`result_summary`, `trends`), what
  /plugins/v1/market-analysis/results shows as `result`.

The router is also mounted under /plugins/v1/market-analysis, as production's
plugins/__init__.py did: the doubled /plugins/v1/market-analysis/plugins/market-analysis/*
is an alias of the same routes, and it is the path the gateway's /api/v1/market-analysis/...
passthrough reaches them by.
"""
import logging
from typing import Any, Dict, List, Optional

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, status
from pydantic import BaseModel, constr, validator
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ..db import get_engine, session_scope
from ..timefmt import iso, utcnow
from .market_analysis import MARKET_ANALYSIS_JOBS, MarketAnalysisParameters, analyse
from .reporting_jobs import COMPLETED, FAILED, PENDING, RUNNING, create_job, find_job, update_job

logger = logging.getLogger("terrafusion_sync.market_analysis_plugin")

PREFIX = "/plugins/market-analysis"
ANALYSIS_TYPES = ("price_trend_by_zip", "comparable_market_area", "sales_velocity", "market_valuation",
                  "price_per_sqft")
CANCELLED = "CANCELLED"
QUEUED_MESSAGE = "Job created and queued for processing"
RUNNING_MESSAGE = "Job is being processed"
COMPLETED_MESSAGE = "Job completed successfully"
CANCELLED_MESSAGE = "Job cancelled by user"
_LOCK = "hashtext('market_analysis'), hashtext(:county_id)"

plugin_router = APIRouter(prefix=PREFIX, tags=["market_analysis"])


class PluginRunRequest(BaseModel):
    county_id: constr(max_length=50)  # market_analysis_jobs.county_id
    analysis_type: str
    parameters: MarketAnalysisParameters

    @validator("analysis_type")
    def _known_type(cls, value: str) -> str:
        if value not in ANALYSIS_TYPES:
            raise ValueError(f"Analysis type must be one of: {', '.join(ANALYSIS_TYPES)}")
        return value


def _status_body(row: Dict[str, Any]) -> Dict[str, Any]:
    return {"job_id": row["job_id"], "county_id": row["county_id"], "analysis_type": row["analysis_type"],
            "status": row["status"], "message": row["message"],
            "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]),
            "started_at": iso(row["started_at"]), "completed_at": iso(row["completed_at"])}


def _process(job_id: str, request: PluginRunRequest) -> None:
    """The job's life after the 202; never raises. Past RUNNING, everything happens on the one
    connection that holds the county's lock, so a job never waits for a second connection
    while holding one."""
    try:
        if not update_job(MARKET_ANALYSIS_JOBS, job_id, RUNNING, RUNNING_MESSAGE, only_from=(PENDING,)):
            return  # cancelled while PENDING
        with get_engine().connect() as conn:
            conn.execute(text(f"SELECT pg_advisory_lock_shared({_LOCK})"), {"county_id": request.county_id})
            conn.commit()  # the lock is the session's; no transaction stays open while the study runs
            try:
                _study(conn, job_id, request)
            finally:
                conn.rollback()
                conn.execute(text(f"SELECT pg_advisory_unlock_shared({_LOCK})"), {"county_id": request.county_id})
                conn.commit()
    except Exception:
        logger.exception("market analysis job %s crashed outside its study", job_id)


def _study(conn: Connection, job_id: str, request: PluginRunRequest) -> None:
    try:
        values = analyse(request.analysis_type, request.county_id, request.parameters, conn)
    except Exception as exc:  # the job records the failure
        logger.warning("market analysis job %s failed: %s", job_id, exc)
        conn.rollback()
        update_job(MARKET_ANALYSIS_JOBS, job_id, FAILED, f"Error: {exc}", only_from=(RUNNING,), connection=conn)
        return
    # Only a job still RUNNING completes: a cancel that came first stays.
    update_job(MARKET_ANALYSIS_JOBS, job_id, COMPLETED, COMPLETED_MESSAGE, only_from=(RUNNING,), connection=conn, **values)


@plugin_router.get("/health")
def health() -> Dict[str, Any]:
    return {"status": "ok", "name": "Market Analysis Plugin", "version": "1.0.0", "timestamp": iso(utcnow())}


@plugin_router.post("/run", status_code=status.HTTP_202_ACCEPTED)
def run_analysis(request: PluginRunRequest, background_tasks: BackgroundTasks) -> Dict[str, Any]:
    try:
        job_id = create_job(MARKET_ANALYSIS_JOBS, {
            "analysis_type": request.analysis_type, "county_id": request.county_id, "message": QUEUED_MESSAGE,
            "parameters_json": request.parameters.dict(exclude_unset=True)})
    except Exception as exc:
        logger.exception("could not create market analysis job")
        raise HTTPException(status_code=500, detail=f"Error submitting job: {exc}")
    background_tasks.add_task(_process, job_id, request)
    return {"job_id": job_id, "status": PENDING, "message": QUEUED_MESSAGE}


def _job_or_404(job_id: str) -> Dict[str, Any]:
    row = find_job(MARKET_ANALYSIS_JOBS, job_id)
    if row is None:
        raise HTTPException(status_code=404, detail=f"Job with ID {job_id} not found")
    return row


@plugin_router.get("/status/{job_id}")
def job_status(job_id: str) -> Dict[str, Any]:
    return _status_body(_job_or_404(job_id))


@plugin_router.get("/results/{job_id}")
def job_results(job_id: str) -> Dict[str, Any]:
    row = _job_or_404(job_id)
    if row["status"] != COMPLETED:
        raise HTTPException(status_code=400, detail=f"Job is not completed. Current status: {row['status']}")
    return {**_status_body(row), "parameters": row["parameters_json"], "results": row["result_summary_json"]}


@plugin_router.get("/list")
def list_jobs(county_id: Optional[str] = None, limit: int = Query(100)) -> Dict[str, Any]:
    """Newest first; `limit` has no bounds (production's), so a negative one is the database's error."""
    where = "WHERE county_id = :county_id" if county_id is not None else ""
    sql = (f"SELECT * FROM {MARKET_ANALYSIS_JOBS.table} {where} "
           "ORDER BY created_at DESC, job_id DESC LIMIT :limit")
    with session_scope() as session:
        rows = session.execute(text(sql), {"county_id": county_id, "limit": limit}).mappings().all()
    jobs: List[Dict[str, Any]] = [_status_body(dict(row)) for row in rows]
    return {"jobs": jobs, "count": len(jobs)}


@plugin_router.post("/cancel/{job_id}")
def cancel_job(job_id: str) -> Dict[str, Any]:
    if not update_job(MARKET_ANALYSIS_JOBS, job_id, CANCELLED, CANCELLED_MESSAGE, only_from=(PENDING, RUNNING)):
        raise HTTPException(status_code=400,
                            detail="Job cannot be cancelled. It may be completed, failed, or not found.")
    return {"status": "cancelled", "job_id": job_id}


router = APIRouter()
router.include_router(plugin_router)
router.include_router(plugin_router, prefix="/plugins/v1/market-analysis")
