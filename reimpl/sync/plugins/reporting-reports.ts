/**
 * Reporting's job CRUD under /plugins/v1/reporting. Reproduces legacy
 * terrafusion_sync/plugins/reporting_reports.py (legacy-contract.md section 1b.B):
 * `POST /reports` answers 200 with a PENDING job (`message` null) that nothing processes,
 * `GET /reports/{id}`, `GET /reports` (exact filters, `created_after` as `created_at >=`,
 * newest first, `count` = the page's length) and `PATCH /reports/{id}` (body validated
 * before the lookup, so 422 precedes 404; any transition). One `report_jobs` table with `/run`.
 */
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { utcNowIso } from '../../shared/clock.js';
import { bodyModel, HttpDetail, queries, sendPy } from '../../shared/fastapi.js';
import { datetime, type PyDatetime } from '../../shared/pydantic-datetime.js';
import { checked, constr, dict, int, str, type ModelSpec } from '../../shared/pydantic-v1.js';
import type { PyValue } from '../../shared/py-json.js';
import { COMPLETED, FAILED, PENDING, pythonStr, RUNNING, type JobStore, type Row } from './job-table.js';

const STATUSES = [PENDING, RUNNING, COMPLETED, FAILED];
const STATUS_ERROR = `Status must be one of: ${STATUSES.join(', ')}`;
// Python's words comparing a naive column with a zone-aware value (legacy raises them).
const AWARE_ERROR = "can't compare offset-naive and offset-aware datetimes";

const statusUpdate: ModelSpec = {
  fields: [
    { name: 'status', validator: checked(str, (value) => (STATUSES.includes(value as string) ? undefined : STATUS_ERROR)), required: true },
    { name: 'message', validator: str, nullable: true },
    { name: 'result_location', validator: constr({ maxLength: 255 }), nullable: true },
    { name: 'result_metadata', validator: dict, nullable: true },
  ],
};

const LIST_FILTERS = ['county_id', 'report_type', 'status'] as const;

const notFound = (id: string) => new HttpDetail(404, `Report job with ID ${id} not found`);

/** The columns a PATCH sets: status and updated_at always, the rest as production did. */
function changes(current: Row, update: Record<string, PyValue>): Row {
  const now = utcNowIso();
  const row: Row = { status: update.status, updated_at: now };
  if (update.message !== null) row.message = update.message;
  if (update.status === RUNNING && current.status !== RUNNING) row.started_at = now;
  if (update.status === COMPLETED || update.status === FAILED) row.completed_at = now;
  // Truthy only: an empty location or {} never clears what a job has.
  if (update.result_location) row.result_location = update.result_location;
  const metadata = update.result_metadata as Record<string, PyValue> | null;
  if (metadata && Object.keys(metadata).length > 0) row.result_metadata_json = metadata;
  return row;
}

/** Registers the four /reports routes; `jobBody` renders a row as a ReportJob. */
export function registerReportJobRoutes(app: FastifyInstance, prefix: string, pool: pg.Pool, store: JobStore, createRequest: ModelSpec, jobBody: (row: Row) => Row): void {
  const table = store.table.table;

  app.post(`${prefix}/reports`, async (request, reply) => {
    const { values } = bodyModel(request, createRequest);
    try {
      const id = await store.create({ report_type: values.report_type, county_id: values.county_id, parameters_json: values.parameters, message: null });
      return sendPy(reply, 200, jobBody((await store.find(id))!));
    } catch (error) {
      throw new HttpDetail(500, `Failed to create report job: ${pythonStr(error)}`);
    }
  });

  app.get<{ Params: { id: string } }>(`${prefix}/reports/:id`, async (request, reply) => {
    const row = await store.find(request.params.id);
    if (!row) throw notFound(request.params.id);
    return sendPy(reply, 200, jobBody(row));
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(`${prefix}/reports`, async (request, reply) => {
    const [countyId, reportType, status, createdAfter, limit, offset] = queries(request.query, [
      ...LIST_FILTERS.map((name) => ({ name, validator: str, fallback: null })),
      { name: 'created_after', validator: datetime, fallback: null },
      { name: 'limit', validator: int({ ge: 1, le: 1000 }), fallback: 100 },
      { name: 'offset', validator: int({ ge: 0 }), fallback: 0 },
    ]);
    const after = createdAfter as PyDatetime | null;
    if (after?.aware) throw new HttpDetail(500, `Failed to list report jobs: ${AWARE_ERROR}`);
    const clauses: string[] = [];
    const values: unknown[] = [];
    [countyId, reportType, status].forEach((value, i) => {
      if (value === null) return;
      values.push(value);
      clauses.push(`${LIST_FILTERS[i]} = $${values.length}`);
    });
    if (after) {
      values.push(after.iso);
      clauses.push(`created_at >= $${values.length}`);
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    values.push(limit, offset);
    let rows: Row[];
    try {
      ({ rows } = await pool.query<Row>(`SELECT * FROM ${table} ${where} ORDER BY created_at DESC LIMIT $${values.length - 1} OFFSET $${values.length}`, values));
    } catch (error) {
      throw new HttpDetail(500, `Failed to list report jobs: ${pythonStr(error)}`);
    }
    const items = rows.map(jobBody);
    return sendPy(reply, 200, { items, count: items.length });
  });

  app.patch<{ Params: { id: string } }>(`${prefix}/reports/:id`, async (request, reply) => {
    const { values } = bodyModel(request, statusUpdate);
    const current = await store.find(request.params.id);
    if (!current) throw notFound(request.params.id);
    try {
      await store.set(request.params.id, changes(current, values));
      return sendPy(reply, 200, jobBody((await store.find(request.params.id))!));
    } catch (error) {
      throw new HttpDetail(500, `Failed to update report job status: ${pythonStr(error)}`);
    }
  });
}
