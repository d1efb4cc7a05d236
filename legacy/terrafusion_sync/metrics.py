"""Prometheus metrics of the sync service (default registry, served by GET /metrics).

Production declared the GIS export metrics but never emitted a sample; legacy/ emits them
with the labels and buckets the contract names.
"""
from prometheus_client import Counter, Histogram

_LABELS = ["county_id", "export_format"]

GIS_EXPORT_SUBMITTED = Counter(
    "gis_export_jobs_submitted_total", "GIS export jobs submitted", _LABELS)
GIS_EXPORT_COMPLETED = Counter(
    "gis_export_jobs_completed_total", "GIS export jobs completed", _LABELS)
GIS_EXPORT_FAILED = Counter(
    "gis_export_jobs_failed_total", "GIS export jobs failed", _LABELS + ["error_type"])
GIS_EXPORT_DURATION = Histogram(
    "gis_export_processing_duration_seconds", "GIS export processing time", _LABELS,
    buckets=(1, 5, 10, 30, 60, 120, 300, 600))
GIS_EXPORT_FILE_SIZE = Histogram(
    "gis_export_file_size_kb", "Size of exported GIS files in KB", _LABELS,
    buckets=(1, 10, 100, 1000, 10000, 100000, 1000000))
GIS_EXPORT_RECORD_COUNT = Histogram(
    "gis_export_record_count", "Features written per GIS export", _LABELS,
    buckets=(1, 10, 100, 1000, 10000, 100000, 1000000))
