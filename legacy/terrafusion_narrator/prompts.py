"""Every prompt the narrator sends, and every canned answer it gives when no model answers.

This module IS part of the contract: a reimplementation must build byte-identical prompts
(the harness compares what Ollama received from each side). Rules a reimplementation must
follow exactly:
- Templates are filled with Python's `str.format`: the text is inserted verbatim, nothing is
  stripped, escaped or truncated.
- In the GIS export template, a missing/None field is written `n/a`; numbers are written as
  Python's `str()` writes them; `layers` is the job's `parameters.layers` joined with ", "
  (`n/a` when absent or empty).
- The canned answers are returned (stripped of nothing) as `result` when the fallback chain
  ends at the template (see narration.py).
"""

CATEGORIES = ("Residential", "Commercial", "Agricultural", "Industrial", "Vacant Land", "Exempt")

_PREAMBLE = "You are TerraFusion Narrator, an assistant to a county property assessor's office."

SUMMARIZE = (
    _PREAMBLE + "\n"
    "Summarize the following text in three to five sentences of plain language for a property owner. "
    "Keep every value, date and parcel number that matters, and do not invent facts.\n"
    "\n"
    "Text:\n"
    "{text}\n"
    "\n"
    "Summary:"
)

CLASSIFY = (
    _PREAMBLE + "\n"
    "Classify the following text into exactly one of these categories: " + ", ".join(CATEGORIES) + ".\n"
    "Answer with the category name alone on the first line, then one sentence that explains the choice.\n"
    "\n"
    "Text:\n"
    "{text}\n"
    "\n"
    "Category:"
)

EXPLAIN = (
    _PREAMBLE + "\n"
    "Explain the following assessment text to a property owner who is not an appraiser. "
    "Define any technical terms, say why the value is what it is, and mention what the owner can do "
    "if they disagree.\n"
    "\n"
    "Text:\n"
    "{text}\n"
    "\n"
    "Explanation:"
)

GIS_EXPORT = (
    _PREAMBLE + "\n"
    "Write a short plain-language report on the GIS export job below for the staff member who requested it: "
    "what was exported, its current status, and anything that needs attention.\n"
    "\n"
    "Job ID: {job_id}\n"
    "County: {county_id}\n"
    "Format: {export_format}\n"
    "Status: {status}\n"
    "Message: {message}\n"
    "Layers: {layers}\n"
    "Created at: {created_at}\n"
    "Completed at: {completed_at}\n"
    "Records exported: {record_count}\n"
    "File size (KB): {file_size_kb}\n"
    "\n"
    "Report:"
)

TEMPLATES = {
    "summarize": SUMMARIZE,
    "classify": CLASSIFY,
    "explain": EXPLAIN,
    "gis_export_analysis": GIS_EXPORT,
}

# The canned answers of the last link of the fallback chain: honest about being canned.
CANNED = {
    "summarize": (
        "An AI summary is not available right now because the language model could not be reached. "
        "The original text is unchanged and can be reviewed as submitted."
    ),
    "classify": "Unclassified",
    "explain": (
        "An AI explanation is not available right now because the language model could not be reached. "
        "Please contact the assessor's office for an explanation of this assessment."
    ),
    "gis_export_analysis": (
        "GIS export job {job_id} for {county_id} ({export_format}) is {status}: {message}. "
        "Records exported: {record_count}. File size (KB): {file_size_kb}. "
        "An AI narrative is not available right now because the language model could not be reached."
    ),
}


def _field(value):
    return "n/a" if value is None or value == "" else str(value)


def gis_export_fields(job, result=None):
    """The template fields of a GIS export job (a sync StatusResponse) and its result, if any."""
    parameters = job.get("parameters") or {}
    layers = parameters.get("layers") if isinstance(parameters, dict) else None
    result = result or {}
    return {
        "job_id": _field(job.get("job_id")),
        "county_id": _field(job.get("county_id")),
        "export_format": _field(job.get("export_format")),
        "status": _field(job.get("status")),
        "message": _field(job.get("message")),
        "layers": ", ".join(str(layer) for layer in layers) if isinstance(layers, list) and layers else "n/a",
        "created_at": _field(job.get("created_at")),
        "completed_at": _field(job.get("completed_at")),
        "record_count": _field(result.get("record_count")),
        "file_size_kb": _field(result.get("file_size_kb")),
    }


def build_prompt(task_type, **fields):
    """The prompt of a task: `text=` for summarize/classify/explain, the job fields for gis_export_analysis."""
    return TEMPLATES[task_type].format(**fields)


def canned_answer(task_type, **fields):
    """The canned answer of a task, filled like its prompt."""
    return CANNED[task_type].format(**fields) if task_type == "gis_export_analysis" else CANNED[task_type]
