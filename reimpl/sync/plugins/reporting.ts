/**
 * Reporting plugin, prefix /plugins/v1/reporting. Reproduces legacy
 * terrafusion_sync/plugins/reporting.py: `POST /run` answers 202 with the job already run
 * inline (COMPLETED, or FAILED for FAILING_REPORT_SIM), `GET /status/{id}`,
 * `GET /results/{id}`; the report content is computed from property_operational and rounded
 * half-to-even, with Decimal sums and float averages rendered as Python renders them.
 * The job CRUD of section 1b.B (`/reports`) is in reporting-reports.ts.
 */
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { utcNowIso } from '../../shared/clock.js';
import { bodyModel, sendPy } from '../../shared/fastapi.js';
import { PyFloat, type PyValue } from '../../shared/py-json.js';
import { constr, dict, type ModelSpec } from '../../shared/pydantic-v1.js';
import { pyRound, roundFloat } from '../../shared/py-round.js';
import { addStatusAndResultsRoutes, JobFailed, JobStore, type Row } from './job-table.js';
import { registerReportJobRoutes } from './reporting-reports.js';

const PREFIX = '/plugins/v1/reporting';
const FAILING_REPORT_TYPE = 'FAILING_REPORT_SIM';
const ROLL_LINES_PER_PAGE = 40;
const BASE_SIZE_KB = 48;
const KB_PER_PAGE = 12;
const KB_PER_SECTION = 6;

const runRequest: ModelSpec = {
  fields: [
    // Lengths of the report_jobs columns: longer values are a 422, not a database error.
    { name: 'report_type', validator: constr({ maxLength: 100 }), required: true },
    { name: 'county_id', validator: constr({ maxLength: 50 }), required: true },
    { name: 'parameters', validator: dict, nullable: true },
  ],
};

const STATISTICS_SQL = `
    SELECT property_type,
           count(*) AS property_count,
           count(assessed_total_value) AS valued_count,
           sum(assessed_total_value) AS total_assessed_value,
           avg(assessed_total_value) AS average_assessed_value,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY assessed_total_value) AS median_assessed_value,
           min(assessed_total_value) AS min_assessed_value,
           max(assessed_total_value) AS max_assessed_value,
           avg(building_area_sqft) AS average_building_area_sqft
      FROM property_operational
     WHERE county_id = $1
       AND (CAST($2 AS varchar) IS NULL OR property_type = $2)
     GROUP BY GROUPING SETS ((property_type), ())
     ORDER BY property_type NULLS LAST`;

type Num = Parameters<typeof pyRound>[0];

function section(row: Row): Row {
  return {
    property_count: row.property_count,
    valued_count: row.valued_count,
    total_assessed_value: row.total_assessed_value,
    average_assessed_value: pyRound(row.average_assessed_value as Num, 2),
    median_assessed_value: pyRound(row.median_assessed_value as Num, 2),
    min_assessed_value: row.min_assessed_value,
    max_assessed_value: row.max_assessed_value,
    average_building_area_sqft: pyRound(row.average_building_area_sqft as Num, 1),
  };
}

export function registerReporting(app: FastifyInstance, pool: pg.Pool): void {
  const store = new JobStore(pool, {
    table: 'report_jobs',
    idColumn: 'report_id',
    label: 'Report job',
    jsonColumns: ['parameters_json', 'result_metadata_json'],
  });

  async function summary(countyId: string, propertyType: string | null): Promise<Row> {
    const { rows } = await pool.query<Row>({ name: 'report_statistics', text: STATISTICS_SQL, values: [countyId, propertyType] });
    const byType = rows.filter((r) => r.property_type !== null).map((r) => ({ property_type: r.property_type, ...section(r) }));
    const overall = rows.find((r) => r.property_type === null)!;
    return { ...section(overall), by_property_type: byType };
  }

  async function generate(reportId: string, reportType: string, countyId: string, parameters: Record<string, PyValue> | null): Promise<Row> {
    if (reportType === FAILING_REPORT_TYPE) throw new JobFailed('Simulated report generation failure');
    const started = performance.now();
    const propertyType = parameters?.property_type ?? null;
    if (propertyType !== null && typeof propertyType !== 'string') {
      throw new JobFailed('Report generation failed: parameters.property_type must be a string');
    }
    const content = await summary(countyId, propertyType);
    const sections = (content.by_property_type as Row[]).length;
    const pages = 2 + sections + Math.ceil((content.property_count as number) / ROLL_LINES_PER_PAGE);
    const metadata: Row = {
      file_size_kb: BASE_SIZE_KB + KB_PER_PAGE * pages + KB_PER_SECTION * sections,
      pages,
      generation_time_seconds: new PyFloat(roundFloat((performance.now() - started) / 1000, 3)),
      generated_at: utcNowIso(),
      summary: content,
    };
    return {
      result_location: `s3://terrafusion-reports/${countyId}/${reportType}/${reportId}.pdf`,
      result_metadata_json: metadata,
    };
  }

  const statusBody = (row: Row): Row => ({
    report_id: row.report_id,
    report_type: row.report_type,
    county_id: row.county_id,
    status: row.status,
    message: row.message,
    parameters: row.parameters_json,
    created_at: row.created_at,
    updated_at: row.updated_at,
    started_at: row.started_at,
    completed_at: row.completed_at,
    result_location: row.result_location,
    result_metadata: row.result_metadata_json,
  });

  app.post(`${PREFIX}/run`, async (request, reply) => {
    const { values } = bodyModel(request, runRequest);
    const reportType = values.report_type as string;
    const countyId = values.county_id as string;
    const parameters = values.parameters as Record<string, PyValue> | null;
    const row = await store.createAndRun(
      { report_type: reportType, county_id: countyId, parameters_json: parameters },
      (id) => generate(id, reportType, countyId, parameters),
      'Report generation completed successfully',
      'Report generation failed',
      'Failed to start report generation',
    );
    return sendPy(reply, 202, statusBody(row));
  });

  // No result for a COMPLETED job without a location (a PATCHed `POST /reports` job); metadata null -> {}.
  const resultBody = (row: Row): PyValue =>
    row.result_location ? { result_location: row.result_location, result_metadata: row.result_metadata_json ?? {} } : null;
  addStatusAndResultsRoutes(app, PREFIX, store, statusBody, resultBody, [
    'report_id', 'report_type', 'county_id', 'status', 'message', 'parameters', 'created_at', 'completed_at',
  ]);
  registerReportJobRoutes(app, PREFIX, pool, store, runRequest, statusBody);
}
