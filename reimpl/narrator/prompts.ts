/**
 * Every prompt the narrator sends and every canned answer it gives when no model answers.
 * Reproduces legacy/terrafusion_narrator/prompts.py character for character (the harness
 * compares what Ollama receives from both sides): templates filled like `str.format` (text
 * inserted verbatim), GIS fields as Python's `str()` writes them, missing ones as `n/a`.
 */
import { floatRepr, PyFloat, type PyValue } from '../shared/py-json.js';

export type TextTask = 'summarize' | 'classify' | 'explain';
export type TaskType = TextTask | 'gis_export_analysis';

export const CATEGORIES = ['Residential', 'Commercial', 'Agricultural', 'Industrial', 'Vacant Land', 'Exempt'];

const PREAMBLE = "You are TerraFusion Narrator, an assistant to a county property assessor's office.";

const TEMPLATES: Record<TaskType, string> = {
  summarize:
    `${PREAMBLE}\n` +
    'Summarize the following text in three to five sentences of plain language for a property owner. ' +
    'Keep every value, date and parcel number that matters, and do not invent facts.\n' +
    '\nText:\n{text}\n\nSummary:',
  classify:
    `${PREAMBLE}\n` +
    `Classify the following text into exactly one of these categories: ${CATEGORIES.join(', ')}.\n` +
    'Answer with the category name alone on the first line, then one sentence that explains the choice.\n' +
    '\nText:\n{text}\n\nCategory:',
  explain:
    `${PREAMBLE}\n` +
    'Explain the following assessment text to a property owner who is not an appraiser. ' +
    'Define any technical terms, say why the value is what it is, and mention what the owner can do ' +
    'if they disagree.\n' +
    '\nText:\n{text}\n\nExplanation:',
  gis_export_analysis:
    `${PREAMBLE}\n` +
    'Write a short plain-language report on the GIS export job below for the staff member who requested it: ' +
    'what was exported, its current status, and anything that needs attention.\n' +
    '\nJob ID: {job_id}\nCounty: {county_id}\nFormat: {export_format}\nStatus: {status}\nMessage: {message}\n' +
    'Layers: {layers}\nCreated at: {created_at}\nCompleted at: {completed_at}\nRecords exported: {record_count}\n' +
    'File size (KB): {file_size_kb}\n\nReport:',
};

// The last link of the fallback chain: honest about being canned.
const CANNED: Record<TaskType, string> = {
  summarize:
    'An AI summary is not available right now because the language model could not be reached. ' +
    'The original text is unchanged and can be reviewed as submitted.',
  classify: 'Unclassified',
  explain:
    'An AI explanation is not available right now because the language model could not be reached. ' +
    "Please contact the assessor's office for an explanation of this assessment.",
  gis_export_analysis:
    'GIS export job {job_id} for {county_id} ({export_format}) is {status}: {message}. ' +
    'Records exported: {record_count}. File size (KB): {file_size_kb}. ' +
    'An AI narrative is not available right now because the language model could not be reached.',
};

/** `str.format(**fields)` for templates whose only braces are `{name}` fields (a replacement is never rescanned). */
function format(template: string, fields: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_whole, name: string) => {
    if (!(name in fields)) throw new Error(`template field ${name} missing`);
    return fields[name]!;
  });
}

/** Python's repr() of a str: single quotes unless the text holds a ' and no ". */
function strRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of text) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch < ' ' || ch === '\x7f') out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/** Python's str() of a JSON value (repr() inside containers). */
export function pyStr(value: PyValue | undefined, nested = false): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return nested ? strRepr(value) : value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : floatRepr(value);
  if (value instanceof PyFloat) return floatRepr(value.value);
  if (Array.isArray(value)) return `[${value.map((item) => pyStr(item, true)).join(', ')}]`;
  const record = value as Record<string, PyValue>;
  return `{${Object.keys(record)
    .map((key) => `${strRepr(key)}: ${pyStr(record[key], true)}`)
    .join(', ')}}`;
}

const field = (value: PyValue | undefined) => (value === null || value === undefined || value === '' ? 'n/a' : pyStr(value));

const isDict = (value: PyValue | undefined): value is Record<string, PyValue> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof PyFloat);

/** Python's truthiness, for `x or {}`. */
const truthy = (value: PyValue | undefined) =>
  !(value === null || value === undefined || value === false || value === 0 || value === '' || (Array.isArray(value) && value.length === 0) || (isDict(value) && Object.keys(value).length === 0) || (value instanceof PyFloat && value.value === 0));

export type GisExportFields = Record<'job_id' | 'county_id' | 'export_format' | 'status' | 'message' | 'layers' | 'created_at' | 'completed_at' | 'record_count' | 'file_size_kb', string>;

/** The template fields of a GIS export job (sync's StatusResponse) and its result, if any. */
export function gisExportFields(job: Record<string, PyValue>, result?: PyValue): GisExportFields {
  const parameters = truthy(job.parameters) ? job.parameters : {};
  const layers = isDict(parameters) ? parameters.layers : undefined;
  const res = (truthy(result) ? result : {}) as Record<string, PyValue>;
  return {
    job_id: field(job.job_id),
    county_id: field(job.county_id),
    export_format: field(job.export_format),
    status: field(job.status),
    message: field(job.message),
    layers: Array.isArray(layers) && layers.length ? layers.map((layer) => pyStr(layer)).join(', ') : 'n/a',
    created_at: field(job.created_at),
    completed_at: field(job.completed_at),
    record_count: field(res.record_count),
    file_size_kb: field(res.file_size_kb),
  };
}

/** The prompt of a task: `{text}` for summarize/classify/explain, the job fields for gis_export_analysis. */
export function buildPrompt(task: TaskType, fields: Record<string, string>): string {
  return format(TEMPLATES[task], fields);
}

/** The canned answer of a task, filled like its prompt. */
export function cannedAnswer(task: TaskType, fields: Record<string, string> = {}): string {
  return task === 'gis_export_analysis' ? format(CANNED[task], fields) : CANNED[task];
}
