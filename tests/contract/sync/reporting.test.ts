// Contract: sync reporting plugin, /plugins/v1/reporting (legacy-contract.md section 1, "Reporting plugin").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUnknownJobNotFound, FixtureCounty, finalStatus, finishedJobTimestamps, naiveUtc, sync, uuid4 } from './plugin-jobs.js';

const prefix = '/plugins/v1/reporting';
let county: FixtureCounty;

beforeAll(async () => {
  county = await FixtureCounty.create('rep');
  // Two residential values whose mean and median end in exactly half a cent (100000.125),
  // and one commercial value that is a whole number of dollars.
  await county.addProperties([
    { id: 'R1', propertyType: 'residential', zipCode: '99901', buildingAreaSqft: 1000, yearBuilt: 2000, assessedTotalValue: '100000.00' },
    { id: 'R2', propertyType: 'residential', zipCode: '99901', buildingAreaSqft: 1500, yearBuilt: 2000, assessedTotalValue: '100000.25' },
    { id: 'C1', propertyType: 'commercial', zipCode: '99902', buildingAreaSqft: 4000, yearBuilt: 1990, assessedTotalValue: '250000.00' },
  ]);
});

afterAll(async () => {
  await county?.drop();
});

function runReport(body: unknown) {
  return sync(`${prefix}/run`, { body });
}

describe('reporting plugin', () => {
  it('answers 202 with a job that has already completed inline', async () => {
    const reply = await runReport({ report_type: 'assessment_roll', county_id: county.countyId, parameters: { year: 2025 } });
    expect(reply.status).toBe(202);
    const id = reply.json.report_id;
    expect(reply.json).toEqual({
      report_id: expect.stringMatching(uuid4),
      report_type: 'assessment_roll',
      county_id: county.countyId,
      status: 'COMPLETED',
      message: 'Report generation completed successfully',
      parameters: { year: 2025 },
      ...finishedJobTimestamps,
      result_location: `s3://terrafusion-reports/${county.countyId}/assessment_roll/${id}.pdf`,
      result_metadata: {
        file_size_kb: 120,
        pages: 5,
        generation_time_seconds: expect.any(Number),
        generated_at: expect.stringMatching(naiveUtc),
        summary: expect.any(Object),
      },
    });
    expect(Object.keys(reply.json)).toEqual([
      'report_id', 'report_type', 'county_id', 'status', 'message', 'parameters', 'created_at', 'updated_at',
      'started_at', 'completed_at', 'result_location', 'result_metadata',
    ]);
  });

  it('computes the report from the county properties, rounding half to even', async () => {
    const reply = await runReport({ report_type: 'value_summary', county_id: county.countyId });
    expect(reply.json.result_metadata.summary).toEqual({
      property_count: 3,
      valued_count: 3,
      total_assessed_value: 450000.25,
      average_assessed_value: 150000.08,
      median_assessed_value: 100000.25,
      min_assessed_value: 100000,
      max_assessed_value: 250000,
      average_building_area_sqft: 2166.7,
      by_property_type: [
        {
          property_type: 'commercial', property_count: 1, valued_count: 1, total_assessed_value: 250000,
          average_assessed_value: 250000, median_assessed_value: 250000, min_assessed_value: 250000,
          max_assessed_value: 250000, average_building_area_sqft: 4000,
        },
        {
          property_type: 'residential', property_count: 2, valued_count: 2, total_assessed_value: 200000.25,
          // 100000.125 -> 100000.12: Python's round() goes to the even cent.
          average_assessed_value: 100000.12, median_assessed_value: 100000.12, min_assessed_value: 100000,
          max_assessed_value: 100000.25, average_building_area_sqft: 1250,
        },
      ],
    });
    // Python floats keep their `.0` on the wire (Decimal columns become floats too).
    expect(reply.text).toContain('"min_assessed_value":100000.0,');
    expect(reply.text).toContain('"average_building_area_sqft":4000.0}');
    expect(reply.text).toContain('"total_assessed_value":250000.0,');
  });

  it('counts every parcel of a seeded county and sizes the report from them', async () => {
    const rows = await county.query<{ n: number; types: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT property_type)::int AS types FROM property_operational WHERE county_id = 'benton_wa'`,
    );
    const expected = rows[0]!;
    expect(expected.n).toBeGreaterThan(0);
    const reply = await runReport({ report_type: 'assessment_roll', county_id: 'benton_wa' });
    const { summary, pages, file_size_kb } = reply.json.result_metadata;
    expect(summary.property_count).toBe(expected.n);
    expect(summary.by_property_type).toHaveLength(expected.types);
    expect(pages).toBe(2 + expected.types + Math.ceil(expected.n / 40));
    expect(file_size_kb).toBe(48 + 12 * pages + 6 * expected.types);
  });

  it('narrows the report to one property type when parameters name it', async () => {
    const reply = await runReport({ report_type: 'roll', county_id: county.countyId, parameters: { property_type: 'commercial' } });
    expect(reply.json.result_metadata.summary.property_count).toBe(1);
    expect(reply.json.result_metadata.pages).toBe(4);
    expect(reply.json.result_metadata.file_size_kb).toBe(48 + 12 * 4 + 6);
  });

  it('reports zero properties for a county it has no data for, as production accepted any county', async () => {
    const reply = await runReport({ report_type: 'roll', county_id: `${county.countyId}_empty` });
    expect(reply.status).toBe(202);
    expect(reply.json.status).toBe('COMPLETED');
    expect(reply.json.result_metadata).toMatchObject({ file_size_kb: 72, pages: 2 });
    expect(reply.json.result_metadata.summary).toMatchObject({ property_count: 0, total_assessed_value: null, by_property_type: [] });
  });

  it('serves the same status and the result of a completed report', async () => {
    const run = await runReport({ report_type: 'assessment_roll', county_id: county.countyId });
    const status = await finalStatus(prefix, run.json.report_id);
    expect(status.status).toBe(200);
    expect(status.text).toBe(run.text);

    const results = await sync(`${prefix}/results/${run.json.report_id}`);
    expect(results.status).toBe(200);
    expect(results.json).toEqual({
      report_id: run.json.report_id,
      report_type: 'assessment_roll',
      county_id: county.countyId,
      status: 'COMPLETED',
      message: 'Report generation completed successfully',
      parameters: null,
      created_at: run.json.created_at,
      completed_at: run.json.completed_at,
      result: { result_location: run.json.result_location, result_metadata: run.json.result_metadata },
    });
  });

  it('fails FAILING_REPORT_SIM inline with the simulated failure message, still answering 202', async () => {
    const run = await runReport({ report_type: 'FAILING_REPORT_SIM', county_id: county.countyId, parameters: { year: 2025, quarter: 2 } });
    expect(run.status).toBe(202);
    expect(run.json).toMatchObject({
      status: 'FAILED',
      message: 'Simulated report generation failure',
      result_location: null,
      result_metadata: null,
      completed_at: expect.stringMatching(naiveUtc),
    });
    const status = await finalStatus(prefix, run.json.report_id);
    expect(status.json.status).toBe('FAILED');

    const results = await sync(`${prefix}/results/${run.json.report_id}`);
    expect(results.status).toBe(400);
    expect(results.json).toEqual({ detail: `Report job ${run.json.report_id} is not completed (current status: FAILED)` });
  });

  it('answers 404 in FastAPI style for an unknown report', async () => {
    await expectUnknownJobNotFound(prefix, 'Report job');
  });

  it('rejects a body without report_type with a pydantic v1 422 list', async () => {
    const reply = await runReport({ county_id: county.countyId });
    expect(reply.status).toBe(422);
    expect(reply.json).toEqual({
      detail: [{ loc: ['body', 'report_type'], msg: 'field required', type: 'value_error.missing' }],
    });
  });

  it('rejects a report_type longer than its column with 422, not a database error', async () => {
    const reply = await runReport({ report_type: 'x'.repeat(101), county_id: county.countyId });
    expect(reply.status).toBe(422);
    expect(reply.json).toEqual({
      detail: [{
        loc: ['body', 'report_type'],
        msg: 'ensure this value has at most 100 characters',
        type: 'value_error.any_str.max_length',
        ctx: { limit_value: 100 },
      }],
    });
  });

  it('fails the job, not the request, when parameters.property_type is not a string', async () => {
    const reply = await runReport({ report_type: 'roll', county_id: county.countyId, parameters: { property_type: 7 } });
    expect(reply.status).toBe(202);
    expect(reply.json).toMatchObject({
      status: 'FAILED',
      message: 'Report generation failed: parameters.property_type must be a string',
    });
  });
});
