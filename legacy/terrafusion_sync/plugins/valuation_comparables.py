"""Automated valuation by simplified comparable-sales adjustment (the platform's design for
`POST /plugins/v1/valuation/run`, never built in production).

For a subject property: take the most recent arms-length sale of every other property of
the same county and property type sold within the lookback window before `as_of_date`,
keep those of similar size (building area, or land area for a subject without buildings)
and similar year built, nearest first; widen the tolerances once when fewer than
`min_comparables` are found. Each comparable's price per square foot is adjusted for the
size and age difference to the subject, applied to the subject's area, and the estimates
are averaged, weighted towards the least-adjusted comparables.
"""
import math
from datetime import date
from typing import Any, Dict, List, Optional

from sqlalchemy import text

from ..db import session_scope

# Larger buildings sell for less per sqft: a comparable 10% larger than the subject gets
# its price per sqft raised by SIZE_ADJUSTMENT_RATE * 10%.
SIZE_ADJUSTMENT_RATE = 0.25
# Each year the subject is newer than the comparable adds this fraction to the comparable's price.
AGE_ADJUSTMENT_PER_YEAR = 0.005
# (area tolerance as a fraction of the subject's area, year-built tolerance in years)
SEARCH_PASSES = (("narrow", 0.25, 10), ("widened", 0.5, 25))
HIGH_CONFIDENCE, MEDIUM_CONFIDENCE = 0.75, 0.5

_COMPARABLES_SQL = """
    SELECT * FROM (
        SELECT DISTINCT ON (p.property_id)
               p.property_id, p.parcel_number, p.address, p.zip_code,
               p.{area} AS area_sqft, p.year_built, s.sale_date, s.sale_price
          FROM property_sales s
          JOIN property_operational p ON p.property_id = s.property_id
         WHERE s.county_id = :county_id AND p.county_id = :county_id
           AND s.sale_type = 'arms_length'
           AND s.sale_date <= :as_of AND s.sale_date > CAST(:as_of AS date) - make_interval(months => :lookback)
           AND p.property_type = :property_type AND p.property_id <> :subject_id
           AND p.{area} BETWEEN :area * (1 - :area_tolerance) AND :area * (1 + :area_tolerance)
           AND (CAST(:year_built AS integer) IS NULL
                OR p.year_built BETWEEN :year_built - :year_tolerance AND :year_built + :year_tolerance)
         ORDER BY p.property_id, s.sale_date DESC, s.sale_id DESC) latest
     ORDER BY abs(ln(area_sqft / :area)) + abs(coalesce(year_built, :year_built, 0) - coalesce(:year_built, 0)) / 50.0,
              sale_date DESC, property_id
     LIMIT :max_comparables
"""


def latest_sale_date(county_id: str) -> Optional[date]:
    """The county's most recent arms-length sale: the default valuation date, so that a
    valuation of unchanged data gives the same answer whenever it is asked."""
    with session_scope() as session:
        return session.execute(text(
            "SELECT max(sale_date) FROM property_sales WHERE county_id = :c AND sale_type = 'arms_length'"),
            {"c": county_id}).scalar()


def _basis(subject: Dict[str, Any]) -> Optional[str]:
    for column in ("building_area_sqft", "land_area_sqft"):
        if subject.get(column) and subject[column] > 0:
            return column
    return None


def find_comparables(subject: Dict[str, Any], basis: str, as_of: date, lookback_months: int,
                     min_comparables: int, max_comparables: int) -> tuple:
    """(search pass name, comparable rows) for the subject, widening once if too few."""
    sql = text(_COMPARABLES_SQL.format(area=basis))
    rows: List[Dict[str, Any]] = []
    name = SEARCH_PASSES[0][0]
    with session_scope() as session:
        for name, area_tolerance, year_tolerance in SEARCH_PASSES:
            rows = [dict(r) for r in session.execute(sql, {
                "county_id": subject["county_id"], "as_of": as_of, "lookback": lookback_months,
                "property_type": subject["property_type"], "subject_id": subject["property_id"],
                "area": subject[basis], "area_tolerance": area_tolerance,
                "year_built": subject["year_built"], "year_tolerance": year_tolerance,
                "max_comparables": max_comparables}).mappings()]
            if len(rows) >= min_comparables:
                break
    return name, rows


def _adjust(subject: Dict[str, Any], basis: str, comp: Dict[str, Any]) -> Dict[str, Any]:
    area = subject[basis]
    price_per_sqft = float(comp["sale_price"]) / comp["area_sqft"]
    size_adjustment = SIZE_ADJUSTMENT_RATE * (comp["area_sqft"] - area) / area
    age_adjustment = 0.0
    if subject["year_built"] is not None and comp["year_built"] is not None:
        age_adjustment = AGE_ADJUSTMENT_PER_YEAR * (subject["year_built"] - comp["year_built"])
    adjusted_price = price_per_sqft * (1 + size_adjustment + age_adjustment) * area
    return {"property_id": comp["property_id"], "parcel_number": comp["parcel_number"],
            "address": comp["address"], "zip_code": comp["zip_code"],
            "sale_date": comp["sale_date"], "sale_price": comp["sale_price"],
            "area_sqft": comp["area_sqft"], "year_built": comp["year_built"],
            "price_per_sqft": round(price_per_sqft, 2),
            "size_adjustment_pct": round(size_adjustment * 100, 2),
            "age_adjustment_pct": round(age_adjustment * 100, 2),
            "adjusted_price": round(adjusted_price, 2),
            "weight": 1.0 / (1.0 + abs(size_adjustment) + abs(age_adjustment)),
            "_adjusted": adjusted_price}


def value_property(subject: Dict[str, Any], as_of: date, lookback_months: int,
                   min_comparables: int, max_comparables: int) -> Dict[str, Any]:
    """The valuation of one subject row of property_operational."""
    basis = _basis(subject)
    result: Dict[str, Any] = {
        "property_id": subject["property_id"], "property_type": subject["property_type"],
        "basis": basis, "subject_area_sqft": subject[basis] if basis else None,
        "year_built": subject["year_built"], "assessed_total_value": subject["assessed_total_value"],
        "estimated_value": None, "value_range": None, "price_per_sqft": None,
        "confidence_score": 0.0, "confidence_level": "none", "search": None,
        "comparables_count": 0, "comparables": []}
    if basis is None:
        return {**result, "note": "no building or land area to compare by"}
    search, rows = find_comparables(subject, basis, as_of, lookback_months, min_comparables, max_comparables)
    comps = [_adjust(subject, basis, row) for row in rows]
    result.update(search=search, comparables_count=len(comps))
    if not comps:
        return {**result, "note": "no comparable sales found"}
    total_weight = sum(c["weight"] for c in comps)
    estimate = sum(c["_adjusted"] * c["weight"] for c in comps) / total_weight
    mean = sum(c["_adjusted"] for c in comps) / len(comps)
    dispersion = math.sqrt(sum((c["_adjusted"] - mean) ** 2 for c in comps) / len(comps)) / mean
    confidence = round(max(0.0, min(1.0, len(comps) / max_comparables * (1 - dispersion))), 2)
    for c in comps:
        c["weight"] = round(c["weight"] / total_weight, 4)
        del c["_adjusted"]
    # round(x, -2) keeps a float: estimates read 312300.0, and .5 hundreds go to the even one.
    return {**result,
            "estimated_value": round(estimate, -2),
            "value_range": {"low": round(estimate * (1 - dispersion), -2),
                            "high": round(estimate * (1 + dispersion), -2)},
            "price_per_sqft": round(estimate / subject[basis], 2),
            "confidence_score": confidence,
            "confidence_level": ("high" if confidence >= HIGH_CONFIDENCE
                                 else "medium" if confidence >= MEDIUM_CONFIDENCE else "low"),
            "comparables": comps}
