// Contract: sync valuation plugin, /plugins/v1/valuation (legacy-contract.md section 1, "Market
// analysis and valuation plugins"; the method is documented at the top of
// legacy/terrafusion_sync/plugins/valuation.py and valuation_comparables.py).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUnknownJobNotFound, FixtureCounty, finalStatus, finishedJobTimestamps, sync, uuid4 } from './plugin-jobs.js';

const prefix = '/plugins/v1/valuation';
let county: FixtureCounty;
let salesless: FixtureCounty;

beforeAll(async () => {
  county = await FixtureCounty.create('val');
  const house = { propertyType: 'residential', zipCode: '99901', buildingAreaSqft: 1000, yearBuilt: 2000 };
  const shop = { propertyType: 'commercial', zipCode: '99903', buildingAreaSqft: 1024, yearBuilt: 2000 };
  await county.addProperties([
    { id: 'S', ...house, assessedTotalValue: '100000.00' },
    { id: 'P1', ...house, assessedTotalValue: '100000.00' },
    { id: 'P2', ...house, assessedTotalValue: '90000.00' },
    { id: 'P3', ...house, assessedTotalValue: '121000.00' },
    // 10% larger and 10 years older than S: adjusted up 2.5% for size and 5% for age.
    { id: 'P7', ...house, buildingAreaSqft: 1100, yearBuilt: 1990, assessedTotalValue: '120000.00' },
    // Too large, too old: never comparable to S, even widened.
    { id: 'P5', ...house, buildingAreaSqft: 3000, assessedTotalValue: '300000.00' },
    { id: 'P6', ...house, yearBuilt: 1950, assessedTotalValue: '80000.00' },
    { id: 'C0', ...shop, assessedTotalValue: '100000.00' },
    { id: 'C1', ...shop, assessedTotalValue: '100000.00' },
    { id: 'C2', ...shop, assessedTotalValue: '100000.00' },
    { id: 'C3', ...shop, assessedTotalValue: '100000.00' },
    { id: 'I0', propertyType: 'industrial', zipCode: '99904', buildingAreaSqft: 5000, yearBuilt: 1980, assessedTotalValue: '500000.00' },
  ]);
  await county.addSales([
    { propertyId: 'P1', saleDate: '2020-01-01', salePrice: '1.00' },
    { propertyId: 'P1', saleDate: '2024-01-10', salePrice: '100000.00' },
    { propertyId: 'P2', saleDate: '2024-02-10', salePrice: '100000.25' },
    { propertyId: 'P7', saleDate: '2024-03-01', salePrice: '121000.00' },
    { propertyId: 'P3', saleDate: '2024-04-15', salePrice: '110000.00' },
    { propertyId: 'P5', saleDate: '2024-03-20', salePrice: '330000.00' },
    { propertyId: 'P6', saleDate: '2024-03-21', salePrice: '90000.00' },
    { propertyId: 'P3', saleDate: '2024-04-20', salePrice: '10.00', saleType: 'quit_claim' },
    // 102450 / 1024 sqft, applied to 1024 sqft, is exactly 102450.0: halfway between hundreds.
    { propertyId: 'C1', saleDate: '2024-03-01', salePrice: '102450.00' },
    { propertyId: 'C2', saleDate: '2024-03-02', salePrice: '102450.00' },
    { propertyId: 'C3', saleDate: '2024-03-03', salePrice: '102450.00' },
  ]);
  salesless = await FixtureCounty.create('valnosales');
  await salesless.addProperties([
    { id: 'X', propertyType: 'residential', zipCode: '99909', buildingAreaSqft: 1000, yearBuilt: 2000, assessedTotalValue: '1.00' },
  ]);
});

afterAll(async () => {
  await county?.drop();
  await salesless?.drop();
});

async function value(body: Record<string, unknown>) {
  const run = await sync(`${prefix}/run`, { body: { county_id: county.countyId, ...body } });
  expect(run.status).toBe(202);
  const status = await finalStatus(prefix, run.json.job_id);
  expect(status.json.status).toBe('COMPLETED');
  const results = await sync(`${prefix}/results/${run.json.job_id}`);
  expect(results.status).toBe(200);
  return { run, results };
}

describe('valuation plugin', () => {
  it('answers 202 with the job already run, and the status fields of the job style', async () => {
    const run = await sync(`${prefix}/run`, { body: { county_id: county.countyId, property_id: county.propertyId('S') } });
    expect(run.status).toBe(202);
    expect(run.json).toEqual({
      job_id: expect.stringMatching(uuid4),
      property_id: county.propertyId('S'),
      county_id: county.countyId,
      valuation_method: 'comparable_sales',
      status: 'COMPLETED',
      message: 'Valuation completed successfully',
      parameters: null,
      ...finishedJobTimestamps,
    });
    const status = await sync(`${prefix}/status/${run.json.job_id}`);
    expect(status.text).toBe(run.text);
  });

  it('values a property from size- and age-adjusted recent comparable sales', async () => {
    const { run, results } = await value({ property_id: county.propertyId('S') });
    expect(results.json).toMatchObject({ job_id: run.json.job_id, status: 'COMPLETED', completed_at: run.json.completed_at });
    const { result } = results.json;
    expect(result).toMatchObject({ valuation_method: 'comparable_sales', as_of_date: '2024-04-15', lookback_months: 24 });
    const [valuation] = result.valuations;
    expect(valuation).toMatchObject({
      property_id: county.propertyId('S'),
      property_type: 'residential',
      basis: 'building_area_sqft',
      subject_area_sqft: 1000,
      year_built: 2000,
      assessed_total_value: 100000,
      estimated_value: 106900,
      value_range: { low: 99200, high: 114500 },
      price_per_sqft: 106.86,
      confidence_score: 0.74,
      confidence_level: 'medium',
      search: 'narrow',
      comparables_count: 4,
    });
    // Nearest first (equal ones newest first); each comparable's most recent arms-length sale.
    expect(valuation.comparables.map((c: { property_id: string }) => c.property_id)).toEqual(
      ['P3', 'P2', 'P1', 'P7'].map((id) => county.propertyId(id)),
    );
    expect(valuation.comparables[3]).toEqual({
      property_id: county.propertyId('P7'),
      parcel_number: 'P7',
      address: 'P7 Fixture Rd',
      zip_code: '99901',
      sale_date: '2024-03-01',
      sale_price: 121000,
      area_sqft: 1100,
      year_built: 1990,
      price_per_sqft: 110,
      size_adjustment_pct: 2.5,
      age_adjustment_pct: 5,
      adjusted_price: 118250,
      weight: 0.2367,
    });
    expect(valuation.comparables[0].weight).toBe(0.2544);
    expect(results.text).toContain('"estimated_value":106900.0,');
    expect(results.text).toContain('"age_adjustment_pct":5.0,');
  });

  it('rounds an estimate lying halfway between hundreds to the even hundred', async () => {
    const { results } = await value({ property_id: county.propertyId('C0') });
    const [valuation] = results.json.result.valuations;
    expect(valuation).toMatchObject({
      estimated_value: 102400,
      value_range: { low: 102400, high: 102400 },
      price_per_sqft: 100.05,
      confidence_score: 0.6,
      confidence_level: 'medium',
      comparables_count: 3,
    });
    expect(results.text).toContain('"estimated_value":102400.0,');
  });

  it('values a list of properties in request order, keeping the ids in the parameters', async () => {
    const ids = [county.propertyId('C0'), county.propertyId('S')];
    const { run, results } = await value({ property_ids: ids, parameters: { max_comparables: 3 } });
    expect(run.json).toMatchObject({ property_id: null, parameters: { property_ids: ids, max_comparables: 3 } });
    const valuations = results.json.result.valuations;
    expect(valuations.map((v: { property_id: string }) => v.property_id)).toEqual(ids);
    expect(valuations[1].comparables_count).toBe(3);
  });

  it('widens the search when a valuation date leaves too few comparables', async () => {
    const { results } = await value({ property_id: county.propertyId('S'), parameters: { as_of_date: '2024-02-15' } });
    const [valuation] = results.json.result.valuations;
    expect(results.json.result.as_of_date).toBe('2024-02-15');
    expect(valuation).toMatchObject({ search: 'widened', comparables_count: 2 });
  });

  it('completes with no estimate for a property that has no comparable sales', async () => {
    const { results } = await value({ property_id: county.propertyId('I0') });
    expect(results.json.result.valuations[0]).toMatchObject({
      estimated_value: null,
      value_range: null,
      confidence_score: 0,
      confidence_level: 'none',
      comparables_count: 0,
      comparables: [],
      note: 'no comparable sales found',
    });
    expect(results.text).toContain('"confidence_score":0.0,');
  });

  it('fails the job for a county without any arms-length sale, and refuses its results with 400', async () => {
    const run = await sync(`${prefix}/run`, { body: { county_id: salesless.countyId, property_id: salesless.propertyId('X') } });
    expect(run.status).toBe(202);
    expect(run.json).toMatchObject({ status: 'FAILED', message: `Valuation failed: no arms-length sales for county ${salesless.countyId}` });
    const results = await sync(`${prefix}/results/${run.json.job_id}`);
    expect(results.status).toBe(400);
    expect(results.json).toEqual({ detail: `Valuation job ${run.json.job_id} is not completed (current status: FAILED)` });
  });

  it('answers 404 for a property the county does not have, creating no job', async () => {
    const unknown = await sync(`${prefix}/run`, { body: { county_id: county.countyId, property_id: 'no-such-parcel' } });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ detail: 'Property with ID no-such-parcel not found' });
    const elsewhere = await sync(`${prefix}/run`, { body: { county_id: salesless.countyId, property_ids: [county.propertyId('S')] } });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.json).toEqual({ detail: `Property with ID ${county.propertyId('S')} not found` });
  });

  it('answers 404 in FastAPI style for an unknown job', async () => {
    await expectUnknownJobNotFound(prefix, 'Valuation job');
  });

  it('rejects bad bodies with pydantic v1 422 lists', async () => {
    const cases: Array<[Record<string, unknown>, unknown[]]> = [
      [{ county_id: county.countyId }, [
        { loc: ['body', '__root__'], msg: 'Exactly one of property_id or property_ids is required', type: 'value_error' },
      ]],
      [{ county_id: county.countyId, property_id: 'a', property_ids: ['b'] }, [
        { loc: ['body', '__root__'], msg: 'Exactly one of property_id or property_ids is required', type: 'value_error' },
      ]],
      [{ property_id: 'a' }, [{ loc: ['body', 'county_id'], msg: 'field required', type: 'value_error.missing' }]],
      [{ county_id: county.countyId, property_ids: [] }, [
        { loc: ['body', 'property_ids'], msg: 'ensure this value has at least 1 items', type: 'value_error.list.min_items', ctx: { limit_value: 1 } },
      ]],
      [{ county_id: county.countyId, property_id: 'a', valuation_method: 'cost_approach' }, [
        { loc: ['body', 'valuation_method'], msg: 'Valuation method must be one of: comparable_sales', type: 'value_error' },
      ]],
      [{ county_id: county.countyId, property_id: 'a', parameters: { lookback_months: 0 } }, [
        { loc: ['body', 'parameters', 'lookback_months'], msg: 'ensure this value is greater than or equal to 1', type: 'value_error.number.not_ge', ctx: { limit_value: 1 } },
      ]],
      [{ county_id: county.countyId, property_id: 'a', parameters: { min_comparables: 6 } }, [
        { loc: ['body', 'parameters', '__root__'], msg: 'min_comparables must not exceed max_comparables', type: 'value_error' },
      ]],
    ];
    for (const [body, detail] of cases) {
      const reply = await sync(`${prefix}/run`, { body });
      expect(reply.status, JSON.stringify(body)).toBe(422);
      expect(reply.json, JSON.stringify(body)).toEqual({ detail });
    }
  });
});
