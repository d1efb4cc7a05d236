"""OGR writers of the export formats, one sink per format.

GeoJSON and CSV hold one layer per file, so every requested layer goes into one combined
layer with a `layer` attribute and the union of the layers' fields. KML and GeoPackage get
one layer (Folder / table) per requested layer. Shapefile gets one .shp per layer and
geometry family (a .shp holds one shape type), zipped with .shx/.dbf/.prj/.cpg.
"""
import os
import shutil
import zipfile
from typing import Dict, List, Optional, Sequence, Tuple

from osgeo import gdal, ogr, osr

from .layers import ExportError, Field, LayerSource

gdal.UseExceptions()
ogr.UseExceptions()

_LAYER_FIELD = Field("layer", ogr.OFTString, "")


def _create_fields(layer: ogr.Layer, fields: Sequence[Field]) -> None:
    for field in fields:
        layer.CreateField(ogr.FieldDefn(field.name, field.ogr_type))


class _LayerWriter:
    """Writes rows of one source layer into one OGR layer; `index` maps row columns to fields."""

    def __init__(self, layer: ogr.Layer, fields: Sequence[Field], index: Sequence[int],
                 constant: Optional[Tuple[int, str]] = None, promote=None):
        self.layer = layer
        self.defn = layer.GetLayerDefn()
        self.columns = [(i, out, f.ogr_type == ogr.OFTString or f.ogr_type == ogr.OFTDate)
                        for i, (f, out) in enumerate(zip(fields, index))]
        self.constant = constant
        self.promote = promote

    def write(self, row: tuple, geometry: ogr.Geometry) -> bool:
        """Writes one feature; True when it was written."""
        feature = ogr.Feature(self.defn)
        for column, out, as_string in self.columns:
            value = row[column]
            if value is not None:
                if as_string:
                    feature.SetFieldString(out, value)
                else:
                    feature.SetField(out, value)
        if self.constant is not None:
            feature.SetFieldString(*self.constant)
        feature.SetGeometryDirectly(self.promote(geometry) if self.promote else geometry)
        self.layer.CreateFeature(feature)
        return True


class _Sink:
    extension = ""

    def __init__(self, directory: str, basename: str, sources: Sequence[LayerSource],
                 srs: osr.SpatialReference, include_attributes: bool):
        self.directory = directory
        self.path = os.path.join(directory, f"{basename}.{self.extension}")
        self.sources = sources
        self.srs = srs
        self.include_attributes = include_attributes

    def fields_of(self, source: LayerSource) -> Tuple[Field, ...]:
        return source.fields if self.include_attributes else ()

    def writer(self, source: LayerSource):
        raise NotImplementedError

    def close(self) -> str:
        raise NotImplementedError


class _CombinedSink(_Sink):
    """One output layer for every source (GeoJSON, CSV)."""
    driver = ""
    layer_options: List[str] = []

    def __init__(self, *args):
        super().__init__(*args)
        self.datasource = ogr.GetDriverByName(self.driver).CreateDataSource(self.path)
        name = self.sources[0].name if len(self.sources) == 1 else "export"
        self.layer = self.datasource.CreateLayer(name, self.srs, ogr.wkbUnknown, self.layer_options)
        self.union: List[Field] = [_LAYER_FIELD]
        for source in self.sources:
            for field in self.fields_of(source):
                if field.name not in [f.name for f in self.union]:
                    self.union.append(field)
        _create_fields(self.layer, self.union)

    def writer(self, source: LayerSource):
        fields = self.fields_of(source)
        names = [f.name for f in self.union]
        return _LayerWriter(self.layer, fields, [names.index(f.name) for f in fields],
                            constant=(0, source.name))

    def close(self) -> str:
        self.datasource = None  # flushes and closes the file
        return self.path


class GeoJsonSink(_CombinedSink):
    extension, driver = "geojson", "GeoJSON"


class CsvSink(_CombinedSink):
    extension, driver = "csv", "CSV"
    layer_options = ["GEOMETRY=AS_WKT"]


class _MultiLayerSink(_Sink):
    """One output layer per source (KML folders, GeoPackage tables)."""
    driver = ""

    def __init__(self, *args):
        super().__init__(*args)
        self.datasource = ogr.GetDriverByName(self.driver).CreateDataSource(self.path)

    def layer_type(self, source: LayerSource):
        return ogr.wkbUnknown, None

    def writer(self, source: LayerSource):
        geometry_type, promote = self.layer_type(source)
        layer = self.datasource.CreateLayer(source.name, self.srs, geometry_type)
        fields = self.fields_of(source)
        _create_fields(layer, fields)
        return _LayerWriter(layer, fields, range(len(fields)), promote=promote)

    def close(self) -> str:
        self.datasource = None
        return self.path


class KmlSink(_MultiLayerSink):
    extension, driver = "kml", "KML"


class GeoPackageSink(_MultiLayerSink):
    extension, driver = "gpkg", "GPKG"

    def __init__(self, *args):
        super().__init__(*args)
        # One transaction for the whole file: per-feature autocommit makes SQLite crawl.
        self.datasource.StartTransaction()

    def layer_type(self, source: LayerSource):
        # A GeoPackage table declares one geometry type; promote to multi as ogr2ogr's
        # PROMOTE_TO_MULTI does, so Polygon and clipped MultiPolygon parcels share a table.
        if source.dimension == 2:
            return ogr.wkbMultiPolygon, ogr.ForceToMultiPolygon
        return ogr.wkbMultiLineString, ogr.ForceToMultiLineString

    def close(self) -> str:
        self.datasource.CommitTransaction()
        return super().close()


_SHAPE_FAMILY = {
    ogr.wkbPoint: ("point", ogr.wkbPoint), ogr.wkbMultiPoint: ("multipoint", ogr.wkbMultiPoint),
    ogr.wkbLineString: ("line", ogr.wkbLineString), ogr.wkbMultiLineString: ("line", ogr.wkbLineString),
    ogr.wkbPolygon: ("polygon", ogr.wkbPolygon), ogr.wkbMultiPolygon: ("polygon", ogr.wkbPolygon),
}


_HOME_SHAPE = {"polygon": ogr.wkbPolygon, "line": ogr.wkbLineString}


class _ShapefileWriter:
    """Routes each geometry to the .shp of its shape family, created on first use."""

    def __init__(self, sink: "ShapefileSink", source: LayerSource):
        self.sink = sink
        self.source = source
        self.home_family = "polygon" if source.dimension == 2 else "line"
        self.writers: Dict[str, _LayerWriter] = {}
        # The layer's own shapefile exists even when nothing falls in the area of interest,
        # so an empty export is still a readable (empty) shapefile.
        self._writer_for(self.home_family, _HOME_SHAPE[self.home_family])

    def _writer_for(self, family: str, shape_type: int) -> _LayerWriter:
        writer = self.writers.get(family)
        if writer is None:
            name = self.source.name if family == self.home_family else f"{self.source.name}_{family}"
            layer = self.sink.datasource.CreateLayer(name, self.sink.srs, shape_type, ["ENCODING=UTF-8"])
            fields = self.sink.fields_of(self.source)
            _create_fields(layer, fields)
            writer = self.writers[family] = _LayerWriter(layer, fields, range(len(fields)))
        return writer

    def write(self, row: tuple, geometry: ogr.Geometry) -> bool:
        family, shape_type = _SHAPE_FAMILY.get(ogr.GT_Flatten(geometry.GetGeometryType()), (None, None))
        if family is None:
            return False  # a geometry collection has no shapefile shape type
        return self._writer_for(family, shape_type).write(row, geometry)


class ShapefileSink(_Sink):
    extension = "zip"

    def __init__(self, *args):
        super().__init__(*args)
        self.workdir = os.path.join(self.directory, "shapefile")
        os.makedirs(self.workdir, exist_ok=True)
        self.datasource = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(self.workdir)
        self.writers: List[_ShapefileWriter] = []

    def writer(self, source: LayerSource):
        writer = _ShapefileWriter(self, source)
        self.writers.append(writer)
        return writer

    def close(self) -> str:
        self.datasource = None
        # Fast deflate: shapefile bytes compress well even at level 1 and the export is timed.
        with zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for name in sorted(os.listdir(self.workdir)):
                archive.write(os.path.join(self.workdir, name), arcname=name)
        shutil.rmtree(self.workdir, ignore_errors=True)
        return self.path


SINKS = {
    "GeoJSON": GeoJsonSink, "Shapefile": ShapefileSink, "KML": KmlSink,
    "GeoPackage": GeoPackageSink, "CSV": CsvSink,
}

MEDIA_TYPES = {
    "geojson": "application/geo+json", "zip": "application/zip",
    "kml": "application/vnd.google-earth.kml+xml", "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv",
}


def open_sink(export_format: str, directory: str, basename: str, sources: Sequence[LayerSource],
              srs: osr.SpatialReference, include_attributes: bool) -> _Sink:
    sink_class = SINKS.get(export_format)
    if sink_class is None:
        raise ExportError(f"No writer for export format '{export_format}'")
    return sink_class(directory, basename, sources, srs, include_attributes)
