/**
 * Fetching a GIS export job (and its result once COMPLETED) from sync, for
 * POST /api/v1/ai/analyze/gis-export. Reproduces legacy/terrafusion_narrator/gis_jobs.py;
 * answers are parsed keeping Python's int/float distinction, since the prompt writes `str()`.
 */
import { parsePyJson, type PyValue } from '../shared/py-json.js';

/** Sync answered 404 for the job; the message is sync's detail. */
export class JobNotFound extends Error {}
/** Sync could not be reached or answered with something other than the job. */
export class SyncUnavailable extends Error {}

// requests' timeout=(3, 15): connect, then read.
const TIMEOUT_MS = 18_000;

async function getJson(url: string): Promise<PyValue> {
  let status: number;
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    status = response.status;
    text = await response.text();
  } catch (error) {
    const name = (error as Error).name === 'TimeoutError' ? 'ReadTimeout' : 'ConnectionError';
    throw new SyncUnavailable(`${url} unreachable: ${name}`);
  }
  if (status === 404) throw new JobNotFound(detailOf(text));
  if (status !== 200) throw new SyncUnavailable(`${url} answered ${status}: ${text.slice(0, 200)}`);
  try {
    return parsePyJson(text);
  } catch {
    throw new SyncUnavailable(`${url} answered with a body that is not JSON`);
  }
}

function detailOf(text: string): string {
  try {
    const body = JSON.parse(text);
    const detail = body !== null && typeof body === 'object' ? body.detail : undefined;
    return detail ? (typeof detail === 'string' ? detail : JSON.stringify(detail)) : text;
  } catch {
    return text;
  }
}

/** Python's quote(text, safe=""). */
export function quoteAll(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'))
    .map((byte) => {
      const ch = String.fromCharCode(byte);
      return /[A-Za-z0-9_.\-~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** The job's StatusResponse and, once it is COMPLETED, its result object. */
export async function fetchJob(syncServiceUrl: string, jobId: string): Promise<{ job: Record<string, PyValue>; result: PyValue | undefined }> {
  const base = `${syncServiceUrl}/plugins/v1/gis-export`;
  const job = (await getJson(`${base}/status/${jobId}`)) as Record<string, PyValue>;
  let result: PyValue | undefined;
  if (job?.status === 'COMPLETED') result = ((await getJson(`${base}/results/${jobId}`)) as Record<string, PyValue>)?.result;
  return { job, result };
}
