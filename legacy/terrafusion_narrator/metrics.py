"""The narrator's Prometheus metrics (GET /api/v1/metrics): one ai_jobs_total sample and one
latency observation per narration request, labelled with the model that produced the answer."""

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()

AI_JOBS = Counter(
    "ai_jobs_total", "Narration requests by task, model used and outcome",
    ["task_type", "model_name", "status"], registry=REGISTRY)
AI_LATENCY = Histogram(
    "ai_latency_seconds", "Time to answer a narration request",
    ["task_type", "model_name"], registry=REGISTRY)


def record(task_type, model_name, status, seconds):
    AI_JOBS.labels(task_type=task_type, model_name=model_name, status=status).inc()
    AI_LATENCY.labels(task_type=task_type, model_name=model_name).observe(seconds)
