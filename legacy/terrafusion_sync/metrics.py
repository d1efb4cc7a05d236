"""Prometheus metrics of the sync service (default registry, served by GET /metrics).

Production declared the GIS export metrics (names, help texts and buckets as its
plugins/gis_export/metrics.py has them) but never emitted a sample; legacy/ emits them
with the labels and buckets the contract names (sections 1 and 1b.C). They are also
registered in GIS_EXPORT_REGISTRY, the registry GET /plugins/v1/gis-export/metrics renders,
so that route shows these six families and nothing else.
"""
from prometheus_client import CollectorRegistry, Counter, Histogram

_LABELS = ["county_id", "export_format"]

GIS_EXPORT_SUBMITTED = Counter(
    "gis_export_jobs_submitted_total", "Total number of GIS export jobs submitted", _LABELS)
GIS_EXPORT_COMPLETED = Counter(
    "gis_export_jobs_completed_total", "Total number of GIS export jobs completed successfully", _LABELS)
GIS_EXPORT_FAILED = Counter(
    "gis_export_jobs_failed_total", "Total number of GIS export jobs that failed", _LABELS + ["error_type"])
GIS_EXPORT_DURATION = Histogram(
    "gis_export_processing_duration_seconds", "Duration of GIS export job processing in seconds", _LABELS,
    buckets=(1, 5, 10, 30, 60, 120, 300, 600))
GIS_EXPORT_FILE_SIZE = Histogram(
    "gis_export_file_size_kb", "Size of exported GIS files in KB", _LABELS,
    buckets=(10, 100, 500, 1000, 5000, 10000, 50000, 100000))
GIS_EXPORT_RECORD_COUNT = Histogram(
    "gis_export_record_count", "Number of records in GIS export results", _LABELS,
    buckets=(10, 100, 500, 1000, 5000, 10000, 50000, 100000, 500000))

GIS_EXPORT_REGISTRY = CollectorRegistry(auto_describe=True)
for _metric in (GIS_EXPORT_SUBMITTED, GIS_EXPORT_COMPLETED, GIS_EXPORT_FAILED,
                GIS_EXPORT_DURATION, GIS_EXPORT_FILE_SIZE, GIS_EXPORT_RECORD_COUNT):
    GIS_EXPORT_REGISTRY.register(_metric)
