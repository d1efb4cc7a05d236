"""Valuation plugin, prefix /plugins/v1/valuation (contract section 1, "Market analysis and
valuation plugins").

Production only designed `POST /plugins/v1/valuation/run`: an automated valuation by
simplified comparable-sales adjustment over property_operational. legacy/ builds it in the
reporting plugin's job style: `POST /run` answers **202** with the job already finished
inline, `GET /status/{id}`, `GET /results/{id}` (method in valuation_comparables.py).

Body: `county_id`, and exactly one of `property_id` or `property_ids` (1..100 ids);
`valuation_method` (only `comparable_sales`, the default); optional `parameters`:
`as_of_date` (default: the county's latest arms-length sale, so results are
deterministic), `lookback_months` (1..120, default 24), `min_comparables` (1..20,
default 3), `max_comparables` (1..20, default 5). Bad bodies are pydantic v1 422 lists.
A property that does not exist in that county is an HTTP 404
`{"detail":"Property with ID x not found"}` (the core route's wording) and no job is
created. A county without any arms-length sale before the valuation date ends FAILED
with `Valuation failed: no arms-length sales for county X`.

The job row keeps `property_id` for a single-property request (NULL for a list, whose ids
are in `parameters.property_ids`); `result` is
`{valuation_method, as_of_date, lookback_months, valuations:[...]}`, one entry per
property in request order, with estimated_value, value_range, confidence and the
comparables used. Errors: 404 `Valuation job {id} not found`, 400 `... is not completed`.
"""
from datetime import date, datetime
from typing import Any, Dict, List, Optional

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Extra, conint, conlist, constr, root_validator, validator
from sqlalchemy import text

from ..db import session_scope
from .reporting_jobs import JobFailed, JobTable, add_status_and_results_routes, create_and_run
from .valuation_comparables import latest_sale_date, value_property

router = APIRouter(prefix="/plugins/v1/valuation", tags=["valuation"])

VALUATION_JOBS = JobTable("valuation_jobs", "job_id", "Valuation job",
                          json_columns=("parameters_json", "result_json"))
VALUATION_METHODS = ("comparable_sales",)
MAX_PROPERTIES_PER_JOB = 100
DEFAULTS = {"lookback_months": 24, "min_comparables": 3, "max_comparables": 5}


class ValuationParameters(BaseModel):
    as_of_date: Optional[date] = None
    lookback_months: Optional[conint(ge=1, le=120)] = None
    min_comparables: Optional[conint(ge=1, le=20)] = None
    max_comparables: Optional[conint(ge=1, le=20)] = None

    class Config:
        extra = Extra.allow

    @root_validator(skip_on_failure=True)
    def _bounds_are_ordered(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        low, high = values.get("min_comparables"), values.get("max_comparables")
        low = DEFAULTS["min_comparables"] if low is None else low
        high = DEFAULTS["max_comparables"] if high is None else high
        if low > high:
            raise ValueError("min_comparables must not exceed max_comparables")
        return values


class ValuationRunRequest(BaseModel):
    county_id: constr(max_length=50)  # valuation_jobs.county_id
    property_id: Optional[constr(max_length=64)] = None
    property_ids: Optional[conlist(str, min_items=1, max_items=MAX_PROPERTIES_PER_JOB)] = None
    valuation_method: str = "comparable_sales"
    parameters: Optional[ValuationParameters] = None

    @validator("valuation_method")
    def _known_method(cls, value: str) -> str:
        if value not in VALUATION_METHODS:
            raise ValueError(f"Valuation method must be one of: {', '.join(VALUATION_METHODS)}")
        return value

    @root_validator(skip_on_failure=True)
    def _one_subject(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if (values.get("property_id") is None) == (values.get("property_ids") is None):
            raise ValueError("Exactly one of property_id or property_ids is required")
        return values


class ValuationStatusResponse(BaseModel):
    job_id: str
    property_id: Optional[str]
    county_id: str
    valuation_method: str
    status: str
    message: Optional[str]
    parameters: Optional[Dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    started_at: Optional[datetime]
    completed_at: Optional[datetime]


class ValuationResultResponse(ValuationStatusResponse):
    result: Dict[str, Any]


def _status_body(row: Dict[str, Any]) -> Dict[str, Any]:
    return {"job_id": row["job_id"], "property_id": row["property_id"], "county_id": row["county_id"],
            "valuation_method": row["valuation_method"], "status": row["status"], "message": row["message"],
            "parameters": row["parameters_json"], "created_at": row["created_at"],
            "updated_at": row["updated_at"], "started_at": row["started_at"], "completed_at": row["completed_at"]}


def _load_subjects(county_id: str, property_ids: List[str]) -> List[Dict[str, Any]]:
    """The subject rows in request order; 404 naming the first id the county does not have."""
    with session_scope() as session:
        rows = session.execute(text(
            "SELECT property_id, county_id, property_type, building_area_sqft, land_area_sqft, year_built,"
            "       assessed_total_value FROM property_operational"
            " WHERE county_id = :county_id AND property_id = ANY(:ids)"),
            {"county_id": county_id, "ids": property_ids}).mappings().all()
    found = {r["property_id"]: dict(r) for r in rows}
    for property_id in property_ids:
        if property_id not in found:
            raise HTTPException(status_code=404, detail=f"Property with ID {property_id} not found")
    return [found[property_id] for property_id in property_ids]


def _value(county_id: str, subjects: List[Dict[str, Any]], settings: Dict[str, Any]) -> Dict[str, Any]:
    as_of = settings["as_of_date"] or latest_sale_date(county_id)
    if as_of is None:
        raise JobFailed(f"Valuation failed: no arms-length sales for county {county_id}")
    valuations = [value_property(s, as_of, settings["lookback_months"], settings["min_comparables"],
                                 settings["max_comparables"]) for s in subjects]
    return {"result_json": {"valuation_method": "comparable_sales", "as_of_date": as_of,
                            "lookback_months": settings["lookback_months"], "valuations": valuations}}


@router.post("/run", response_model=ValuationStatusResponse, status_code=status.HTTP_202_ACCEPTED)
def run_valuation(request: ValuationRunRequest) -> Dict[str, Any]:
    """Values the property (or properties) before answering (202, the reporting plugin's quirk)."""
    property_ids = [request.property_id] if request.property_id is not None else list(request.property_ids)
    subjects = _load_subjects(request.county_id, property_ids)
    given = request.parameters.dict(exclude_unset=True) if request.parameters is not None else {}
    settings = {"as_of_date": given.get("as_of_date"),
                **{k: given.get(k) if given.get(k) is not None else v for k, v in DEFAULTS.items()}}
    stored = given if request.property_ids is None else {"property_ids": property_ids, **given}
    row = create_and_run(
        VALUATION_JOBS,
        {"property_id": request.property_id, "county_id": request.county_id,
         "valuation_method": request.valuation_method, "parameters_json": stored or None},
        lambda _job_id: _value(request.county_id, subjects, settings),
        "Valuation completed successfully", "Valuation failed", "Failed to start valuation")
    return _status_body(row)


add_status_and_results_routes(router, VALUATION_JOBS, ValuationStatusResponse, ValuationResultResponse,
                              _status_body, lambda row: row["result_json"])
