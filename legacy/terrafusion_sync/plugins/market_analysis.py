"""Market-analysis plugin, prefix /plugins/v1/market-analysis (contract section 1,
"Market analysis and valuation plugins").

Production's plugin answered 500 on every run; legacy/ implements what its schemas promised,
in the reporting plugin's job style: `POST /run` answers **202** with the job already
finished inline (COMPLETED or FAILED), `GET /status/{id}`, `GET /results/{id}`.

Analysis types (`analysis_type`): `price_trend_by_zip`, `comparable_market_area`,
`sales_ratio_study` (see market_analysis_studies.py). An unknown type is rejected with
422 before any job exists (pydantic v1 `value_error`, like production's validator).
`parameters` (optional): `start_date`, `end_date` (ISO dates, inclusive), `zip_codes`,
`property_types` (lists of str), and for comparable_market_area `zip_code` (the primary
market; default: the zip with most sales) and `min_similarity` (0..1, default 0.8).
Malformed parameters are 422 too; a study that cannot be computed (no sales in the
primary zip) ends FAILED with `Market analysis failed: ...`.

Results: `result: {result_summary, result_data_location: null, trends}`; trends is the
quarterly series for price_trend_by_zip and null otherwise. Numbers keep Python's habits:
round() half-to-even, whole floats as `1.0`, Decimal money as floats. Errors: 404
`Market analysis job {id} not found`, 400 `... is not completed (current status: X)`.
"""
from datetime import date, datetime
from typing import Any, Dict, List, Optional

from fastapi import APIRouter, status
from pydantic import BaseModel, Extra, confloat, constr, root_validator, validator
from sqlalchemy.engine import Connection

from .market_analysis_studies import (SalesScope, comparable_market_area, market_valuation, price_per_sqft,
                                      price_trend_by_zip, sales_ratio_study, sales_velocity)
from .reporting_jobs import JobTable, add_status_and_results_routes, create_and_run

router = APIRouter(prefix="/plugins/v1/market-analysis", tags=["market_analysis"])

MARKET_ANALYSIS_JOBS = JobTable("market_analysis_jobs", "job_id", "Market analysis job",
                                json_columns=("parameters_json", "result_summary_json"))
ANALYSIS_TYPES = ("price_trend_by_zip", "comparable_market_area", "sales_ratio_study")
# The studies whose result is a summary alone (no trend series), by analysis_type.
SINGLE_SUMMARY_STUDIES = {"sales_ratio_study": sales_ratio_study, "sales_velocity": sales_velocity,
                          "market_valuation": market_valuation, "price_per_sqft": price_per_sqft}
DEFAULT_MIN_SIMILARITY = 0.8


class MarketAnalysisParameters(BaseModel):
    start_date: Optional[date] = None
    end_date: Optional[date] = None
    zip_codes: Optional[List[str]] = None
    property_types: Optional[List[str]] = None
    zip_code: Optional[str] = None
    min_similarity: Optional[confloat(ge=0, le=1)] = None

    class Config:
        extra = Extra.allow  # unknown keys are kept in the job's parameters, as production stored them

    @root_validator(skip_on_failure=True)
    def _range_is_ordered(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        start, end = values.get("start_date"), values.get("end_date")
        if start is not None and end is not None and start > end:
            raise ValueError("start_date must not be after end_date")
        return values


class MarketAnalysisRunRequest(BaseModel):
    analysis_type: str
    county_id: constr(max_length=50)  # market_analysis_jobs.county_id
    parameters: Optional[MarketAnalysisParameters] = None

    @validator("analysis_type")
    def _known_type(cls, value: str) -> str:
        if value not in ANALYSIS_TYPES:
            raise ValueError(f"Analysis type must be one of: {', '.join(ANALYSIS_TYPES)}")
        return value


class MarketAnalysisStatusResponse(BaseModel):
    job_id: str
    county_id: str
    analysis_type: str
    status: str
    message: Optional[str]
    parameters: Optional[Dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    started_at: Optional[datetime]
    completed_at: Optional[datetime]


class MarketAnalysisResultData(BaseModel):
    result_summary: Optional[Dict[str, Any]]
    result_data_location: Optional[str]
    trends: Optional[List[Dict[str, Any]]]


class MarketAnalysisResultResponse(MarketAnalysisStatusResponse):
    result: MarketAnalysisResultData


def _status_body(row: Dict[str, Any]) -> Dict[str, Any]:
    return {"job_id": row["job_id"], "county_id": row["county_id"], "analysis_type": row["analysis_type"],
            "status": row["status"], "message": row["message"], "parameters": row["parameters_json"],
            "created_at": row["created_at"], "updated_at": row["updated_at"],
            "started_at": row["started_at"], "completed_at": row["completed_at"]}


def analyse(analysis_type: str, county_id: str, parameters: Optional[MarketAnalysisParameters],
            connection: Optional[Connection] = None) -> Dict[str, Any]:
    """Runs one study (on `connection` when given); the job columns it fills. Shared with
    /plugins/market-analysis (1b.D), whose jobs live in the same table and read the same way."""
    p = parameters or MarketAnalysisParameters()
    scope = SalesScope(county_id, p.start_date, p.end_date, p.zip_codes, p.property_types, connection)
    trends = None
    if analysis_type == "price_trend_by_zip":
        summary, trends = price_trend_by_zip(scope)
    elif analysis_type == "comparable_market_area":
        min_similarity = DEFAULT_MIN_SIMILARITY if p.min_similarity is None else p.min_similarity
        summary = comparable_market_area(scope, p.zip_code, min_similarity)
    else:
        summary = SINGLE_SUMMARY_STUDIES[analysis_type](scope)
    # One JSON column holds both parts of the result; result_data_location stays NULL
    # because the full result is served inline, not from a file.
    return {"result_summary_json": {"result_summary": summary, "trends": trends}}


@router.post("/run", response_model=MarketAnalysisStatusResponse, status_code=status.HTTP_202_ACCEPTED)
def run_market_analysis(request: MarketAnalysisRunRequest) -> Dict[str, Any]:
    """Creates the analysis job and runs it before answering (202, the reporting plugin's quirk)."""
    parameters = request.parameters.dict(exclude_unset=True) if request.parameters is not None else None
    row = create_and_run(
        MARKET_ANALYSIS_JOBS,
        {"analysis_type": request.analysis_type, "county_id": request.county_id, "parameters_json": parameters},
        lambda _job_id: analyse(request.analysis_type, request.county_id, request.parameters),
        "Market analysis completed successfully", "Market analysis failed", "Failed to start market analysis")
    return _status_body(row)


def _result_body(row: Dict[str, Any]) -> Dict[str, Any]:
    stored = row["result_summary_json"] or {}
    return {"result_summary": stored.get("result_summary"), "result_data_location": row["result_data_location"],
            "trends": stored.get("trends")}


add_status_and_results_routes(router, MARKET_ANALYSIS_JOBS, MarketAnalysisStatusResponse,
                              MarketAnalysisResultResponse, _status_body, _result_body)
