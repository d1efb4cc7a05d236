"""`POST /seed-sample-data` (legacy-contract.md section 1b.A): random sample properties.

Production built each row from 30-odd random attributes and passed them all to its model;
nine are not model columns, so every `count >= 1` was a 500. This re-creation keeps the
guard, the parameters, the texts and the answer, and really inserts the rows, keeping what
has a column of `property_operational` (address_street -> address, address_city -> city,
address_zip -> zip_code, assessed_value -> assessed_total_value, and the rest by name), drawn
from production's ranges. The others have nowhere to go and are not drawn: state, market
value, assessment year, tax and owner fields, exemption and historical flags, legal
description, data source, extended attributes, and latitude/longitude (`geometry` holds a
parcel's polygon, and a seed point is not one: exports read parcels as polygons).

A shadow instance (its search path puts its own schema before `public`) has no
`property_operational` of its own: reference data is read from `public`. It inserts its rows
as any instance does, so its answer and its failures are real, and rolls them back, so a
shadowed seed never changes the serving side's data (docs/decisions/0002-shadow-writes.md).
"""
import json
import os
import random
import uuid
from datetime import timedelta
from typing import Any, Dict, List

from fastapi import APIRouter, HTTPException
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from .db import get_engine
from .timefmt import utcnow

router = APIRouter()

FORBIDDEN = "Seed endpoint is only available in development environment"
PROPERTY_TYPES = ["residential", "commercial", "industrial", "agricultural", "vacant"]
STREET_TYPES = ["St", "Ave", "Blvd", "Rd"]
BATHROOMS = [1.0 + 0.5 * step for step in range(7)]
CHUNK = 1000

COLUMNS = ["property_id", "county_id", "parcel_number", "address", "city", "zip_code", "property_type",
           "land_area_sqft", "building_area_sqft", "year_built", "bedrooms", "bathrooms",
           "assessed_total_value", "last_sale_price", "last_sale_date"]
# One statement per chunk: the rows travel as one JSON array; a property_id already taken
# is skipped (and drawn again) rather than failing the whole seed.
INSERT_SQL = text(
    f"INSERT INTO property_operational ({', '.join(COLUMNS)}) "
    f"SELECT {', '.join(COLUMNS)} FROM json_populate_recordset(NULL::property_operational, CAST(:rows AS json)) "
    "ON CONFLICT (property_id) DO NOTHING RETURNING property_id")
OWN_TABLE_SQL = text(
    "SELECT n.nspname = current_schema() FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.oid = to_regclass('property_operational')")


def new_property_id() -> str:
    return f"PROP-{uuid.uuid4().hex[:8]}"


def sample_property(county_id: str) -> Dict[str, Any]:
    """One random row, drawn from production's ranges, of the attributes that have a column."""
    property_type = random.choice(PROPERTY_TYPES)
    built = property_type != "vacant"
    residential = property_type == "residential"
    return {
        "property_id": new_property_id(),
        "county_id": county_id,
        "parcel_number": f"P-{random.randint(100000, 999999)}",
        "address": f"{random.randint(100, 9999)} Sample {random.choice(STREET_TYPES)}",
        "city": "Sample City",
        "zip_code": str(random.randint(10000, 99999)),
        "property_type": property_type,
        "land_area_sqft": random.randint(2000, 20000),
        "building_area_sqft": random.randint(1000, 5000) if built else None,
        "year_built": random.randint(1950, 2023) if built else None,
        "bedrooms": random.randint(2, 6) if residential else None,
        "bathrooms": random.choice(BATHROOMS) if residential else None,
        "assessed_total_value": random.randint(100000, 800000),
        "last_sale_price": random.randint(100000, 1000000),
        "last_sale_date": (utcnow() - timedelta(days=random.randint(30, 3650))).date().isoformat(),
    }


def _insert(conn, rows: List[Dict[str, Any]]) -> int:
    """Inserts every row, drawing a new property_id for each whose id is already taken."""
    pending = rows
    while pending:
        inserted = {r[0] for r in conn.execute(INSERT_SQL, {"rows": json.dumps(pending)})}
        pending = [{**row, "property_id": new_property_id()} for row in pending if row["property_id"] not in inserted]
    return len(rows)


def _error_text(exc: Exception) -> str:
    # The database's own words (what either implementation's driver reports), not SQLAlchemy's wrapper.
    if isinstance(exc, DBAPIError) and getattr(exc.orig, "diag", None) is not None and exc.orig.diag.message_primary:
        return exc.orig.diag.message_primary
    return str(exc)


@router.post("/seed-sample-data")
def seed_sample_data(count: int = 10, county_id: str = "SAMPLE-001",
                     include_sync_sources: bool = False) -> Dict[str, Any]:
    """Inserts `count` random properties for `county_id` (no rows for count <= 0)."""
    environment = os.environ.get("ENV")
    if environment is not None and environment != "development":
        raise HTTPException(status_code=403, detail=FORBIDDEN)
    # include_sync_sources is accepted and ignored, as in production: there are no sync sources.
    try:
        created = 0
        with get_engine().connect() as conn:
            transaction = conn.begin()
            try:
                for start in range(0, max(count, 0), CHUNK):
                    chunk = [sample_property(county_id) for _ in range(start, min(count, start + CHUNK))]
                    created += _insert(conn, chunk)
                own_table = conn.execute(OWN_TABLE_SQL).scalar()
            except BaseException:
                transaction.rollback()
                raise
            if own_table:
                transaction.commit()
            else:
                transaction.rollback()
    except Exception as exc:
        raise HTTPException(status_code=500, detail=f"Error seeding sample data: {_error_text(exc)}")
    return {"status": "success", "created_count": created, "sync_sources_count": 0, "county_id": county_id}
