/**
 * A GIS export driven end to end through the legacy gateway, as a county user would: JWT
 * login, `/api/v1/gis-export/run`, status polled until a terminal state, results read.
 */
import pg from 'pg';
import { CutoverError } from '../errors.js';

export interface ExportRequest {
  countyId: string;
  format: string;
  layers: string[];
  areaOfInterest: { type: 'Polygon'; coordinates: number[][][] };
}

export interface ExportOutcome {
  jobId: string;
  status: string;
  message: string;
  result?: { file_location: string; file_size_kb: number; record_count: number };
  elapsedMs: number;
  /** HTTP requests the run made: run, each status poll, results. */
  requests: number;
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

async function json<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new CutoverError('CUTOVER_ERR_MAIN_JOB_FAILED', `${what} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** The central quarter of a county's seeded parcels, as a polygon: a realistic area of interest. */
export async function centralAreaOfInterest(databaseUrl: string, countyId: string): Promise<ExportRequest['areaOfInterest']> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ x0: number; y0: number; x1: number; y1: number }>(
      'SELECT min(min_x) AS x0, min(min_y) AS y0, max(max_x) AS x1, max(max_y) AS y1 FROM property_operational WHERE county_id = $1',
      [countyId],
    );
    const box = rows[0];
    if (!box || box.x0 === null) throw new CutoverError('CUTOVER_ERR_MAIN_JOB_FAILED', `county ${countyId} has no parcels; seed it first`);
    const dx = (box.x1 - box.x0) / 4;
    const dy = (box.y1 - box.y0) / 4;
    const [x0, y0, x1, y1] = [box.x0 + dx, box.y0 + dy, box.x1 - dx, box.y1 - dy];
    return { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] };
  } finally {
    await client.end();
  }
}

export async function loginForToken(gatewayUrl: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${gatewayUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = await json<{ access_token: string }>(response, 'gateway login');
  return body.access_token;
}

export async function runGisExport(gatewayUrl: string, token: string, request: ExportRequest, deadlineMs = 600_000): Promise<ExportOutcome> {
  const started = Date.now();
  let requests = 1;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await json<{ job_id: string }>(
    await fetch(`${gatewayUrl}/api/v1/gis-export/run`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        county_id: request.countyId,
        format: request.format,
        username: 'cutover-main-job',
        area_of_interest: request.areaOfInterest,
        layers: request.layers,
        parameters: null,
      }),
    }),
    'gis-export run',
  );
  let status = { status: 'PENDING', message: '' };
  let delay = 50;
  while (!TERMINAL.has(status.status)) {
    if (Date.now() - started > deadlineMs) throw new CutoverError('CUTOVER_ERR_MAIN_JOB_FAILED', `job ${created.job_id} still ${status.status} after ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 1000);
    status = await json(await fetch(`${gatewayUrl}/api/v1/gis-export/status/${created.job_id}`, { headers }), 'gis-export status');
    requests += 1;
  }
  const outcome: ExportOutcome = { jobId: created.job_id, status: status.status, message: status.message, elapsedMs: Date.now() - started, requests };
  if (status.status === 'COMPLETED') {
    const results = await json<{ result: NonNullable<ExportOutcome['result']> }>(
      await fetch(`${gatewayUrl}/api/v1/gis-export/results/${created.job_id}`, { headers }),
      'gis-export results',
    );
    outcome.result = results.result;
    outcome.requests += 1;
  }
  return outcome;
}
