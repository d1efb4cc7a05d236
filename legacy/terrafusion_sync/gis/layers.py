"""Exportable layers and how their rows are streamed out of PostgreSQL.

Each layer is a reference table whose geometry is GeoJSON text in EPSG:4326 with bbox
columns; the bbox columns are indexed per county so an area of interest is prefiltered in
SQL and only candidate rows cross the wire. Rows come through a server-side cursor in
batches so a 200k-parcel county never sits in memory at once.
"""
from dataclasses import dataclass
from typing import Iterator, List, Sequence, Tuple

from osgeo import ogr

from ..db import get_engine

BATCH_SIZE = 5000


class ExportError(Exception):
    """A request the export cannot honour (unknown layer, bad area, bad CRS); fails the job."""


@dataclass(frozen=True)
class Field:
    name: str
    ogr_type: int
    sql: str  # expression selected for this field; numerics cast so OGR gets floats, not Decimals


@dataclass(frozen=True)
class LayerSource:
    name: str
    table: str
    id_column: str
    dimension: int  # 2 polygonal, 1 linear: what a clipped geometry is reduced back to
    fields: Tuple[Field, ...]


def _s(name: str) -> Field:
    return Field(name, ogr.OFTString, name)


def _r(name: str) -> Field:
    return Field(name, ogr.OFTReal, f"{name}::float8")


def _i(name: str) -> Field:
    return Field(name, ogr.OFTInteger, name)


LAYERS = {
    "parcels": LayerSource("parcels", "property_operational", "property_id", 2, (
        _s("property_id"), _s("county_id"), _s("parcel_number"), _s("address"), _s("city"),
        _s("zip_code"), _s("property_type"), _s("zoning_code"), _r("land_area_sqft"),
        _r("building_area_sqft"), _i("year_built"), _i("bedrooms"), _r("bathrooms"),
        _r("assessed_land_value"), _r("assessed_improvement_value"), _r("assessed_total_value"),
        # The date goes out as ISO text: drivers format OFTDate differently (CSV writes 2020/05/01).
        _r("last_sale_price"), Field("last_sale_date", ogr.OFTString, "last_sale_date::text"),
    )),
    "zoning": LayerSource("zoning", "zoning_areas", "zone_id", 2, (
        _s("zone_id"), _s("county_id"), _s("zone_code"), _s("zone_name"),
    )),
    "roads": LayerSource("roads", "road_segments", "road_id", 1, (
        _s("road_id"), _s("county_id"), _s("road_name"), _s("road_class"),
    )),
}


def resolve_layers(names: Sequence[str]) -> List[LayerSource]:
    """The requested layers in request order, duplicates dropped; ExportError for unknown names."""
    resolved: List[LayerSource] = []
    for name in names:
        source = LAYERS.get(name)
        if source is None:
            raise ExportError(f"Unknown layer '{name}'; available layers: {', '.join(LAYERS)}")
        if source not in resolved:
            resolved.append(source)
    if not resolved:
        raise ExportError(f"No layers requested; available layers: {', '.join(LAYERS)}")
    return resolved


Row = tuple  # (field values..., geometry text, min_x, min_y, max_x, max_y)


def stream_rows(source: LayerSource, county_id: str,
                bbox: Tuple[float, float, float, float]) -> Iterator[List[Row]]:
    """Batches of rows of `source` for the county whose bbox overlaps `bbox` (minx, miny, maxx, maxy)."""
    columns = ", ".join(f.sql for f in source.fields)
    sql = (
        f"SELECT {columns}, geometry, min_x, min_y, max_x, max_y FROM {source.table} "
        "WHERE county_id = %(county)s AND geometry IS NOT NULL "
        "AND max_x >= %(minx)s AND min_x <= %(maxx)s AND max_y >= %(miny)s AND min_y <= %(maxy)s "
        f"ORDER BY {source.id_column}"
    )
    raw = get_engine().raw_connection()
    try:
        cursor = raw.cursor(name=f"gis_export_{source.name}")
        cursor.itersize = BATCH_SIZE
        cursor.execute(sql, {"county": county_id, "minx": bbox[0], "miny": bbox[1],
                             "maxx": bbox[2], "maxy": bbox[3]})
        while True:
            batch = cursor.fetchmany(BATCH_SIZE)
            if not batch:
                break
            yield batch
        cursor.close()
    finally:
        raw.rollback()
        raw.close()
