"""Geometry shaping of exported features: area-of-interest clip, simplify, reproject.

Order matters and follows ogr2ogr's: clip and simplify in the source CRS (EPSG:4326, so
`simplify_tolerance` is in degrees as the county defaults assume), then reproject.
"""
import json
from typing import Any, Dict, Optional, Tuple

from osgeo import ogr, osr

from .layers import ExportError

ogr.UseExceptions()
osr.UseExceptions()

_POLYGONAL = {ogr.wkbPolygon, ogr.wkbMultiPolygon}


def _srs(definition: str) -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.SetFromUserInput(definition)
    # Keep lon/lat as x/y whatever the EPSG axis order says; GeoJSON input is lon/lat.
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


WGS84 = _srs("EPSG:4326")


def target_srs(coordinate_system: Any) -> osr.SpatialReference:
    try:
        return _srs(str(coordinate_system))
    except Exception as exc:
        raise ExportError(f"Unsupported coordinate system '{coordinate_system}'") from exc


def _polygon_from_geojson(geometry: Any) -> ogr.Geometry:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ExportError("area_of_interest must be a GeoJSON Polygon, MultiPolygon or "
                          "FeatureCollection of them")
    try:
        return ogr.CreateGeometryFromJson(json.dumps(geometry))
    except Exception as exc:
        raise ExportError(f"Invalid area_of_interest geometry: {exc}") from exc


def parse_area_of_interest(aoi: Dict[str, Any]) -> ogr.Geometry:
    """One (multi)polygon from a GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection."""
    kind = aoi.get("type") if isinstance(aoi, dict) else None
    if kind == "FeatureCollection":
        parts = [_polygon_from_geojson((f or {}).get("geometry")) for f in aoi.get("features") or []]
        if not parts:
            raise ExportError("area_of_interest FeatureCollection has no features")
        collection = ogr.Geometry(ogr.wkbMultiPolygon)
        for part in parts:
            if ogr.GT_Flatten(part.GetGeometryType()) == ogr.wkbMultiPolygon:
                for i in range(part.GetGeometryCount()):
                    collection.AddGeometry(part.GetGeometryRef(i))
            else:
                collection.AddGeometry(part)
        geometry = collection.UnionCascaded()
    elif kind == "Feature":
        geometry = _polygon_from_geojson(aoi.get("geometry"))
    else:
        geometry = _polygon_from_geojson(aoi)
    if not geometry.IsValid():
        geometry = geometry.MakeValid()
    if geometry.IsEmpty():
        raise ExportError("area_of_interest is empty")
    return geometry


def _keep_dimension(geometry: ogr.Geometry, dimension: int) -> Optional[ogr.Geometry]:
    """Parts of `geometry` of the given dimension: a parcel touching the AOI edge yields a
    line from Intersection, which is not a parcel and must not break a polygon shapefile."""
    if geometry is None or geometry.IsEmpty():
        return None
    if geometry.GetDimension() == dimension and \
            ogr.GT_Flatten(geometry.GetGeometryType()) != ogr.wkbGeometryCollection:
        return geometry
    parts = []
    for i in range(geometry.GetGeometryCount()):
        kept = _keep_dimension(geometry.GetGeometryRef(i), dimension)
        if kept is not None:
            parts.append(kept)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0].Clone()
    multi = ogr.Geometry({0: ogr.wkbMultiPoint, 1: ogr.wkbMultiLineString, 2: ogr.wkbMultiPolygon}[dimension])
    for part in parts:
        if part.GetGeometryCount() and ogr.GT_Flatten(part.GetGeometryType()) in (
                ogr.wkbMultiPoint, ogr.wkbMultiLineString, ogr.wkbMultiPolygon):
            for j in range(part.GetGeometryCount()):
                multi.AddGeometry(part.GetGeometryRef(j))
        else:
            multi.AddGeometry(part)
    return multi


class FeatureShaper:
    """Turns a stored GeoJSON geometry into the exported one, or None when it falls outside."""

    def __init__(self, aoi: ogr.Geometry, simplify_tolerance: float, srs: osr.SpatialReference):
        self.aoi = aoi
        self.tolerance = float(simplify_tolerance or 0)
        minx, maxx, miny, maxy = aoi.GetEnvelope()
        self.bbox: Tuple[float, float, float, float] = (minx, miny, maxx, maxy)
        # A rectangular AOI (the common case) lets features whose bbox lies inside it skip
        # the GEOS intersection entirely: they are kept whole.
        envelope_area = (maxx - minx) * (maxy - miny)
        self.aoi_is_rectangle = (ogr.GT_Flatten(aoi.GetGeometryType()) == ogr.wkbPolygon
                                 and aoi.GetGeometryRef(0).GetPointCount() == 5
                                 and abs(aoi.GetArea() - envelope_area) <= envelope_area * 1e-12)
        self.transform = None if srs.IsSame(WGS84) else osr.CoordinateTransformation(WGS84, srs)

    def shape(self, geometry_json: str, dimension: int, row_bbox) -> Optional[ogr.Geometry]:
        try:
            geometry = ogr.CreateGeometryFromJson(geometry_json)
        except Exception:
            return None  # an unreadable stored geometry is skipped, not fatal to the export
        if geometry is None or geometry.IsEmpty():
            return None
        minx, miny, maxx, maxy = row_bbox
        inside = (self.aoi_is_rectangle and minx is not None
                  and minx >= self.bbox[0] and maxx <= self.bbox[2]
                  and miny >= self.bbox[1] and maxy <= self.bbox[3])
        if not inside:
            if not geometry.Intersects(self.aoi):
                return None
            if not self.aoi.Contains(geometry):
                geometry = _keep_dimension(geometry.Intersection(self.aoi), dimension)
                if geometry is None:
                    return None
        if self.tolerance > 0:
            simplified = geometry.SimplifyPreserveTopology(self.tolerance)
            if simplified is not None and not simplified.IsEmpty():
                geometry = simplified
        if self.transform is not None:
            geometry.Transform(self.transform)
        return geometry
