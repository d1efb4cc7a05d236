/**
 * Rows of `gis_export_jobs`. Reproduces legacy terrafusion_sync/gis/jobs.py: the same columns
 * and JSON text (so legacy and reimplementation read, list and cancel each other's jobs), one
 * conditional UPDATE per state change (PENDING->RUNNING and PENDING->CANCELLED exclude each
 * other), newest-first listing with job_id breaking created_at ties.
 */
import type pg from 'pg';
import { utcNowIso } from '../shared/clock.js';
import { pyJsonStored, type PyValue } from '../shared/py-json.js';

export interface GisJob {
  job_id: string;
  export_format: string;
  county_id: string;
  area_of_interest_json: PyValue;
  layers_json: PyValue;
  status: string;
  message: string | null;
  parameters_json: PyValue;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
  result_file_location: string | null;
  result_file_size_kb: number | null;
  result_record_count: number | null;
}

const COLUMNS =
  'job_id, export_format, county_id, area_of_interest_json, layers_json, status, message, parameters_json, ' +
  'created_at, updated_at, started_at, completed_at, result_file_location, result_file_size_kb, result_record_count';

const LIST_QUERIES = new Map<string, string>();
for (const byCounty of [false, true]) {
  for (const byStatus of [false, true]) {
    const clauses: string[] = [];
    let n = 1;
    if (byCounty) clauses.push(`county_id = $${n++}`);
    if (byStatus) clauses.push(`status = $${n++}`);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    LIST_QUERIES.set(
      `${byCounty}${byStatus}`,
      `SELECT ${COLUMNS} FROM gis_export_jobs ${where} ORDER BY created_at DESC, job_id DESC LIMIT $${n++} OFFSET $${n}`,
    );
  }
}

export class GisJobStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Inserts a PENDING job and returns the row as legacy returns it from /run. */
  async insert(jobId: string, countyId: string, exportFormat: string, areaOfInterest: PyValue, layers: PyValue, parameters: PyValue): Promise<GisJob> {
    const now = utcNowIso();
    const row: GisJob = {
      job_id: jobId, export_format: exportFormat, county_id: countyId, area_of_interest_json: areaOfInterest,
      layers_json: layers, status: 'PENDING', message: 'Job created and pending processing', parameters_json: parameters,
      created_at: now, updated_at: now, started_at: null, completed_at: null,
      result_file_location: null, result_file_size_kb: null, result_record_count: null,
    };
    await this.pool.query({
      name: 'gis_insert',
      text:
        'INSERT INTO gis_export_jobs (job_id, export_format, county_id, area_of_interest_json, layers_json, status, message, ' +
        'parameters_json, created_at, updated_at) VALUES ($1, $2, $3, CAST($4 AS json), CAST($5 AS json), $6, $7, CAST($8 AS json), $9, $10)',
      values: [jobId, exportFormat, countyId, pyJsonStored(areaOfInterest), pyJsonStored(layers), row.status, row.message,
        // legacy json.dumps(None) writes the JSON literal null, not SQL NULL
        pyJsonStored(parameters) ?? 'null', now, now],
    });
    return row;
  }

  async get(jobId: string): Promise<GisJob | undefined> {
    const { rows } = await this.pool.query<GisJob>({ name: 'gis_get', text: `SELECT ${COLUMNS} FROM gis_export_jobs WHERE job_id = $1`, values: [jobId] });
    return rows[0];
  }

  async list(countyId: string | undefined, status: string | undefined, limit: number, offset: number): Promise<GisJob[]> {
    const values: unknown[] = [];
    if (countyId !== undefined) values.push(countyId);
    if (status !== undefined) values.push(status);
    values.push(limit, offset);
    const key = `${countyId !== undefined}${status !== undefined}`;
    const { rows } = await this.pool.query<GisJob>({ name: `gis_list_${key}`, text: LIST_QUERIES.get(key)!, values });
    return rows;
  }

  private async transition(jobId: string, from: string | null, to: string, message: string, extraSql = '', extra: unknown[] = []): Promise<boolean> {
    // $1 status, $2 message, $3 now, $4 job_id, [$5 guard], then the extras written as $x1, $x2...
    const values: unknown[] = [to, message, utcNowIso(), jobId];
    if (from !== null) values.push(from);
    const extraOffset = values.length;
    values.push(...extra);
    const sets = extraSql.replace(/\$x(\d)/g, (_m, d: string) => `$${extraOffset + Number(d)}`);
    const sql = `UPDATE gis_export_jobs SET status = $1, message = $2, updated_at = $3${sets} WHERE job_id = $4${from !== null ? ' AND status = $5' : ''}`;
    const result = await this.pool.query(sql, values);
    return result.rowCount === 1;
  }

  /** PENDING -> RUNNING; false when the job was cancelled (or vanished) first. */
  markRunning(jobId: string): Promise<boolean> {
    return this.transition(jobId, 'PENDING', 'RUNNING', 'Job processing started', ', started_at = $3');
  }

  /**
   * RUNNING -> COMPLETED. Legacy writes it unconditionally and so overwrites CANCELLING;
   * with `honourCancel` (declared difference `gis-export-cancel-overwritten`) a job whose
   * cancel was requested ends CANCELLED instead and its file is not kept.
   */
  async markCompleted(jobId: string, location: string, sizeKb: number, count: number, honourCancel: boolean): Promise<boolean> {
    return this.transition(
      jobId, honourCancel ? 'RUNNING' : null, 'COMPLETED', 'Export completed successfully',
      ', completed_at = $3, result_file_location = $x1, result_file_size_kb = $x2, result_record_count = $x3', [location, sizeKb, count],
    );
  }

  /** CANCELLING -> CANCELLED, once the worker has stopped (only with honourCancel). */
  markCancelled(jobId: string): Promise<boolean> {
    return this.transition(jobId, 'CANCELLING', 'CANCELLED', 'Job cancelled during processing', ', completed_at = $3');
  }

  async markFailed(jobId: string, error: string): Promise<void> {
    await this.transition(jobId, null, 'FAILED', `Export failed: ${error}`, ', completed_at = $3');
  }

  /** Applies a cancel request; returns the status that refused it, or undefined when applied. */
  async cancel(jobId: string): Promise<string | undefined> {
    if (await this.transition(jobId, 'PENDING', 'CANCELLED', 'Job cancelled before processing started')) return undefined;
    if (await this.transition(jobId, 'RUNNING', 'CANCELLING', 'Job cancellation requested')) return undefined;
    return (await this.get(jobId))?.status;
  }
}
