"""The market studies of the market-analysis plugins (/plugins/v1/market-analysis offers
three, /plugins/market-analysis five), each one SQL aggregate plus Python rounding
(round-half-to-even; Decimal stays Decimal so FastAPI renders it as a float).

Every study reads arms-length sales (property_sales.sale_type = 'arms_length') of one
county joined to property_operational, restricted by the optional date range, zip codes
and property types of the request.
"""
from datetime import date
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import text
from sqlalchemy.engine import Connection

from ..db import session_scope
from .reporting_jobs import JobFailed

# IAAO standards for a ratio study: level (median ratio), uniformity (COD), vertical equity (PRD).
IAAO_MEDIAN_RATIO = (Decimal("0.90"), Decimal("1.10"))
IAAO_MAX_COD = 15.0
IAAO_PRD = (0.98, 1.03)

_SALES_FILTER = """
      FROM property_sales s
      JOIN property_operational p ON p.property_id = s.property_id
     WHERE s.county_id = :county_id
       AND s.sale_type = 'arms_length'
       AND (CAST(:start_date AS date) IS NULL OR s.sale_date >= CAST(:start_date AS date))
       AND (CAST(:end_date AS date) IS NULL OR s.sale_date <= CAST(:end_date AS date))
       AND (CAST(:zip_codes AS text[]) IS NULL OR p.zip_code = ANY(CAST(:zip_codes AS text[])))
       AND (CAST(:property_types AS text[]) IS NULL OR p.property_type = ANY(CAST(:property_types AS text[])))
"""


class SalesScope:
    """Which sales a study reads: the county plus the request's optional filters."""

    def __init__(self, county_id: str, start_date: Optional[date], end_date: Optional[date],
                 zip_codes: Optional[Sequence[str]], property_types: Optional[Sequence[str]],
                 connection: Optional[Connection] = None):
        self.binds = {"county_id": county_id, "start_date": start_date, "end_date": end_date,
                      "zip_codes": list(zip_codes) if zip_codes is not None else None,
                      "property_types": list(property_types) if property_types is not None else None}
        self.connection = connection  # read on this connection when given (a job holding a lock on it)

    def rows(self, select_sql: str, tail_sql: str, extra: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        sql = text(select_sql + _SALES_FILTER + tail_sql)
        binds = {**self.binds, **(extra or {})}
        if self.connection is not None:
            found = [dict(r) for r in self.connection.execute(sql, binds).mappings()]
            self.connection.commit()
            return found
        with session_scope() as session:
            return [dict(r) for r in session.execute(sql, binds).mappings()]


def _r(value: Any, digits: int) -> Any:
    return None if value is None else round(value, digits)


def _iso(value: Optional[date]) -> Optional[str]:
    return value.isoformat() if value is not None else None


def price_trend_by_zip(scope: SalesScope) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """Quarterly sale-price trend per zip code, and each zip's change first -> last quarter."""
    rows = scope.rows("""
        SELECT p.zip_code,
               to_char(date_trunc('quarter', s.sale_date), 'YYYY-"Q"Q') AS period,
               count(*) AS sales_volume,
               avg(s.sale_price) AS average_price,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.sale_price) AS median_price,
               avg(s.sale_price / NULLIF(p.building_area_sqft, 0)) AS price_per_sqft,
               min(s.sale_date) AS first_sale, max(s.sale_date) AS last_sale""", """
           AND p.zip_code IS NOT NULL
         GROUP BY GROUPING SETS ((p.zip_code, date_trunc('quarter', s.sale_date)), (p.zip_code), ())
         ORDER BY p.zip_code NULLS LAST, 2 NULLS FIRST""")
    trends = [{"zip_code": r["zip_code"], "period": r["period"], "sales_volume": r["sales_volume"],
               "average_price": _r(r["average_price"], 2), "median_price": _r(r["median_price"], 2),
               "price_per_sqft": _r(r["price_per_sqft"], 2)}
              for r in rows if r["period"] is not None]
    zips = []
    for r in rows:
        if r["zip_code"] is None or r["period"] is not None:
            continue
        periods = [t for t in trends if t["zip_code"] == r["zip_code"]]
        first, last = periods[0]["average_price"], periods[-1]["average_price"]
        change = last - first
        zips.append({"zip_code": r["zip_code"], "sales_volume": r["sales_volume"],
                     "average_price": _r(r["average_price"], 2), "median_price": _r(r["median_price"], 2),
                     "first_period": periods[0]["period"], "last_period": periods[-1]["period"],
                     "price_change": change,
                     "price_change_percentage": _r(float(change / first * 100), 2) if first else None})
    overall = next(r for r in rows if r["zip_code"] is None and r["period"] is None)
    summary = {"data_points_analyzed": overall["sales_volume"],
               "date_range": {"start_date": _iso(overall["first_sale"]), "end_date": _iso(overall["last_sale"])},
               "average_price": _r(overall["average_price"], 2),
               "median_price": _r(overall["median_price"], 2),
               "zip_codes": zips}
    return summary, trends


def comparable_market_area(scope: SalesScope, primary_zip: Optional[str],
                           min_similarity: float) -> Dict[str, Any]:
    """Zip codes whose median price and price per sqft are close to the primary zip's."""
    rows = scope.rows("""
        SELECT p.zip_code, count(*) AS sales_count,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.sale_price) AS median_price,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.sale_price / NULLIF(p.building_area_sqft, 0))
                   AS median_price_per_sqft""", """
           AND p.zip_code IS NOT NULL
         GROUP BY p.zip_code
         ORDER BY count(*) DESC, p.zip_code""")
    if not rows:
        raise JobFailed("Market analysis failed: no arms-length sales match the request")
    # Without a primary zip the busiest market is the reference (ties: lowest zip code).
    primary = rows[0] if primary_zip is None else next((r for r in rows if r["zip_code"] == primary_zip), None)
    if primary is None:
        raise JobFailed(f"Market analysis failed: no arms-length sales in zip code {primary_zip}")
    areas = []
    for r in rows:
        if r is primary:
            continue
        score = _similarity(primary, r)
        if score is not None and score >= min_similarity:
            areas.append({"zip_code": r["zip_code"], "similarity_score": score, "sales_count": r["sales_count"],
                          "median_price": _r(r["median_price"], 2),
                          "median_price_per_sqft": _r(r["median_price_per_sqft"], 2)})
    areas.sort(key=lambda a: (-a["similarity_score"], a["zip_code"]))
    return {"primary_zip": primary["zip_code"],
            "primary": {"sales_count": primary["sales_count"], "median_price": _r(primary["median_price"], 2),
                        "median_price_per_sqft": _r(primary["median_price_per_sqft"], 2)},
            "min_similarity": min_similarity,
            "comparable_areas": areas,
            "total_comparable_areas_found": len(areas),
            "zip_codes_considered": len(rows)}


def _similarity(primary: Dict[str, Any], other: Dict[str, Any]) -> Optional[float]:
    pairs = [(primary["median_price"], other["median_price"]),
             (primary["median_price_per_sqft"], other["median_price_per_sqft"])]
    gaps = [abs(b - a) / a for a, b in pairs if a and b is not None]
    if not gaps:
        return None
    return round(max(0.0, 1.0 - sum(gaps) / len(gaps)), 4)


def sales_ratio_study(scope: SalesScope) -> Dict[str, Any]:
    """Assessed value / sale price per sale: level, uniformity and vertical equity by property type."""
    rows = scope.rows("""
        WITH sales AS (
            SELECT p.property_type, s.sale_price, p.assessed_total_value,
                   p.assessed_total_value / s.sale_price AS ratio""", """
               AND s.sale_price > 0 AND p.assessed_total_value IS NOT NULL),
        medians AS (
            SELECT property_type, percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio) AS median_ratio
              FROM sales GROUP BY GROUPING SETS ((property_type), ()))
        SELECT m.property_type, m.median_ratio, count(*) AS sales_count,
               avg(s.ratio) AS mean_ratio,
               sum(s.assessed_total_value) / sum(s.sale_price) AS weighted_mean_ratio,
               avg(abs(s.ratio - m.median_ratio)) / NULLIF(m.median_ratio, 0) * 100 AS cod,
               min(s.ratio) AS min_ratio, max(s.ratio) AS max_ratio
          FROM medians m
          JOIN sales s ON m.property_type IS NULL OR s.property_type = m.property_type
         GROUP BY m.property_type, m.median_ratio
         ORDER BY m.property_type NULLS FIRST""")
    overall = next((r for r in rows if r["property_type"] is None), None)
    return {**_ratio_statistics(overall),
            "by_property_type": [{"property_type": r["property_type"], **_ratio_statistics(r)}
                                 for r in rows if r["property_type"] is not None]}


def _ratio_statistics(row: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if row is None:
        return {"sales_count": 0, "median_ratio": None, "mean_ratio": None, "weighted_mean_ratio": None,
                "cod": None, "prd": None, "min_ratio": None, "max_ratio": None, "meets_iaao_standards": None}
    prd = row["mean_ratio"] / row["weighted_mean_ratio"] if row["weighted_mean_ratio"] else None
    median = _r(row["median_ratio"], 4)
    cod = _r(row["cod"], 2)
    return {"sales_count": row["sales_count"], "median_ratio": median,
            "mean_ratio": _r(row["mean_ratio"], 4), "weighted_mean_ratio": _r(row["weighted_mean_ratio"], 4),
            "cod": cod, "prd": _r(prd, 4),
            "min_ratio": _r(row["min_ratio"], 4), "max_ratio": _r(row["max_ratio"], 4),
            "meets_iaao_standards": {
                "level": IAAO_MEDIAN_RATIO[0] <= Decimal(str(median)) <= IAAO_MEDIAN_RATIO[1],
                "uniformity": cod is not None and cod <= IAAO_MAX_COD,
                "vertical_equity": prd is not None and IAAO_PRD[0] <= float(prd) <= IAAO_PRD[1]}}


# The studies only the /plugins/market-analysis door offers (contract section 1b.D). As above,
# the arithmetic is PostgreSQL's (so both implementations read the same values) and Python
# only rounds.
_STOCK_FILTER = """
          FROM property_operational p
         WHERE p.county_id = :county_id
           AND (CAST(:zip_codes AS text[]) IS NULL OR p.zip_code = ANY(CAST(:zip_codes AS text[])))
           AND (CAST(:property_types AS text[]) IS NULL OR p.property_type = ANY(CAST(:property_types AS text[])))
"""


def sales_velocity(scope: SalesScope) -> Dict[str, Any]:
    """How fast each zip code sells: sales per month over the months its sales span, and the
    share of its properties (property_operational) that sold."""
    rows = scope.rows("""
        WITH sold AS (SELECT p.zip_code, s.sale_date""", """
           AND p.zip_code IS NOT NULL),
        stock AS (SELECT p.zip_code, count(*) AS property_count""" + _STOCK_FILTER + """
           AND p.zip_code IS NOT NULL GROUP BY p.zip_code),
        velocity AS (
            SELECT zip_code, count(*) AS sales_count, min(sale_date) AS first_sale, max(sale_date) AS last_sale,
                   ((date_part('year', max(sale_date)) - date_part('year', min(sale_date))) * 12
                    + date_part('month', max(sale_date)) - date_part('month', min(sale_date)) + 1)::int AS months_spanned
              FROM sold GROUP BY GROUPING SETS ((zip_code), ()))
        SELECT v.zip_code, v.sales_count, v.first_sale, v.last_sale, v.months_spanned,
               CAST(CASE WHEN v.zip_code IS NULL THEN (SELECT sum(property_count) FROM stock)
                         ELSE st.property_count END AS int) AS property_count,
               v.sales_count::float8 / NULLIF(v.months_spanned, 0) AS sales_per_month,
               v.sales_count::float8 / NULLIF(CASE WHEN v.zip_code IS NULL THEN (SELECT sum(property_count) FROM stock)
                                                  ELSE st.property_count END, 0) AS turnover_rate
          FROM velocity v LEFT JOIN stock st ON st.zip_code = v.zip_code
         ORDER BY v.zip_code NULLS FIRST""")
    overall = next(r for r in rows if r["zip_code"] is None)
    return {**_velocity(overall),
            "by_zip_code": [{"zip_code": r["zip_code"], **_velocity(r)} for r in rows if r["zip_code"] is not None]}


def _velocity(row: Dict[str, Any]) -> Dict[str, Any]:
    return {"sales_count": row["sales_count"], "property_count": row["property_count"] or 0,
            "first_sale": _iso(row["first_sale"]), "last_sale": _iso(row["last_sale"]),
            "months_spanned": row["months_spanned"],
            "sales_per_month": _r(row["sales_per_month"], 2), "turnover_rate": _r(row["turnover_rate"], 4)}


def price_per_sqft(scope: SalesScope) -> Dict[str, Any]:
    """Sale price per square foot of building, overall and by property type (sales of
    buildings with a known area only)."""
    rows = scope.rows("""
        WITH sold AS (SELECT p.property_type, s.sale_price / p.building_area_sqft AS per_sqft""", """
           AND p.building_area_sqft > 0)
        SELECT property_type, count(*) AS sales_count, avg(per_sqft) AS average_price_per_sqft,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY per_sqft) AS median_price_per_sqft,
               min(per_sqft) AS min_price_per_sqft, max(per_sqft) AS max_price_per_sqft
          FROM sold GROUP BY GROUPING SETS ((property_type), ())
         ORDER BY property_type NULLS FIRST""")
    overall = next(r for r in rows if r["property_type"] is None)
    return {**_per_sqft(overall),
            "by_property_type": [{"property_type": r["property_type"], **_per_sqft(r)}
                                 for r in rows if r["property_type"] is not None]}


def _per_sqft(row: Dict[str, Any]) -> Dict[str, Any]:
    return {"sales_count": row["sales_count"],
            **{key: _r(row[key], 2) for key in ("average_price_per_sqft", "median_price_per_sqft",
                                                "min_price_per_sqft", "max_price_per_sqft")}}


def market_valuation(scope: SalesScope) -> Dict[str, Any]:
    """The market value of the county's assessed properties (property_operational), estimated
    as their total assessed value times the median sale-to-assessed ratio of the sales, overall
    and by property type."""
    rows = scope.rows("""
        WITH sold AS (SELECT p.property_type, s.sale_price / p.assessed_total_value AS ratio""", """
           AND p.assessed_total_value > 0),
        ratios AS (SELECT property_type, count(*) AS sales_count,
                          percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio) AS median_ratio
                     FROM sold GROUP BY GROUPING SETS ((property_type), ())),
        stock AS (SELECT p.property_type, count(*) AS property_count,
                         sum(p.assessed_total_value) AS total_assessed_value""" + _STOCK_FILTER + """
                   GROUP BY GROUPING SETS ((p.property_type), ()))
        SELECT st.property_type, st.property_count, coalesce(r.sales_count, 0) AS sales_count,
               st.total_assessed_value, r.median_ratio,
               st.total_assessed_value * r.median_ratio AS estimated_market_value
          FROM stock st LEFT JOIN ratios r ON r.property_type IS NOT DISTINCT FROM st.property_type
         ORDER BY st.property_type NULLS FIRST""")
    overall = next(r for r in rows if r["property_type"] is None)
    return {**_valuation(overall),
            "by_property_type": [{"property_type": r["property_type"], **_valuation(r)}
                                 for r in rows if r["property_type"] is not None]}


def _valuation(row: Dict[str, Any]) -> Dict[str, Any]:
    return {"property_count": row["property_count"], "sales_count": row["sales_count"],
            "total_assessed_value": _r(row["total_assessed_value"], 2),
            "median_sale_to_assessed_ratio": _r(row["median_ratio"], 4),
            "estimated_market_value": _r(row["estimated_market_value"], 2)}
