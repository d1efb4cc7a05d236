"""One real GIS export: stream the county's layers, shape each feature, write the file.

Files land in EXPORT_DIR/<job_id>/; the size recorded is the file's real size in KiB,
rounded up (`ceil(bytes / 1024)`), so a non-empty file never reports 0.
"""
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, List

from .geometry import FeatureShaper, parse_area_of_interest, target_srs
from .layers import resolve_layers, stream_rows
from .writers import open_sink


@dataclass(frozen=True)
class ExportResult:
    path: str
    file_size_kb: int
    record_count: int


def export_dir() -> str:
    return os.environ.get("EXPORT_DIR") or os.path.join(tempfile.gettempdir(), "terrafusion-gis-exports")


def job_dir(job_id: str) -> str:
    return os.path.join(export_dir(), job_id)


def run_export(job_id: str, county_id: str, export_format: str, area_of_interest: Dict[str, Any],
               layers: List[str], parameters: Dict[str, Any]) -> ExportResult:
    """Writes the export file of a job and reports what was written; raises on any failure."""
    sources = resolve_layers(layers)
    aoi = parse_area_of_interest(area_of_interest)
    srs = target_srs(parameters.get("coordinate_system", "EPSG:4326"))
    shaper = FeatureShaper(aoi, parameters.get("simplify_tolerance") or 0, srs)
    include_attributes = bool(parameters.get("include_attributes", True))

    directory = job_dir(job_id)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    try:
        sink = open_sink(export_format, directory, f"{county_id}_gis_export", sources, srs,
                         include_attributes)
        count = 0
        for source in sources:
            writer = sink.writer(source)
            geometry_at = len(source.fields)
            dimension = source.dimension
            shape = shaper.shape
            for batch in stream_rows(source, county_id, shaper.bbox):
                for row in batch:
                    geometry = shape(row[geometry_at], dimension, row[geometry_at + 1:])
                    if geometry is not None and writer.write(row, geometry):
                        count += 1
        path = sink.close()
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    size = os.path.getsize(path)
    return ExportResult(path=path, file_size_kb=math.ceil(size / 1024), record_count=count)
