"""The legacy sync service: core routes plus job plugins (contract section 1).

Start (cwd legacy/): PYTHONPATH=. /usr/bin/python3 -m uvicorn terrafusion_sync.app:app --port 8080
"""
import importlib
import logging
import os
from typing import Any, Dict, List, Optional

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from . import county_config, seed_data
from .db import get_engine, where_equal

logger = logging.getLogger("terrafusion_sync")

VERSION = "0.1.0"
PLUGINS = ["gis_export", "reporting", "market_analysis", "valuation", "market_analysis_plugin"]

app = FastAPI(title="TerraFusion SyncService", version=VERSION)


def _include_plugins() -> List[str]:
    loaded = []
    for name in PLUGINS:
        try:
            module = importlib.import_module(f"terrafusion_sync.plugins.{name}")
            app.include_router(module.router)
            loaded.append(name)
        except Exception:  # a missing or broken plugin must not take the core service down
            logger.warning("plugin %s not loaded", name, exc_info=True)
    return loaded


LOADED_PLUGINS = _include_plugins()


@app.get("/health")
def health() -> Dict[str, Any]:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        database = {"status": "connected", "database_type": "postgresql",
                    "message": "Database connection successful"}
        status = "healthy"
    except Exception as exc:  # health always answers 200; the body carries the failure
        database = {"status": "error", "database_type": "postgresql", "message": str(exc)}
        status = "unhealthy"
    return {"status": status, "version": VERSION, "database": database,
            "environment": os.environ.get("ENVIRONMENT") or "development"}


@app.get("/metrics")
def metrics() -> Response:
    return Response(content=generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _county_summary(config: Dict[str, Any]) -> Dict[str, Any]:
    return {"county_id": config["county_id"], "county_name": config.get("county_name"),
            "legacy_system_type": config.get("legacy_system_type"),
            "available_formats": config.get("available_formats", [])}


@app.get("/counties")
def list_counties() -> List[Dict[str, Any]]:
    return [_county_summary(c) for c in county_config.all_configs()]


@app.get("/counties/{county_id}")
def get_county(county_id: str) -> Dict[str, Any]:
    config = county_config.get(county_id)
    if config is None:
        raise HTTPException(status_code=404, detail=f"County {county_id} not found")
    counts = county_config.rbac_counts(config)
    return {
        "county_id": config["county_id"],
        "county_name": config.get("county_name"),
        "legacy_system_type": config.get("legacy_system_type"),
        # Production leaks the legacy DB password here; clients already read it.
        "connection_params": config.get("connection_params", {}),
        "users_count": counts["users_count"],
        "roles_count": counts["roles_count"],
        "mappings": config.get("mappings", {}),
    }


@app.get("/properties")
def list_properties(
    county_id: Optional[str] = None,
    property_type: Optional[str] = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> List[Dict[str, Any]]:
    where, params = where_equal({"county_id": county_id, "property_type": property_type})
    sql = f"SELECT * FROM property_operational {where} ORDER BY property_id LIMIT :limit OFFSET :offset"
    with get_engine().connect() as conn:
        rows = conn.execute(text(sql), {**params, "limit": limit, "offset": offset}).mappings().all()
    # Returned as dicts so FastAPI's jsonable_encoder applies: Decimal -> float, date -> ISO.
    return [dict(row) for row in rows]


@app.get("/properties/{property_id}")
def get_property(property_id: str) -> Dict[str, Any]:
    with get_engine().connect() as conn:
        row = conn.execute(text("SELECT * FROM property_operational WHERE property_id = :id"),
                           {"id": property_id}).mappings().first()
    if row is None:
        raise HTTPException(status_code=404, detail=f"Property with ID {property_id} not found")
    return dict(row)


# --- sync administration (section 1b.A): production has no sync sources or import jobs yet ---
@app.get("/sync-sources")
def list_sync_sources(county_id: Optional[str] = None, system_type: Optional[str] = None) -> List[Dict[str, Any]]:
    return []


@app.get("/import-jobs")
def list_import_jobs(source_system_id: Optional[int] = None, status: Optional[str] = None,
                     limit: int = 100, offset: int = 0) -> List[Dict[str, Any]]:
    return []


app.include_router(seed_data.router)
