"""Fetching a GIS export job from the sync service, for POST /api/v1/ai/analyze/gis-export."""

import requests


class JobNotFound(Exception):
    """Sync answered 404 for the job."""


class SyncUnavailable(Exception):
    """Sync could not be reached or answered with something other than the job."""


def _get(url):
    try:
        response = requests.get(url, timeout=(3, 15))
    except requests.RequestException as error:
        raise SyncUnavailable(f"{url} unreachable: {error.__class__.__name__}")
    if response.status_code == 404:
        raise JobNotFound(_detail(response))
    if response.status_code != 200:
        raise SyncUnavailable(f"{url} answered {response.status_code}: {response.text[:200]}")
    try:
        return response.json()
    except ValueError:
        raise SyncUnavailable(f"{url} answered with a body that is not JSON")


def _detail(response):
    try:
        return response.json().get("detail") or response.text
    except (ValueError, AttributeError):
        return response.text


def fetch_job(sync_service_url, job_id):
    """(status, result): the job's StatusResponse and, once it is COMPLETED, its result object."""
    base = f"{sync_service_url}/plugins/v1/gis-export"
    job = _get(f"{base}/status/{job_id}")
    result = None
    if job.get("status") == "COMPLETED":
        result = _get(f"{base}/results/{job_id}").get("result")
    return job, result
