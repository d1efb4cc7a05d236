"""The /api passthroughs of the legacy gateway (legacy-contract.md section 2).

Every /api/v1/<plugin> route is guarded by `rbac_required(permission)`, every /api route by
county scoping: the counties named in the query and the JSON body, and the county of the
record the upstream returns, must be among the caller's. Status and body of the upstream pass
through unchanged.
"""

from flask import Blueprint, g, jsonify, request

from .context import gateway
from .errors import json_error
from .identity import allowed_county_ids, county_forbidden, county_in_json_body, login_required, rbac_required
from .upstream import to_flask, to_flask_streamed

blueprint = Blueprint("api", __name__)

GIS = "/plugins/v1/gis-export"
REPORTS = "/plugins/v1/reporting/reports"

# Per job plugin: the permission to start a job, and the one to read its status/results.
JOB_PLUGINS = {
    "valuation": ("execute_valuation", "view_valuation_results"),
    "reporting": ("generate_report", "view_reports"),
    "market-analysis": ("run_market_analysis", "view_market_analysis"),
}

# Forwarded by /api/v1/gis-export/list; anything else in the query is dropped.
LIST_PARAMS = ("county_id", "export_format", "status", "limit", "offset")
LIST_DEFAULT_LIMIT = "20"


def _county_of_upstream_record(response):
    """county_id of a successful JSON object answer (a job, a property, a county), else None."""
    if not 200 <= response.status_code < 300:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("county_id") if isinstance(body, dict) else None


def _query():
    # Every value of a repeated parameter, in order (a plain dict would keep only the first).
    return list(request.args.items(multi=True))


def _request_county_forbidden():
    """403 when a county the request names is not the caller's, else None.

    Every county_id of the query counts: the upstream may read another one than the first.
    """
    for county_id in request.args.getlist("county_id") + [county_in_json_body()]:
        forbidden = county_forbidden(county_id)
        if forbidden is not None:
            return forbidden
    return None


def _forward_scoped(method, path, params=None, body=None, content_type=None):
    """Forward to sync; refuse the answer when it is a record of a county outside the caller's."""
    response, error = gateway().sync.call(method, path, params, body, content_type)
    if error is not None:
        return error
    return county_forbidden(_county_of_upstream_record(response)) or to_flask(response)


def _forward_request(path):
    """The incoming request's method, query and body, forwarded to sync's `path`, county-scoped."""
    forbidden = _request_county_forbidden()
    if forbidden is not None:
        return forbidden
    return _forward_scoped(
        request.method, path, _query(), request.get_data(cache=True) or None, request.content_type
    )


# --- GIS export ---------------------------------------------------------------------------
@blueprint.route("/api/v1/gis-export/run", methods=["POST"])
@rbac_required("run_gis_export")
def gis_export_run():
    return _forward_request(f"{GIS}/run")


@blueprint.route("/api/v1/gis-export/status/<job_id>", methods=["GET"])
@rbac_required("view_gis_export_status")
def gis_export_status(job_id):
    return _forward_request(f"{GIS}/status/{job_id}")


@blueprint.route("/api/v1/gis-export/results/<job_id>", methods=["GET"])
@rbac_required("view_gis_export_results")
def gis_export_results(job_id):
    return _forward_request(f"{GIS}/results/{job_id}")


def _record_county_forbidden(path):
    """403 (or sync's error) when the record sync serves at `path` belongs to a county outside
    the caller's, else None (also when there is no such record: the action then answers for it).

    A job's county is only known to sync: ask before acting on someone else's job.
    """
    record, error = gateway().sync.call("GET", path)
    if error is not None:
        return error
    return county_forbidden(_county_of_upstream_record(record))


def _job_county_forbidden(job_id):
    return _record_county_forbidden(f"{GIS}/status/{job_id}")


@blueprint.route("/api/v1/gis-export/cancel/<job_id>", methods=["POST"])
@rbac_required("run_gis_export")
def gis_export_cancel(job_id):
    forbidden = _job_county_forbidden(job_id)
    if forbidden is not None:
        return forbidden
    return gateway().sync.forward("POST", f"{GIS}/cancel/{job_id}")


@blueprint.route("/api/v1/gis-export/download/<job_id>", methods=["GET"])
@rbac_required("view_gis_export_results")
def gis_export_download(job_id):
    """The exported file, streamed from sync's /download (added by legacy/: production wrote no file)."""
    forbidden = _job_county_forbidden(job_id)
    if forbidden is not None:
        return forbidden
    response, error = gateway().sync.call("GET", f"{GIS}/download/{job_id}", stream=True)
    if error is not None:
        return error
    return to_flask_streamed(response)


@blueprint.route("/api/v1/gis-export/list", methods=["GET"])
@rbac_required("view_gis_export_status")
def gis_export_list():
    params = {name: request.args[name] for name in LIST_PARAMS if name in request.args}
    params.setdefault("limit", LIST_DEFAULT_LIMIT)
    forbidden = county_forbidden(params.get("county_id"))
    if forbidden is not None:
        return forbidden
    response, error = gateway().sync.call("GET", f"{GIS}/list", params=params)
    if error is not None:
        return error
    return _only_allowed_counties(response)


def _visible_jobs(jobs):
    """The jobs of a list the caller may see (entries that are not jobs stay)."""
    allowed = allowed_county_ids(g.identity)
    return [job for job in jobs if not isinstance(job, dict) or job.get("county_id") in allowed]


def _json_answer(response):
    """The JSON of a 200 answer, or None (the answer then passes through as it is)."""
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _only_allowed_counties(response):
    """An unfiltered job list, minus jobs of counties the caller may not see.

    Unchanged bytes when nothing is removed, so a caller with every county sees sync's body.
    """
    jobs = _json_answer(response)
    if not isinstance(jobs, list):
        return to_flask(response)
    visible = _visible_jobs(jobs)
    if len(visible) == len(jobs):
        return to_flask(response)
    return jsonify(visible)


def _page_of_allowed_counties(response, key):
    """A page of jobs (`{key: [...], "count": n, ...}`) minus other counties' jobs, `count`
    recounted; sync's bytes unchanged when nothing is removed."""
    page = _json_answer(response)
    if not isinstance(page, dict) or not isinstance(page.get(key), list):
        return to_flask(response)
    visible = _visible_jobs(page[key])
    if len(visible) == len(page[key]):
        return to_flask(response)
    return jsonify({**page, key: visible, "count": len(visible)})


# --- valuation, reporting, market analysis ------------------------------------------------
def _job_plugin_permission(plugin):
    run_permission, view_permission = JOB_PLUGINS[plugin]
    return lambda view_args: run_permission if request.method == "POST" else view_permission


# Sync's /plugins/market-analysis routes (contract 1b.D), reached under its doubled mount
# /plugins/v1/market-analysis/plugins/market-analysis/: a cancel names no county, so the job's
# is asked first (as for a GIS export cancel); the list spans every county, so it keeps the
# caller's counties' jobs, `count` recounted.
MARKET_ANALYSIS_DOOR = "plugins/market-analysis/"


def _market_analysis_door(subpath):
    """The answer for a 1b.D route that needs more than the plain passthrough, else None."""
    if not subpath.startswith(MARKET_ANALYSIS_DOOR):
        return None
    rest = subpath[len(MARKET_ANALYSIS_DOOR):]
    base = f"/plugins/v1/market-analysis/{MARKET_ANALYSIS_DOOR}"
    if rest == "list" and request.method == "GET":
        forbidden = _request_county_forbidden()
        if forbidden is not None:
            return forbidden
        response, error = gateway().sync.call("GET", f"{base}list", _query())
        if error is not None:
            return error
        return _page_of_allowed_counties(response, "jobs")
    job_id = rest[len("cancel/"):] if rest.startswith("cancel/") else None
    if job_id and "/" not in job_id and request.method == "POST":
        return _record_county_forbidden(f"{base}status/{job_id}")
    return None


def _job_plugin_view(plugin):
    @rbac_required(_job_plugin_permission(plugin))
    def view(subpath):
        if plugin == "market-analysis":
            answered = _market_analysis_door(subpath)
            if answered is not None:
                return answered
        return _forward_request(f"/plugins/v1/{plugin}/{subpath}")

    view.__name__ = "plugin_" + plugin.replace("-", "_")
    return view


for _plugin in JOB_PLUGINS:
    blueprint.add_url_rule(
        f"/api/v1/{_plugin}/<path:subpath>", view_func=_job_plugin_view(_plugin), methods=["GET", "POST"]
    )


# Reporting's job CRUD (legacy-contract.md section 1b.B). POST /reports and GET /reports/<id>
# pass through the plugin route above; these two need more than a passthrough.
@blueprint.route("/api/v1/reporting/reports", methods=["GET"])
@rbac_required("view_reports")
def reporting_reports_list():
    """The report list, minus other counties' jobs; `count` stays the page's length."""
    forbidden = _request_county_forbidden()
    if forbidden is not None:
        return forbidden
    response, error = gateway().sync.call("GET", REPORTS, _query())
    if error is not None:
        return error
    return _page_of_allowed_counties(response, "items")


@blueprint.route("/api/v1/reporting/reports/<report_id>", methods=["PATCH"])
@rbac_required("generate_report")
def reporting_reports_update(report_id):
    """A status update, as a write: the run permission, and only on a job of the caller's counties."""
    forbidden = _record_county_forbidden(f"{REPORTS}/{report_id}")
    if forbidden is not None:
        return forbidden
    return _forward_request(f"{REPORTS}/{report_id}")


# --- narrator -------------------------------------------------------------------------------
@blueprint.route("/api/v1/ai/<any(summarize, classify, explain):task>", methods=["POST"])
@rbac_required("use_ai_narrator")
def ai_task(task):
    return gateway().narrator.forward(
        "POST", f"/api/v1/{task}", body=request.get_data(cache=True), content_type=request.content_type
    )


# --- generic --------------------------------------------------------------------------------
@blueprint.route("/api/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@login_required
def generic(path):
    """Any other sync path, for any signed-in user.

    Sync's plugin routes are refused here: through this door they would skip the permission
    checks of /api/v1/<plugin>. A county in the path (`counties/<id>`) is scoped like one in
    the query.
    """
    segments = path.split("/")
    if segments[0] == "plugins":
        return json_error(403, "Forbidden", "Plugin routes are only reachable through /api/v1/<plugin>/...")
    if segments[0] == "counties" and len(segments) > 1:
        forbidden = county_forbidden(segments[1])
        if forbidden is not None:
            return forbidden
    return _forward_request(f"/{path}")
