// Contract: sync market-analysis plugin, /plugins/v1/market-analysis (legacy-contract.md
// section 1, "Market analysis and valuation plugins"; the analysis types are documented at
// the top of legacy/terrafusion_sync/plugins/market_analysis.py).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUnknownJobNotFound, FixtureCounty, finalStatus, finishedJobTimestamps, sync, uuid4 } from './plugin-jobs.js';

const prefix = '/plugins/v1/market-analysis';
let county: FixtureCounty;

beforeAll(async () => {
  county = await FixtureCounty.create('ma');
  const house = { propertyType: 'residential', buildingAreaSqft: 1000, yearBuilt: 2000 };
  await county.addProperties([
    { id: 'P1', zipCode: '99901', ...house, assessedTotalValue: '100000.00' },
    { id: 'P2', zipCode: '99901', ...house, assessedTotalValue: '90000.00' },
    { id: 'P3', zipCode: '99901', ...house, assessedTotalValue: '121000.00' },
    { id: 'P4', zipCode: '99902', ...house, buildingAreaSqft: 2000, assessedTotalValue: '200000.00' },
  ]);
  await county.addSales([
    { propertyId: 'P1', saleDate: '2024-01-10', salePrice: '100000.00' },
    { propertyId: 'P2', saleDate: '2024-02-10', salePrice: '100000.25' },
    { propertyId: 'P3', saleDate: '2024-04-15', salePrice: '110000.00' },
    { propertyId: 'P4', saleDate: '2024-05-01', salePrice: '200000.00' },
    // Not arms-length: never part of a market study.
    { propertyId: 'P4', saleDate: '2024-06-01', salePrice: '50000.00', saleType: 'foreclosure' },
    // Before the date range used below.
    { propertyId: 'P1', saleDate: '2022-06-01', salePrice: '1.00' },
  ]);
});

afterAll(async () => {
  await county?.drop();
});

const in2024 = { start_date: '2024-01-01', end_date: '2024-12-31' };

async function analyse(analysisType: string, parameters: Record<string, unknown> = in2024) {
  const run = await sync(`${prefix}/run`, { body: { analysis_type: analysisType, county_id: county.countyId, parameters } });
  expect(run.status).toBe(202);
  const status = await finalStatus(prefix, run.json.job_id);
  expect(status.json.status).toBe('COMPLETED');
  const results = await sync(`${prefix}/results/${run.json.job_id}`);
  expect(results.status).toBe(200);
  return results;
}

describe('market-analysis plugin', () => {
  it('answers 202 with the job already run, and the status fields of the job style', async () => {
    const run = await sync(`${prefix}/run`, {
      body: { analysis_type: 'sales_ratio_study', county_id: county.countyId, parameters: { ...in2024, note: 'kept' } },
    });
    expect(run.status).toBe(202);
    expect(run.json).toEqual({
      job_id: expect.stringMatching(uuid4),
      county_id: county.countyId,
      analysis_type: 'sales_ratio_study',
      status: 'COMPLETED',
      message: 'Market analysis completed successfully',
      parameters: { ...in2024, note: 'kept' },
      ...finishedJobTimestamps,
    });
    const status = await sync(`${prefix}/status/${run.json.job_id}`);
    expect(status.text).toBe(run.text);
  });

  it('computes quarterly price trends per zip from arms-length sales, rounding half to even', async () => {
    const results = await analyse('price_trend_by_zip');
    const { result } = results.json;
    expect(result.result_data_location).toBeNull();
    expect(result.trends).toEqual([
      // (100000.00 + 100000.25) / 2 = 100000.125 -> 100000.12 (the even cent)
      { zip_code: '99901', period: '2024-Q1', sales_volume: 2, average_price: 100000.12, median_price: 100000.12, price_per_sqft: 100 },
      { zip_code: '99901', period: '2024-Q2', sales_volume: 1, average_price: 110000, median_price: 110000, price_per_sqft: 110 },
      { zip_code: '99902', period: '2024-Q2', sales_volume: 1, average_price: 200000, median_price: 200000, price_per_sqft: 100 },
    ]);
    expect(result.result_summary).toEqual({
      data_points_analyzed: 4,
      date_range: { start_date: '2024-01-10', end_date: '2024-05-01' },
      average_price: 127500.06,
      // median of four sales = (100000.25 + 110000) / 2 = 105000.125 -> 105000.12
      median_price: 105000.12,
      zip_codes: [
        {
          zip_code: '99901', sales_volume: 3, average_price: 103333.42, median_price: 100000.25,
          first_period: '2024-Q1', last_period: '2024-Q2', price_change: 9999.88, price_change_percentage: 10,
        },
        {
          zip_code: '99902', sales_volume: 1, average_price: 200000, median_price: 200000,
          first_period: '2024-Q2', last_period: '2024-Q2', price_change: 0, price_change_percentage: 0,
        },
      ],
    });
    // Whole floats keep Python's `.0` on the wire.
    expect(results.text).toContain('"price_per_sqft":100.0}');
    expect(results.text).toContain('"price_change_percentage":10.0}');
    expect(results.text).toContain('"price_change":0.0,');
  });

  it('finds comparable market areas by median price and price per sqft', async () => {
    const results = await analyse('comparable_market_area', { ...in2024, min_similarity: 0.4 });
    expect(results.json.result.trends).toBeNull();
    expect(results.json.result.result_summary).toEqual({
      primary_zip: '99901',
      primary: { sales_count: 3, median_price: 100000.25, median_price_per_sqft: 100 },
      min_similarity: 0.4,
      comparable_areas: [
        { zip_code: '99902', similarity_score: 0.5, sales_count: 1, median_price: 200000, median_price_per_sqft: 100 },
      ],
      total_comparable_areas_found: 1,
      zip_codes_considered: 2,
    });
    expect(results.text).toContain('"similarity_score":0.5,');
  });

  it('keeps areas below the similarity threshold out', async () => {
    const results = await analyse('comparable_market_area', in2024);
    expect(results.json.result.result_summary).toMatchObject({ min_similarity: 0.8, comparable_areas: [], total_comparable_areas_found: 0 });
  });

  it('studies assessed value against sale price with IAAO statistics', async () => {
    const results = await analyse('sales_ratio_study');
    const summary = results.json.result.result_summary;
    expect(summary).toEqual({
      sales_count: 4,
      median_ratio: 1,
      mean_ratio: 1,
      weighted_mean_ratio: 1.002,
      cod: 5,
      prd: 0.998,
      min_ratio: 0.9,
      max_ratio: 1.1,
      meets_iaao_standards: { level: true, uniformity: true, vertical_equity: true },
      by_property_type: [{ property_type: 'residential', ...Object.fromEntries(Object.entries(summary).filter(([k]) => k !== 'by_property_type')) }],
    });
    expect(results.text).toContain('"median_ratio":1.0,');
    expect(results.text).toContain('"cod":5.0,');
  });

  it('restricts a study to the requested zip codes', async () => {
    const results = await analyse('sales_ratio_study', { ...in2024, zip_codes: ['99902'] });
    expect(results.json.result.result_summary).toMatchObject({ sales_count: 1, median_ratio: 1, cod: 0 });
  });

  it('fails the job when the primary zip has no sales, and refuses its results with 400', async () => {
    const run = await sync(`${prefix}/run`, {
      body: { analysis_type: 'comparable_market_area', county_id: county.countyId, parameters: { zip_code: '00000' } },
    });
    expect(run.status).toBe(202);
    expect(run.json).toMatchObject({ status: 'FAILED', message: 'Market analysis failed: no arms-length sales in zip code 00000' });
    const results = await sync(`${prefix}/results/${run.json.job_id}`);
    expect(results.status).toBe(400);
    expect(results.json).toEqual({ detail: `Market analysis job ${run.json.job_id} is not completed (current status: FAILED)` });
  });

  it('rejects an unknown analysis type with 422 before any job exists', async () => {
    const reply = await sync(`${prefix}/run`, { body: { analysis_type: 'crystal_ball', county_id: county.countyId } });
    expect(reply.status).toBe(422);
    expect(reply.json).toEqual({
      detail: [{
        loc: ['body', 'analysis_type'],
        msg: 'Analysis type must be one of: price_trend_by_zip, comparable_market_area, sales_ratio_study',
        type: 'value_error',
      }],
    });
  });

  it('rejects malformed parameters with pydantic v1 422 entries', async () => {
    const bad = await sync(`${prefix}/run`, {
      body: { analysis_type: 'sales_ratio_study', county_id: county.countyId, parameters: { start_date: 'soon', zip_codes: '99901' } },
    });
    expect(bad.status).toBe(422);
    expect(bad.json).toEqual({
      detail: [
        { loc: ['body', 'parameters', 'start_date'], msg: 'invalid date format', type: 'value_error.date' },
        { loc: ['body', 'parameters', 'zip_codes'], msg: 'value is not a valid list', type: 'type_error.list' },
      ],
    });
    const reversed = await sync(`${prefix}/run`, {
      body: { analysis_type: 'sales_ratio_study', county_id: county.countyId, parameters: { start_date: '2024-02-01', end_date: '2024-01-01' } },
    });
    expect(reversed.json).toEqual({
      detail: [{ loc: ['body', 'parameters', '__root__'], msg: 'start_date must not be after end_date', type: 'value_error' }],
    });
  });

  it('answers 404 in FastAPI style for an unknown job', async () => {
    await expectUnknownJobNotFound(prefix, 'Market analysis job');
  });
});
