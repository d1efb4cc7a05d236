/**
 * Core routes of the sync service. Reproduces legacy terrafusion_sync/app.py:
 * GET /health, /metrics, /counties, /counties/{county_id}, /properties,
 * /properties/{property_id} — same fields in the same order, Decimal columns as floats,
 * naive timestamps, `limit` 1..1000 (default 100) and `offset` >= 0 — and section 1b.A's
 * GET /sync-sources and /import-jobs (always `[]`; import-jobs' integers unbounded but checked).
 * Declared difference: /counties/{id} redacts connection_params.password
 * (parity/accepted-differences.yaml, `county-config-password`).
 */
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { CountyConfigs, CountyConfig } from '../shared/county-configs.js';
import { HttpDetail, intQueries, lastValue, queries, sendJsonText, sendPy } from '../shared/fastapi.js';
import { int } from '../shared/pydantic-v1.js';
import { pyJson, type PyValue } from '../shared/py-json.js';
import { serviceExposition, type GisExportMetrics } from '../gis-export/metrics-text.js';
import { FASTAPI_PROMETHEUS_CONTENT_TYPE } from '../shared/python-prometheus.js';

export const VERSION = '0.1.0';
export const REDACTED_PASSWORD = '********';

export interface CoreOptions {
  pool: pg.Pool;
  counties: CountyConfigs;
  environment: string;
  metrics: Registry;
  gisExportMetrics: GisExportMetrics;
  /** When false, /counties/{id} leaks the password exactly as legacy does. */
  redactCountyPassword: boolean;
}

// One prepared statement per filter combination, so no SQL is built per request.
const PROPERTY_QUERIES = new Map<string, string>();
for (const byCounty of [false, true]) {
  for (const byType of [false, true]) {
    const clauses: string[] = [];
    let n = 1;
    if (byCounty) clauses.push(`county_id = $${n++}`);
    if (byType) clauses.push(`property_type = $${n++}`);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    PROPERTY_QUERIES.set(`${byCounty}${byType}`, `SELECT * FROM property_operational ${where} ORDER BY property_id LIMIT $${n++} OFFSET $${n}`);
  }
}

function redacted(params: PyValue | undefined): PyValue {
  if (params === null || typeof params !== 'object' || Array.isArray(params) || !('password' in params)) return params ?? {};
  return { ...(params as Record<string, PyValue>), password: REDACTED_PASSWORD };
}

export function registerCoreRoutes(app: FastifyInstance, options: CoreOptions): void {
  const { pool, counties } = options;

  app.get('/health', async (_request, reply) => {
    let database: PyValue;
    let status: string;
    try {
      await pool.query({ name: 'health', text: 'SELECT 1' });
      database = { status: 'connected', database_type: 'postgresql', message: 'Database connection successful' };
      status = 'healthy';
    } catch (error) {
      database = { status: 'error', database_type: 'postgresql', message: error instanceof Error ? error.message : String(error) };
      status = 'unhealthy';
    }
    return sendPy(reply, 200, { status, version: VERSION, database, environment: options.environment || 'development' });
  });

  app.get('/metrics', async (_request, reply) =>
    reply.code(200).header('content-type', FASTAPI_PROMETHEUS_CONTENT_TYPE).send(await serviceExposition(await options.metrics.metrics(), options.gisExportMetrics)),
  );

  const summary = (c: CountyConfig): PyValue => ({
    county_id: c.countyId,
    county_name: c.raw.county_name ?? null,
    legacy_system_type: c.raw.legacy_system_type ?? null,
    available_formats: c.raw.available_formats ?? [],
  });
  // The list never changes while the service runs: rendered once.
  const countiesBody = pyJson(counties.all().map(summary));
  app.get('/counties', async (_request, reply) => sendJsonText(reply, 200, countiesBody));

  app.get<{ Params: { county_id: string } }>('/counties/:county_id', async (request, reply) => {
    const config = counties.get(request.params.county_id);
    if (!config) throw new HttpDetail(404, `County ${request.params.county_id} not found`);
    const counts = counties.rbacCounts(config);
    const params = config.raw.connection_params ?? {};
    return sendPy(reply, 200, {
      county_id: config.countyId,
      county_name: config.raw.county_name ?? null,
      legacy_system_type: config.raw.legacy_system_type ?? null,
      connection_params: options.redactCountyPassword ? redacted(params) : params,
      users_count: counts.users_count,
      roles_count: counts.roles_count,
      mappings: config.raw.mappings ?? {},
    });
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/properties', async (request, reply) => {
    const [limit, offset] = intQueries(request.query, [
      { name: 'limit', fallback: 100, ge: 1, le: 1000 },
      { name: 'offset', fallback: 0, ge: 0 },
    ]);
    const countyId = lastValue(request.query.county_id);
    const propertyType = lastValue(request.query.property_type);
    const values: unknown[] = [];
    if (countyId !== undefined) values.push(countyId);
    if (propertyType !== undefined) values.push(propertyType);
    values.push(limit, offset);
    const key = `${countyId !== undefined}${propertyType !== undefined}`;
    const { rows } = await pool.query<Record<string, PyValue>>({ name: `properties_${key}`, text: PROPERTY_QUERIES.get(key)!, values });
    return sendJsonText(reply, 200, pyJson(rows));
  });

  // Production has no sync sources or import jobs yet.
  app.get('/sync-sources', async (_request, reply) => sendJsonText(reply, 200, '[]'));
  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/import-jobs', async (request, reply) => {
    queries(request.query, [
      { name: 'source_system_id', validator: int(), fallback: null },
      { name: 'limit', validator: int(), fallback: 100 },
      { name: 'offset', validator: int(), fallback: 0 },
    ]);
    return sendJsonText(reply, 200, '[]');
  });

  app.get<{ Params: { property_id: string } }>('/properties/:property_id', async (request, reply) => {
    const { rows } = await pool.query<Record<string, PyValue>>({
      name: 'property_by_id',
      text: 'SELECT * FROM property_operational WHERE property_id = $1',
      values: [request.params.property_id],
    });
    if (!rows[0]) throw new HttpDetail(404, `Property with ID ${request.params.property_id} not found`);
    return sendPy(reply, 200, rows[0]);
  });
}
