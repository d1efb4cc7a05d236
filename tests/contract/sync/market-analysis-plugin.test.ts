// Contract: sync market analysis at /plugins/market-analysis (legacy-contract.md section
// 1b.D): 202 with PENDING and production's texts, the job run after the response and
// computed from property_operational and property_sales, jobs shared with
// /plugins/v1/market-analysis, a cancelled job that stays CANCELLED, pydantic v1 422s, and
// the doubled /plugins/v1/market-analysis/plugins/market-analysis/* alias.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../gateway/gateway-client.js';
import { FixtureCounty, naiveUtc, platform, sync, uuid4, type Reply } from './plugin-jobs.js';

const prefix = '/plugins/market-analysis';
const v1 = '/plugins/v1/market-analysis';
const doubled = '/plugins/v1/market-analysis/plugins/market-analysis';
const types = 'price_trend_by_zip, comparable_market_area, sales_velocity, market_valuation, price_per_sqft';
const in2024 = { start_date: '2024-01-01', end_date: '2024-12-31' };
let county: FixtureCounty;

beforeAll(async () => {
  county = await FixtureCounty.create('map');
  await county.addProperties([
    { id: 'P1', zipCode: '99911', propertyType: 'residential', buildingAreaSqft: 1000, yearBuilt: 1990, assessedTotalValue: '100000.00' },
    { id: 'P2', zipCode: '99911', propertyType: 'residential', buildingAreaSqft: 2000, yearBuilt: 2005, assessedTotalValue: '150000.00' },
    { id: 'P3', zipCode: '99912', propertyType: 'commercial', buildingAreaSqft: 4000, yearBuilt: 2010, assessedTotalValue: '400000.00' },
    { id: 'P4', zipCode: '99912', propertyType: 'residential', buildingAreaSqft: null, yearBuilt: null, assessedTotalValue: '50000.00' },
  ]);
  await county.addSales([
    { propertyId: 'P1', saleDate: '2024-01-15', salePrice: '120000.00' },
    { propertyId: 'P3', saleDate: '2024-02-10', salePrice: '440000.00' },
    { propertyId: 'P2', saleDate: '2024-03-20', salePrice: '270000.00' },
    { propertyId: 'P1', saleDate: '2024-06-05', salePrice: '130000.00' },
    // Not arms-length, and outside the range: never part of a study below.
    { propertyId: 'P2', saleDate: '2024-05-01', salePrice: '10000.00', saleType: 'foreclosure' },
    { propertyId: 'P3', saleDate: '2021-07-01', salePrice: '1.00' },
  ]);
});

afterAll(async () => {
  await county?.drop();
});

function submit(analysisType: string, parameters: unknown = in2024, base = prefix): Promise<Reply> {
  return sync(`${base}/run`, { body: { county_id: county.countyId, analysis_type: analysisType, parameters } });
}

/** GET /status until the job leaves PENDING and RUNNING. */
function finished(id: string): Promise<Reply> {
  return pollUntil(() => sync(`${prefix}/status/${id}`), (r) => r.status !== 200 || !['PENDING', 'RUNNING'].includes(r.json.status), 20_000);
}

async function completedResults(analysisType: string, parameters: unknown = in2024): Promise<Reply> {
  const run = await submit(analysisType, parameters);
  expect(run.status).toBe(202);
  expect((await finished(run.json.job_id)).json).toMatchObject({ status: 'COMPLETED', message: 'Job completed successfully' });
  const results = await sync(`${prefix}/results/${run.json.job_id}`);
  expect(results.status).toBe(200);
  return results;
}

/**
 * The county's market-data lock held exclusively, as a writer of its sales would: analyses of
 * the county wait, RUNNING, until it is released.
 */
class CountyDataLock {
  private constructor(private readonly client: pg.Client, private readonly countyId: string) {}

  static async take(countyId: string): Promise<CountyDataLock> {
    const client = new pg.Client({ connectionString: platform.databaseUrl });
    await client.connect();
    const lock = new CountyDataLock(client, countyId);
    await lock.acquire();
    return lock;
  }

  private acquire() {
    return this.client.query("SELECT pg_advisory_lock(hashtext('market_analysis'), hashtext($1))", [this.countyId]);
  }

  /** Resolves once `n` analyses wait for the lock. */
  async waiters(n: number): Promise<void> {
    await pollUntil(
      async () => (await this.client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 2
            AND classid = hashtext('market_analysis')::oid AND objid = hashtext($1)::oid`, [this.countyId])).rows[0]!.n,
      (waiting) => waiting >= n,
    );
  }

  /** Lets the waiting analyses run, then takes the lock again: resolved once they have all finished. */
  async releaseAndOutwait(): Promise<void> {
    await this.client.query("SELECT pg_advisory_unlock(hashtext('market_analysis'), hashtext($1))", [this.countyId]);
    await this.acquire();
  }

  async end(): Promise<void> {
    await this.client.end();
  }
}

describe('market analysis at /plugins/market-analysis', () => {
  it('answers its health', async () => {
    const health = await sync(`${prefix}/health`);
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok', name: 'Market Analysis Plugin', version: '1.0.0', timestamp: expect.stringMatching(naiveUtc) });
  });

  it('answers 202 PENDING with production texts, then runs the job to COMPLETED', async () => {
    const run = await submit('sales_velocity', { ...in2024, note: 'kept' });
    expect(run.status).toBe(202);
    expect(run.headers.get('content-type')).toBe('application/json');
    expect(run.json).toEqual({ job_id: expect.stringMatching(uuid4), status: 'PENDING', message: 'Job created and queued for processing' });
    const done = await finished(run.json.job_id);
    expect(done.json).toEqual({
      job_id: run.json.job_id, county_id: county.countyId, analysis_type: 'sales_velocity', status: 'COMPLETED', message: 'Job completed successfully',
      created_at: expect.stringMatching(naiveUtc), updated_at: expect.stringMatching(naiveUtc),
      started_at: expect.stringMatching(naiveUtc), completed_at: expect.stringMatching(naiveUtc),
    });
    const results = await sync(`${prefix}/results/${run.json.job_id}`);
    expect(Object.keys(results.json)).toEqual([
      'job_id', 'county_id', 'analysis_type', 'status', 'message', 'created_at', 'updated_at', 'started_at', 'completed_at', 'parameters', 'results',
    ]);
    expect(results.json.parameters).toEqual({ ...in2024, note: 'kept' });
  });

  it('measures sales velocity per zip code from sales and the properties on record', async () => {
    const { results } = (await completedResults('sales_velocity')).json;
    expect(results).toEqual({
      result_summary: {
        sales_count: 4, property_count: 4, first_sale: '2024-01-15', last_sale: '2024-06-05', months_spanned: 6, sales_per_month: 0.67, turnover_rate: 1,
        by_zip_code: [
          { zip_code: '99911', sales_count: 3, property_count: 2, first_sale: '2024-01-15', last_sale: '2024-06-05', months_spanned: 6, sales_per_month: 0.5, turnover_rate: 1.5 },
          { zip_code: '99912', sales_count: 1, property_count: 2, first_sale: '2024-02-10', last_sale: '2024-02-10', months_spanned: 1, sales_per_month: 1, turnover_rate: 0.5 },
        ],
      },
      trends: null,
    });
  });

  it('computes price per square foot by property type, floats rendered the Python way', async () => {
    const reply = await completedResults('price_per_sqft');
    expect(reply.json.results.result_summary).toEqual({
      sales_count: 4, average_price_per_sqft: 123.75, median_price_per_sqft: 125, min_price_per_sqft: 110, max_price_per_sqft: 135,
      by_property_type: [
        { property_type: 'commercial', sales_count: 1, average_price_per_sqft: 110, median_price_per_sqft: 110, min_price_per_sqft: 110, max_price_per_sqft: 110 },
        { property_type: 'residential', sales_count: 3, average_price_per_sqft: 128.33, median_price_per_sqft: 130, min_price_per_sqft: 120, max_price_per_sqft: 135 },
      ],
    });
    expect(reply.text).toContain('"median_price_per_sqft":125.0');
  });

  it('estimates the market value of the assessed properties from the median sale ratio', async () => {
    const reply = await completedResults('market_valuation');
    expect(reply.json.results.result_summary).toEqual({
      property_count: 4, sales_count: 4, total_assessed_value: 700000, median_sale_to_assessed_ratio: 1.25, estimated_market_value: 875000,
      by_property_type: [
        { property_type: 'commercial', property_count: 1, sales_count: 1, total_assessed_value: 400000, median_sale_to_assessed_ratio: 1.1, estimated_market_value: 440000 },
        { property_type: 'residential', property_count: 3, sales_count: 3, total_assessed_value: 300000, median_sale_to_assessed_ratio: 1.3, estimated_market_value: 390000 },
      ],
    });
    expect(reply.text).toContain('"total_assessed_value":700000.0');
  });

  it('computes the studies it shares with /plugins/v1/market-analysis the same way', async () => {
    for (const analysisType of ['price_trend_by_zip', 'comparable_market_area']) {
      const parameters = { ...in2024, min_similarity: 0 };
      const mine = (await completedResults(analysisType, parameters)).json.results;
      const theirs = await sync(`${v1}/run`, { body: { analysis_type: analysisType, county_id: county.countyId, parameters } });
      const result = (await sync(`${v1}/results/${theirs.json.job_id}`)).json.result;
      expect(mine).toEqual({ result_summary: result.result_summary, trends: result.trends });
      expect(mine.result_summary).not.toBeNull();
    }
  });

  it('shares its jobs with /plugins/v1/market-analysis, both ways', async () => {
    const mine = await submit('market_valuation');
    await finished(mine.json.job_id);
    const seenByV1 = await sync(`${v1}/status/${mine.json.job_id}`);
    expect(seenByV1.status).toBe(200);
    expect(seenByV1.json).toMatchObject({ job_id: mine.json.job_id, analysis_type: 'market_valuation', status: 'COMPLETED', parameters: in2024 });

    const theirs = await sync(`${v1}/run`, { body: { analysis_type: 'sales_ratio_study', county_id: county.countyId, parameters: in2024 } });
    expect(theirs.status).toBe(202);
    const status = await sync(`${prefix}/status/${theirs.json.job_id}`);
    expect(status.json).toMatchObject({ job_id: theirs.json.job_id, analysis_type: 'sales_ratio_study', status: 'COMPLETED', message: 'Market analysis completed successfully' });
    const results = await sync(`${prefix}/results/${theirs.json.job_id}`);
    expect(results.json.results.result_summary.sales_count).toBe(4);
  });

  it('ends a study that cannot be computed FAILED with `Error: ...`, and refuses its results and its cancel', async () => {
    const run = await submit('comparable_market_area', { ...in2024, zip_code: '00000' });
    const done = await finished(run.json.job_id);
    expect(done.json).toMatchObject({ status: 'FAILED', message: 'Error: Market analysis failed: no arms-length sales in zip code 00000', completed_at: expect.stringMatching(naiveUtc) });
    const results = await sync(`${prefix}/results/${run.json.job_id}`);
    expect(results.status).toBe(400);
    expect(results.json).toEqual({ detail: 'Job is not completed. Current status: FAILED' });
    const cancel = await sync(`${prefix}/cancel/${run.json.job_id}`, { method: 'POST' });
    expect(cancel.status).toBe(400);
    expect(cancel.json).toEqual({ detail: 'Job cannot be cancelled. It may be completed, failed, or not found.' });
  });

  it('cancels a RUNNING job, which stays CANCELLED after its study finishes (production overwrote it)', async () => {
    const lock = await CountyDataLock.take(county.countyId);
    try {
      const run = await submit('market_valuation');
      await lock.waiters(1);
      const running = await sync(`${prefix}/status/${run.json.job_id}`);
      expect(running.json).toMatchObject({ status: 'RUNNING', message: 'Job is being processed', started_at: expect.stringMatching(naiveUtc), completed_at: null });
      expect((await sync(`${prefix}/results/${run.json.job_id}`)).json).toEqual({ detail: 'Job is not completed. Current status: RUNNING' });

      const cancel = await sync(`${prefix}/cancel/${run.json.job_id}`, { method: 'POST' });
      expect(cancel.status).toBe(200);
      expect(cancel.json).toEqual({ status: 'cancelled', job_id: run.json.job_id });
      await lock.releaseAndOutwait();

      const after = await sync(`${prefix}/status/${run.json.job_id}`);
      expect(after.json).toMatchObject({ status: 'CANCELLED', message: 'Job cancelled by user', completed_at: null });
      expect((await sync(`${prefix}/results/${run.json.job_id}`)).json).toEqual({ detail: 'Job is not completed. Current status: CANCELLED' });
      expect((await sync(`${prefix}/cancel/${run.json.job_id}`, { method: 'POST' })).status).toBe(400);
    } finally {
      await lock.end();
    }
  });

  it('refuses to cancel a COMPLETED job or an unknown one with the same 400', async () => {
    const run = await submit('price_per_sqft');
    await finished(run.json.job_id);
    for (const id of [run.json.job_id, 'no-such-job']) {
      const cancel = await sync(`${prefix}/cancel/${id}`, { method: 'POST' });
      expect(cancel.status).toBe(400);
      expect(cancel.json).toEqual({ detail: 'Job cannot be cancelled. It may be completed, failed, or not found.' });
    }
  });

  it('answers 404 `Job with ID x not found` on status and results', async () => {
    for (const route of ['status', 'results']) {
      const reply = await sync(`${prefix}/${route}/no-such-job`);
      expect(reply.status).toBe(404);
      expect(reply.json).toEqual({ detail: 'Job with ID no-such-job not found' });
    }
  });

  it('lists a county\'s jobs newest first with their count, as many as limit asks', async () => {
    const other = await FixtureCounty.create('mapl');
    try {
      const ids: string[] = [];
      for (const analysisType of ['sales_velocity', 'price_per_sqft', 'market_valuation']) {
        const run = await sync(`${prefix}/run`, { body: { county_id: other.countyId, analysis_type: analysisType, parameters: {} } });
        ids.push(run.json.job_id);
        await finished(run.json.job_id);
      }
      const list = await sync(`${prefix}/list?county_id=${other.countyId}`);
      expect(list.status).toBe(200);
      expect(list.json.count).toBe(3);
      expect(list.json.jobs.map((job: { job_id: string }) => job.job_id)).toEqual([...ids].reverse());
      expect(Object.keys(list.json.jobs[0])).toEqual(['job_id', 'county_id', 'analysis_type', 'status', 'message', 'created_at', 'updated_at', 'started_at', 'completed_at']);
      const one = await sync(`${prefix}/list?county_id=${other.countyId}&limit=1`);
      expect(one.json).toEqual({ jobs: [list.json.jobs[0]], count: 1 });
      expect((await sync(`${prefix}/list?county_id=${other.countyId}&limit=0`)).json).toEqual({ jobs: [], count: 0 });
    } finally {
      await other.drop();
    }
  });

  it('studies a county without sales to empty figures, not a failure', async () => {
    const empty = await FixtureCounty.create('mape');
    try {
      const run = await sync(`${prefix}/run`, { body: { county_id: empty.countyId, analysis_type: 'market_valuation', parameters: {} } });
      const done = await finished(run.json.job_id);
      expect(done.json.status).toBe('COMPLETED');
      expect((await sync(`${prefix}/results/${run.json.job_id}`)).json.results.result_summary).toEqual({
        property_count: 0, sales_count: 0, total_assessed_value: null, median_sale_to_assessed_ratio: null, estimated_market_value: null, by_property_type: [],
      });
    } finally {
      await empty.drop();
    }
  });

  it('validates the request with pydantic v1 422s: the analysis types, a required parameters object', async () => {
    const unknown = await submit('sales_ratio_study');
    expect(unknown.status).toBe(422);
    expect(unknown.json).toEqual({ detail: [{ loc: ['body', 'analysis_type'], msg: `Analysis type must be one of: ${types}`, type: 'value_error' }] });
    const missing = await sync(`${prefix}/run`, { body: { county_id: county.countyId, analysis_type: 'sales_velocity' } });
    expect(missing.json).toEqual({ detail: [{ loc: ['body', 'parameters'], msg: 'field required', type: 'value_error.missing' }] });
    const nothing = await sync(`${prefix}/run`, { body: {} });
    expect(nothing.json.detail.map((d: { loc: string[] }) => d.loc[1])).toEqual(['county_id', 'analysis_type', 'parameters']);
    const notObject = await submit('sales_velocity', ['2024']);
    expect(notObject.json).toEqual({ detail: [{ loc: ['body', 'parameters'], msg: 'value is not a valid dict', type: 'type_error.dict' }] });
    const badDate = await submit('sales_velocity', { start_date: 'soon' });
    expect(badDate.status).toBe(422);
    expect(badDate.json.detail[0].loc).toEqual(['body', 'parameters', 'start_date']);
    const badLimit = await sync(`${prefix}/list?limit=abc`);
    expect(badLimit.status).toBe(422);
    expect(badLimit.json).toEqual({ detail: [{ loc: ['query', 'limit'], msg: 'value is not a valid integer', type: 'type_error.integer' }] });
  });

  it('serves the same routes under the doubled /plugins/v1/market-analysis/plugins/market-analysis', async () => {
    expect((await sync(`${doubled}/health`)).json).toMatchObject({ status: 'ok', name: 'Market Analysis Plugin' });
    const run = await submit('price_per_sqft', in2024, doubled);
    expect(run.status).toBe(202);
    await finished(run.json.job_id);
    const plain = await sync(`${prefix}/results/${run.json.job_id}`);
    const viaAlias = await sync(`${doubled}/results/${run.json.job_id}`);
    expect(viaAlias.text).toBe(plain.text);
    expect((await sync(`${doubled}/list?county_id=${county.countyId}&limit=1`)).json.jobs[0].job_id).toBe(run.json.job_id);
    expect((await sync(`${doubled}/cancel/${run.json.job_id}`, { method: 'POST' })).status).toBe(400);
    expect((await sync(`${doubled}/status/no-such-job`)).json).toEqual({ detail: 'Job with ID no-such-job not found' });
  });
});
