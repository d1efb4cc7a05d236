"""Reporting's job CRUD under /plugins/v1/reporting (legacy-contract.md section 1b.B).

`POST /reports` records a job and answers **200** with it PENDING (`message` null); nothing
ever processes it, it stays PENDING until a client PATCHes it. `GET /reports/{id}`,
`GET /reports` (filters, newest first; `count` is the page's length, not a total) and
`PATCH /reports/{id}` (any transition; the body is validated before the job is looked up,
so a bad body is 422 even for an unknown id). These share `report_jobs` with `/run`: one id
space, so `/status` and `/results` see these jobs and `GET /reports` sees `/run`'s.

Production answered every ReportJob with a 500 on pydantic v1 (it called v2's
`model_validate`); this re-creation serves them (the contract's rule 2). The column lengths
of `report_jobs` are 422s here, as on `/run`, rather than database errors.
"""
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, constr, validator
from sqlalchemy import text

from ..db import session_scope, where_equal
from ..timefmt import utcnow
from .reporting_jobs import COMPLETED, FAILED, PENDING, RUNNING, JobTable, create_job, find_job, set_columns

STATUSES = (PENDING, RUNNING, COMPLETED, FAILED)
STATUS_ERROR = f"Status must be one of: {', '.join(STATUSES)}"
# What Python says comparing a naive column with a zone-aware value; production's driver
# refused the comparison the same way (a 500), so the re-creation names the reason.
AWARE_ERROR = "can't compare offset-naive and offset-aware datetimes"


class ReportStatusUpdate(BaseModel):
    status: str
    message: Optional[str] = None
    result_location: Optional[constr(max_length=255)] = None
    result_metadata: Optional[Dict[str, Any]] = None

    @validator("status")
    def _known_status(cls, value: str) -> str:
        if value not in STATUSES:
            raise ValueError(STATUS_ERROR)
        return value


def _not_found(report_id: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"Report job with ID {report_id} not found")


def _changes(current: Dict[str, Any], update: ReportStatusUpdate) -> Dict[str, Any]:
    """The columns a PATCH sets: status and updated_at always, the rest as production did."""
    now = utcnow()
    row: Dict[str, Any] = {"status": update.status, "updated_at": now}
    if update.message is not None:
        row["message"] = update.message
    if update.status == RUNNING and current["status"] != RUNNING:
        row["started_at"] = now
    if update.status in (COMPLETED, FAILED):
        row["completed_at"] = now
    # Truthy only: an empty location or {} never clears what a job has.
    if update.result_location:
        row["result_location"] = update.result_location
    if update.result_metadata:
        row["result_metadata_json"] = update.result_metadata
    return row


def add_report_job_routes(router: APIRouter, table: JobTable, request_model: Any, job_model: Any,
                          job_body: Callable[[Dict[str, Any]], Dict[str, Any]]) -> None:
    """Registers the four /reports routes on reporting's router; `job_body` renders a row as ReportJob."""

    class ReportJobList(BaseModel):
        items: List[job_model]  # type: ignore[valid-type]
        count: int

    @router.post("/reports", response_model=job_model)
    def create_report_job(request: request_model) -> Dict[str, Any]:  # type: ignore[valid-type]
        try:
            report_id = create_job(table, {"report_type": request.report_type, "county_id": request.county_id,
                                           "parameters_json": request.parameters, "message": None})
            return job_body(find_job(table, report_id))
        except Exception as exc:
            raise HTTPException(status_code=500, detail=f"Failed to create report job: {exc}")

    @router.get("/reports/{report_id}", response_model=job_model)
    def get_report_job(report_id: str) -> Dict[str, Any]:
        row = find_job(table, report_id)
        if row is None:
            raise _not_found(report_id)
        return job_body(row)

    @router.get("/reports", response_model=ReportJobList)
    def list_report_jobs(
        county_id: Optional[str] = None,
        report_type: Optional[str] = None,
        status: Optional[str] = None,
        created_after: Optional[datetime] = None,
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ) -> Dict[str, Any]:
        try:
            if created_after is not None and created_after.tzinfo is not None:
                raise TypeError(AWARE_ERROR)
            where, params = where_equal({"county_id": county_id, "report_type": report_type, "status": status})
            if created_after is not None:
                where = f"{where} AND created_at >= :created_after" if where else "WHERE created_at >= :created_after"
                params["created_after"] = created_after
            sql = f"SELECT * FROM {table.table} {where} ORDER BY created_at DESC LIMIT :limit OFFSET :offset"
            with session_scope() as session:
                rows = session.execute(text(sql), {**params, "limit": limit, "offset": offset}).mappings().all()
        except Exception as exc:
            raise HTTPException(status_code=500, detail=f"Failed to list report jobs: {exc}")
        items = [job_body(dict(row)) for row in rows]
        return {"items": items, "count": len(items)}

    @router.patch("/reports/{report_id}", response_model=job_model)
    def update_report_job(report_id: str, update: ReportStatusUpdate) -> Dict[str, Any]:
        current = find_job(table, report_id)
        if current is None:
            raise _not_found(report_id)
        try:
            set_columns(table, report_id, _changes(current, update))
            return job_body(find_job(table, report_id))
        except Exception as exc:
            raise HTTPException(status_code=500, detail=f"Failed to update report job status: {exc}")
