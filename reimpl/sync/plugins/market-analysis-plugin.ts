/**
 * Market analysis at /plugins/market-analysis (contract section 1b.D), and its doubled alias
 * /plugins/v1/market-analysis/plugins/market-analysis. Reproduces legacy
 * terrafusion_sync/plugins/market_analysis_plugin.py: 202 PENDING with production's texts,
 * the study run after the answer (MarketStudies, in the market_analysis_jobs rows the
 * /plugins/v1 door shares), RUNNING `Job is being processed`, COMPLETED or FAILED `Error: <e>`,
 * a CANCELLED job never overwritten, and the county's market-data advisory lock held shared
 * while the job reads and records, on one client.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { utcNowIso } from '../../shared/clock.js';
import { bodyModel, HttpDetail, intQueries, lastValue, sendPy } from '../../shared/fastapi.js';
import type { PyValue } from '../../shared/py-json.js';
import { checked, constr, nested, setValues, str, type ModelSpec, type ModelValue } from '../../shared/pydantic-v1.js';
import { COMPLETED, FAILED, JobStore, PENDING, pythonStr, RUNNING, type Row } from './job-table.js';
import { MarketStudies, parametersModel } from './market-analysis.js';

const PREFIXES = ['/plugins/market-analysis', '/plugins/v1/market-analysis/plugins/market-analysis'];
const ANALYSIS_TYPES = ['price_trend_by_zip', 'comparable_market_area', 'sales_velocity', 'market_valuation', 'price_per_sqft'];
const CANCELLED = 'CANCELLED';
const QUEUED_MESSAGE = 'Job created and queued for processing';
const NOT_CANCELLABLE = 'Job cannot be cancelled. It may be completed, failed, or not found.';
const LOCK = "hashtext('market_analysis'), hashtext($1)";

const runRequest: ModelSpec = {
  fields: [
    { name: 'county_id', validator: constr({ maxLength: 50 }), required: true },
    { name: 'analysis_type', validator: checked(str, (v) => (ANALYSIS_TYPES.includes(v as string) ? undefined : `Analysis type must be one of: ${ANALYSIS_TYPES.join(', ')}`)), required: true },
    { name: 'parameters', validator: nested(parametersModel), required: true },
  ],
};

const statusBody = (row: Row): Row => ({
  job_id: row.job_id, county_id: row.county_id, analysis_type: row.analysis_type, status: row.status, message: row.message,
  created_at: row.created_at, updated_at: row.updated_at, started_at: row.started_at, completed_at: row.completed_at,
});

export function registerMarketAnalysisPlugin(app: FastifyInstance, pool: pg.Pool, store: JobStore, studies: MarketStudies): void {
  async function jobOr404(id: string): Promise<Row> {
    const row = await store.find(id);
    if (!row) throw new HttpDetail(404, `Job with ID ${id} not found`);
    return row;
  }

  /** The job's life after the 202; never rejects. */
  async function process(id: string, countyId: string, type: string, parameters: Record<string, PyValue>): Promise<void> {
    try {
      if (!(await store.update(id, RUNNING, 'Job is being processed', {}, { onlyFrom: [PENDING] }))) return; // cancelled while PENDING
      const client = await pool.connect();
      try {
        await client.query(`SELECT pg_advisory_lock_shared(${LOCK})`, [countyId]);
        try {
          let values: Row;
          try {
            values = await studies.analyse(type, countyId, parameters, client);
          } catch (error) {
            await store.update(id, FAILED, `Error: ${pythonStr(error)}`, {}, { onlyFrom: [RUNNING], db: client });
            return;
          }
          // Only a job still RUNNING completes: a cancel that came first stays.
          await store.update(id, COMPLETED, 'Job completed successfully', values, { onlyFrom: [RUNNING], db: client });
        } finally {
          await client.query(`SELECT pg_advisory_unlock_shared(${LOCK})`, [countyId]);
        }
      } finally {
        client.release();
      }
    } catch (error) {
      app.log.error({ err: error as Error }, `market analysis job ${id} crashed outside its study`);
    }
  }

  for (const prefix of PREFIXES) {
    app.get(`${prefix}/health`, async (_request, reply) =>
      sendPy(reply, 200, { status: 'ok', name: 'Market Analysis Plugin', version: '1.0.0', timestamp: utcNowIso() }),
    );

    app.post(`${prefix}/run`, async (request, reply) => {
      const { values } = bodyModel(request, runRequest);
      const given = values.parameters as unknown as ModelValue;
      const countyId = values.county_id as string;
      const type = values.analysis_type as string;
      let id: string;
      try {
        id = await store.create({ analysis_type: type, county_id: countyId, message: QUEUED_MESSAGE, parameters_json: setValues(given) });
      } catch (error) {
        throw new HttpDetail(500, `Error submitting job: ${pythonStr(error)}`);
      }
      sendPy(reply, 202, { job_id: id, status: PENDING, message: QUEUED_MESSAGE });
      // As legacy's background task: the study starts once the answer is on its way.
      void process(id, countyId, type, given.values);
      return reply;
    });

    app.get<{ Params: { id: string } }>(`${prefix}/status/:id`, async (request, reply) => sendPy(reply, 200, statusBody(await jobOr404(request.params.id))));

    app.get<{ Params: { id: string } }>(`${prefix}/results/:id`, async (request, reply) => {
      const row = await jobOr404(request.params.id);
      if (row.status !== COMPLETED) throw new HttpDetail(400, `Job is not completed. Current status: ${String(row.status)}`);
      return sendPy(reply, 200, { ...statusBody(row), parameters: row.parameters_json ?? null, results: row.result_summary_json ?? null });
    });

    app.get(`${prefix}/list`, async (request: FastifyRequest, reply: FastifyReply) => {
      const query = request.query as Record<string, string | string[] | undefined>;
      const [limit] = intQueries(query, [{ name: 'limit', fallback: 100 }]);
      const countyId = lastValue(query.county_id);
      const where = countyId !== undefined ? 'WHERE county_id = $2' : '';
      // No bounds on limit (production's): a negative one is the database's error, a 500 as on legacy.
      const { rows } = await pool.query<Row>(
        `SELECT * FROM ${store.table.table} ${where} ORDER BY created_at DESC, job_id DESC LIMIT $1`,
        countyId !== undefined ? [limit, countyId] : [limit],
      );
      return sendPy(reply, 200, { jobs: rows.map(statusBody), count: rows.length });
    });

    app.post<{ Params: { id: string } }>(`${prefix}/cancel/:id`, async (request, reply) => {
      const id = request.params.id;
      if (!(await store.update(id, CANCELLED, 'Job cancelled by user', {}, { onlyFrom: [PENDING, RUNNING] }))) throw new HttpDetail(400, NOT_CANCELLABLE);
      return sendPy(reply, 200, { status: 'cancelled', job_id: id });
    });
  }
}
