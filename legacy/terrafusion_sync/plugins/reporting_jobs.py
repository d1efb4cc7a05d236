"""The job lifecycle of the reporting plugin, shared by market analysis and valuation.

Production's reporting plugin set the job style the other two copy: a row per job in its
own table, PENDING -> RUNNING -> COMPLETED | FAILED, work done inline inside the POST,
and `/status` + `/results` reading the row back. This module owns that row: it never
creates tables (legacy/schema/migrations/jobs/ does), it writes naive-UTC timestamps,
and it stores JSON columns as FastAPI 0.92 would serialise them (Decimal -> float,
date -> ISO string), so the answer of `/run` and of a later `/results` are the same bytes.
"""
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from fastapi import APIRouter, HTTPException
from fastapi.encoders import jsonable_encoder
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ..db import session_scope
from ..timefmt import utcnow

logger = logging.getLogger(__name__)

PENDING, RUNNING, COMPLETED, FAILED = "PENDING", "RUNNING", "COMPLETED", "FAILED"
CREATED_MESSAGE = "Job created and pending processing"
STARTED_MESSAGE = "Job processing started"


@dataclass(frozen=True)
class JobTable:
    """Where one plugin keeps its jobs and how its errors name them."""

    table: str
    id_column: str
    label: str  # "Report job": the subject of 404/400 messages
    json_columns: tuple = ()


def to_json_text(value: Any) -> Optional[str]:
    """JSON text of `value` as FastAPI's encoder would render it, or None for SQL NULL."""
    if value is None:
        return None
    return json.dumps(jsonable_encoder(value))


def _assignments(table: JobTable, values: Mapping[str, Any]) -> Dict[str, str]:
    # JSON columns are bound as text and cast, so psycopg2 never has to adapt a dict.
    return {col: (f"CAST(:{col} AS json)" if col in table.json_columns else f":{col}") for col in values}


def _bind(table: JobTable, values: Mapping[str, Any]) -> Dict[str, Any]:
    return {col: (to_json_text(v) if col in table.json_columns else v) for col, v in values.items()}


def create_job(table: JobTable, values: Mapping[str, Any]) -> str:
    """Inserts a PENDING job with `values` and returns its new uuid4 id."""
    job_id = str(uuid.uuid4())
    now = utcnow()
    row = {table.id_column: job_id, "status": PENDING, "message": CREATED_MESSAGE,
           "created_at": now, "updated_at": now, **values}
    placeholders = _assignments(table, row)
    sql = f"INSERT INTO {table.table} ({', '.join(placeholders)}) VALUES ({', '.join(placeholders.values())})"
    with session_scope() as session:
        session.execute(text(sql), _bind(table, row))
    return job_id


def set_columns(table: JobTable, job_id: str, row: Mapping[str, Any],
                only_from: Tuple[str, ...] = (), connection: Optional[Connection] = None) -> bool:
    """`UPDATE` of the job's columns named in `row` (JSON columns rendered as on insert).
    With `only_from`, only a job in one of those states changes: one conditional UPDATE, so
    two racing transitions cannot both win. On `connection` when given (committed there),
    else in a session of its own. True when the row changed."""
    sets = ", ".join(f"{col} = {expr}" for col, expr in _assignments(table, row).items())
    sql = f"UPDATE {table.table} SET {sets} WHERE {table.id_column} = :job_id"
    guard = {f"_from_{i}": state for i, state in enumerate(only_from)}
    if guard:
        sql += f" AND status IN ({', '.join(':' + name for name in guard)})"
    params = {**_bind(table, row), "job_id": job_id, **guard}
    if connection is not None:
        changed = connection.execute(text(sql), params).rowcount == 1
        connection.commit()
        return changed
    with session_scope() as session:
        return session.execute(text(sql), params).rowcount == 1


def update_job(table: JobTable, job_id: str, status: str, message: str,
               only_from: Tuple[str, ...] = (), connection: Optional[Connection] = None, **values: Any) -> bool:
    """Moves a job to `status`, stamping started_at (RUNNING) or completed_at (COMPLETED,
    FAILED); `only_from` and `connection` as set_columns. True when the row changed."""
    now = utcnow()
    row: Dict[str, Any] = {"status": status, "message": message, "updated_at": now, **values}
    if status == RUNNING:
        row["started_at"] = now
    elif status in (COMPLETED, FAILED):
        row["completed_at"] = now
    return set_columns(table, job_id, row, only_from, connection)


def find_job(table: JobTable, job_id: str) -> Optional[Dict[str, Any]]:
    """The job row as a dict, or None when there is none."""
    sql = f"SELECT * FROM {table.table} WHERE {table.id_column} = :job_id"
    with session_scope() as session:
        row = session.execute(text(sql), {"job_id": job_id}).mappings().first()
    return None if row is None else dict(row)


def get_job(table: JobTable, job_id: str) -> Dict[str, Any]:
    """The job row as a dict; 404 `{label} {id} not found` when there is none."""
    row = find_job(table, job_id)
    if row is None:
        raise HTTPException(status_code=404, detail=f"{table.label} {job_id} not found")
    return row


def get_completed_job(table: JobTable, job_id: str) -> Dict[str, Any]:
    """The job row if COMPLETED; 400 naming the current status otherwise (GIS export's wording)."""
    row = get_job(table, job_id)
    if row["status"] != COMPLETED:
        raise HTTPException(
            status_code=400,
            detail=f"{table.label} {job_id} is not completed (current status: {row['status']})")
    return row


class JobFailed(Exception):
    """Raised by a job's work to fail it with exactly this message (no prefix added)."""


def run_inline(table: JobTable, job_id: str, work: Callable[[], Dict[str, Any]],
               success_message: str, failure_prefix: str) -> None:
    """Runs `work` inside the request: RUNNING, then COMPLETED with the columns it returns,
    or FAILED with a JobFailed's message or `{failure_prefix}: {error}` for anything else."""
    update_job(table, job_id, RUNNING, STARTED_MESSAGE)
    try:
        values = work()
    except JobFailed as exc:
        update_job(table, job_id, FAILED, str(exc))
    except Exception as exc:  # the job records the failure; the request itself still answers
        logger.exception("%s %s failed", table.label, job_id)
        update_job(table, job_id, FAILED, f"{failure_prefix}: {exc}")
    else:
        update_job(table, job_id, COMPLETED, success_message, **values)


def create_and_run(table: JobTable, values: Mapping[str, Any], work: Callable[[str], Dict[str, Any]],
                   success_message: str, failure_prefix: str, start_failure: str) -> Dict[str, Any]:
    """What every `/run` does: create the job, run `work(job_id)` inline, return the final row.
    A job that cannot even be created or recorded is a 500 `{start_failure}: {error}`."""
    try:
        job_id = create_job(table, values)
        run_inline(table, job_id, lambda: work(job_id), success_message, failure_prefix)
        return get_job(table, job_id)
    except HTTPException:
        raise
    except Exception as exc:
        raise HTTPException(status_code=500, detail=f"{start_failure}: {exc}")


def add_status_and_results_routes(router: APIRouter, table: JobTable, status_model: Any, result_model: Any,
                                  status_body: Callable[[Dict[str, Any]], Dict[str, Any]],
                                  result_body: Callable[[Dict[str, Any]], Dict[str, Any]]) -> None:
    """Registers `GET /status/{id}` (any state) and `GET /results/{id}` (COMPLETED only) on `router`."""

    @router.get("/status/{job_id}", response_model=status_model)
    def job_status(job_id: str) -> Dict[str, Any]:
        return status_body(get_job(table, job_id))

    @router.get("/results/{job_id}", response_model=result_model)
    def job_results(job_id: str) -> Dict[str, Any]:
        row = get_completed_job(table, job_id)
        # result_model drops whatever status fields the results shape does not carry.
        return {**status_body(row), "result": result_body(row)}
