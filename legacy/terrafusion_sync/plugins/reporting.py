"""Reporting plugin, prefix /plugins/v1/reporting (contract section 1, "Reporting plugin").

Reproduces production's reporting routes: `POST /run` answers **202 Accepted** although the
job has already run inline (production gave up on background tasks and finished the job
inside the request), so the body already says COMPLETED, or FAILED with
`Simulated report generation failure` for report_type FAILING_REPORT_SIM. Any report_type
and any county_id are accepted, as in production; an unknown county yields a report of
zero properties.

Where production wrote a canned `{"file_size_kb": 1024, "pages": 10}`, legacy/ computes
the report's content from property_operational (counts and assessed-value statistics per
property type, aggregated in SQL, rounded in Python with round-half-to-even) and derives
pages and size from it deterministically. The content is kept in
`result_metadata.summary`, an addition to the contract's four metadata keys (like the GIS
export's /download route, it exists because legacy/ does the real work).

Errors mirror the GIS export's wording: 404 `Report job {id} not found`, 400
`Report job {id} is not completed (current status: FAILED)` from /results. The job CRUD of
section 1b.B (`/reports`) is in reporting_reports.py.
"""
import math
import time
from datetime import datetime
from typing import Any, Dict, List, Optional

from fastapi import APIRouter, status
from pydantic import BaseModel, constr
from sqlalchemy import text

from ..db import session_scope
from ..timefmt import iso, utcnow
from .reporting_jobs import JobFailed, JobTable, add_status_and_results_routes, create_and_run
from .reporting_reports import add_report_job_routes

router = APIRouter(prefix="/plugins/v1/reporting", tags=["reporting"])

REPORT_JOBS = JobTable("report_jobs", "report_id", "Report job",
                       json_columns=("parameters_json", "result_metadata_json"))
FAILING_REPORT_TYPE = "FAILING_REPORT_SIM"

# Page and size model of the rendered PDF: a cover, a county summary, one section per
# property type, and the property roll at ROLL_LINES_PER_PAGE lines a page.
ROLL_LINES_PER_PAGE = 40
BASE_SIZE_KB = 48
KB_PER_PAGE = 12
KB_PER_SECTION = 6


class ReportRunRequest(BaseModel):
    # Lengths of the report_jobs columns: longer values are a 422, not a database error.
    report_type: constr(max_length=100)
    county_id: constr(max_length=50)
    parameters: Optional[Dict[str, Any]] = None


class _ReportJobFields(BaseModel):
    report_id: str
    report_type: str
    county_id: str
    status: str
    message: Optional[str]
    parameters: Optional[Dict[str, Any]]
    created_at: datetime


class ReportStatusResponse(_ReportJobFields):
    updated_at: datetime
    started_at: Optional[datetime]
    completed_at: Optional[datetime]
    result_location: Optional[str]
    result_metadata: Optional[Dict[str, Any]]


class ReportResultDetail(BaseModel):
    result_location: str
    result_metadata: Dict[str, Any]


class ReportResultResponse(_ReportJobFields):
    completed_at: Optional[datetime]
    # None for a COMPLETED job without a location: a PATCHed `POST /reports` job (section 1b.B).
    result: Optional[ReportResultDetail]


def _status_body(row: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "report_id": row["report_id"], "report_type": row["report_type"], "county_id": row["county_id"],
        "status": row["status"], "message": row["message"], "parameters": row["parameters_json"],
        "created_at": row["created_at"], "updated_at": row["updated_at"],
        "started_at": row["started_at"], "completed_at": row["completed_at"],
        "result_location": row["result_location"], "result_metadata": row["result_metadata_json"],
    }


_STATISTICS_SQL = text("""
    SELECT property_type,
           count(*) AS property_count,
           count(assessed_total_value) AS valued_count,
           sum(assessed_total_value) AS total_assessed_value,
           avg(assessed_total_value) AS average_assessed_value,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY assessed_total_value) AS median_assessed_value,
           min(assessed_total_value) AS min_assessed_value,
           max(assessed_total_value) AS max_assessed_value,
           avg(building_area_sqft) AS average_building_area_sqft
      FROM property_operational
     WHERE county_id = :county_id
       AND (CAST(:property_type AS varchar) IS NULL OR property_type = :property_type)
     GROUP BY GROUPING SETS ((property_type), ())
     ORDER BY property_type NULLS LAST
""")


def _round(value: Any, digits: int) -> Any:
    # Python's round(): half-to-even, on Decimal exactly and on float by its binary value.
    return None if value is None else round(value, digits)


def _section(row: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "property_count": row["property_count"],
        "valued_count": row["valued_count"],
        "total_assessed_value": row["total_assessed_value"],
        "average_assessed_value": _round(row["average_assessed_value"], 2),
        "median_assessed_value": _round(row["median_assessed_value"], 2),
        "min_assessed_value": row["min_assessed_value"],
        "max_assessed_value": row["max_assessed_value"],
        "average_building_area_sqft": _round(row["average_building_area_sqft"], 1),
    }


def _property_type_filter(parameters: Optional[Dict[str, Any]]) -> Optional[str]:
    value = (parameters or {}).get("property_type")
    if value is not None and not isinstance(value, str):
        raise JobFailed("Report generation failed: parameters.property_type must be a string")
    return value


def compute_summary(county_id: str, property_type: Optional[str]) -> Dict[str, Any]:
    """Counts and assessed-value statistics of the county's properties, per type and overall."""
    with session_scope() as session:
        rows = [dict(r) for r in session.execute(
            _STATISTICS_SQL, {"county_id": county_id, "property_type": property_type}).mappings()]
    by_type: List[Dict[str, Any]] = [
        {"property_type": r["property_type"], **_section(r)} for r in rows if r["property_type"] is not None]
    # The empty grouping set always yields the overall row, even for a county with no rows.
    overall = next(r for r in rows if r["property_type"] is None)
    return {**_section(overall), "by_property_type": by_type}


def layout(summary: Dict[str, Any]) -> Dict[str, int]:
    """Pages and file size of the rendered report, a pure function of its content."""
    sections = len(summary["by_property_type"])
    pages = 2 + sections + math.ceil(summary["property_count"] / ROLL_LINES_PER_PAGE)
    return {"file_size_kb": BASE_SIZE_KB + KB_PER_PAGE * pages + KB_PER_SECTION * sections, "pages": pages}


def result_location(county_id: str, report_type: str, report_id: str) -> str:
    return f"s3://terrafusion-reports/{county_id}/{report_type}/{report_id}.pdf"


def _generate(report_id: str, request: ReportRunRequest) -> Dict[str, Any]:
    if request.report_type == FAILING_REPORT_TYPE:
        raise JobFailed("Simulated report generation failure")
    started = time.perf_counter()
    summary = compute_summary(request.county_id, _property_type_filter(request.parameters))
    metadata = {**layout(summary),
                "generation_time_seconds": round(time.perf_counter() - started, 3),
                "generated_at": iso(utcnow()),
                "summary": summary}
    return {"result_location": result_location(request.county_id, request.report_type, report_id),
            "result_metadata_json": metadata}


@router.post("/run", response_model=ReportStatusResponse, status_code=status.HTTP_202_ACCEPTED)
def run_report(request: ReportRunRequest) -> Dict[str, Any]:
    """Creates the report job and generates it before answering (202 all the same)."""
    row = create_and_run(
        REPORT_JOBS,
        {"report_type": request.report_type, "county_id": request.county_id, "parameters_json": request.parameters},
        lambda report_id: _generate(report_id, request),
        "Report generation completed successfully", "Report generation failed", "Failed to start report generation")
    return _status_body(row)


def _result_body(row: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    if not row["result_location"]:
        return None
    return {"result_location": row["result_location"], "result_metadata": row["result_metadata_json"] or {}}


add_status_and_results_routes(router, REPORT_JOBS, ReportStatusResponse, ReportResultResponse,
                              _status_body, _result_body)
add_report_job_routes(router, REPORT_JOBS, ReportRunRequest, ReportStatusResponse, _status_body)
