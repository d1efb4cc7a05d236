// Contract: GET /plugins/v1/gis-export/metrics (legacy-contract.md section 1b.C): the six GIS
// export families with production's types, help texts and buckets, as text/plain, and, where
// production only ever served the 12 # HELP/# TYPE lines, real samples from the jobs that ran.
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../gateway/gateway-client.js';
import { platform, sync } from './plugin-jobs.js';

const prefix = '/plugins/v1/gis-export';
const county = 'test_county';
const families = [
  ['gis_export_jobs_submitted_total', 'counter', 'Total number of GIS export jobs submitted'],
  ['gis_export_jobs_completed_total', 'counter', 'Total number of GIS export jobs completed successfully'],
  ['gis_export_jobs_failed_total', 'counter', 'Total number of GIS export jobs that failed'],
  ['gis_export_processing_duration_seconds', 'histogram', 'Duration of GIS export job processing in seconds'],
  ['gis_export_file_size_kb', 'histogram', 'Size of exported GIS files in KB'],
  ['gis_export_record_count', 'histogram', 'Number of records in GIS export results'],
] as const;
const sizeBuckets = ['10.0', '100.0', '500.0', '1000.0', '5000.0', '10000.0', '50000.0', '100000.0', '+Inf'];
let area: unknown;

beforeAll(async () => {
  const client = new pg.Client({ connectionString: platform.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT min(min_x) AS minx, min(min_y) AS miny, max(max_x) AS maxx, max(max_y) AS maxy
         FROM (SELECT min_x, min_y, max_x, max_y FROM property_operational WHERE county_id = $1 AND geometry IS NOT NULL ORDER BY property_id LIMIT 10) AS first`,
      [county],
    );
    const { minx, miny, maxx, maxy } = rows[0] as Record<string, number>;
    area = { type: 'Polygon', coordinates: [[[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]] };
  } finally {
    await client.end();
  }
});

async function metricsText(): Promise<string> {
  const reply = await sync(`${prefix}/metrics`);
  expect(reply.status).toBe(200);
  expect(reply.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  return reply.text;
}

/** The value of the sample named exactly `name{labels}`, or 0 when it has none yet. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function exportJob(format: string): Promise<{ status: string; record_count: number | null }> {
  const run = await sync(`${prefix}/run`, { body: { county_id: county, format, username: 'metrics-tester', area_of_interest: area, layers: ['parcels'], parameters: null } });
  expect(run.status).toBe(200);
  const done = await pollUntil(() => sync(`${prefix}/status/${run.json.job_id}`), (r) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(r.json?.status), 60_000);
  if (done.json.status !== 'COMPLETED') return { status: done.json.status, record_count: null };
  return { status: 'COMPLETED', record_count: (await sync(`${prefix}/results/${run.json.job_id}`)).json.result.record_count };
}

describe('GIS export metrics at /plugins/v1/gis-export/metrics', () => {
  it('declares the six families, in order, with production\'s help texts, and nothing else', async () => {
    const text = await metricsText();
    const declared = text.split('\n').filter((line) => line.startsWith('# '));
    const expected: string[] = [];
    for (const [name, type, help] of families) {
      expected.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      // A family with samples also has prometheus_client's `_created` gauge right after it.
      const created = `${name.replace(/_total$/, '')}_created`;
      if (declared.includes(`# TYPE ${created} gauge`)) expected.push(`# HELP ${created} ${help}`, `# TYPE ${created} gauge`);
    }
    expect(declared).toEqual(expected);
  });

  it('counts a completed and a failed export, with their durations, sizes and record counts', async () => {
    const labels = `county_id="${county}",export_format="GeoJSON"`;
    const failedSeries = `gis_export_jobs_failed_total{county_id="${county}",error_type="Exception",export_format="FAIL_FORMAT_SIM"}`;
    const before = await metricsText();
    const done = await exportJob('GeoJSON');
    expect(done.status).toBe('COMPLETED');
    expect((await exportJob('FAIL_FORMAT_SIM')).status).toBe('FAILED');
    const after = await metricsText();

    expect(sample(after, `gis_export_jobs_submitted_total{${labels}}`)).toBeGreaterThanOrEqual(sample(before, `gis_export_jobs_submitted_total{${labels}}`) + 1);
    expect(sample(after, `gis_export_jobs_completed_total{${labels}}`)).toBeGreaterThanOrEqual(sample(before, `gis_export_jobs_completed_total{${labels}}`) + 1);
    expect(sample(after, failedSeries)).toBeGreaterThanOrEqual(sample(before, failedSeries) + 1);
    expect(after).toMatch(new RegExp(`^gis_export_jobs_submitted_created\\{${labels}\\} \\d\\.\\d+e\\+09$`, 'm'));
    expect(sample(after, `gis_export_record_count_count{${labels}}`)).toBeGreaterThanOrEqual(sample(before, `gis_export_record_count_count{${labels}}`) + 1);
    expect(sample(after, `gis_export_record_count_sum{${labels}}`)).toBeGreaterThanOrEqual(sample(before, `gis_export_record_count_sum{${labels}}`) + done.record_count!);
    expect(sample(after, `gis_export_processing_duration_seconds_count{${labels}}`)).toBeGreaterThanOrEqual(1);

    const bounds = (family: string) =>
      [...after.matchAll(new RegExp(`^${family}_bucket\\{${labels},le="([^"]+)"\\} `, 'gm'))].map((m) => m[1]);
    expect(bounds('gis_export_file_size_kb')).toEqual(sizeBuckets);
    expect(bounds('gis_export_record_count')).toEqual([...sizeBuckets.slice(0, -1), '500000.0', '+Inf']);
    expect(bounds('gis_export_processing_duration_seconds')).toEqual(['1.0', '5.0', '10.0', '30.0', '60.0', '120.0', '300.0', '600.0', '+Inf']);
    // Samples are Python floats: a count of 1 is `1.0`.
    expect(after).toMatch(new RegExp(`^gis_export_record_count_count\\{${labels}\\} \\d+\\.0$`, 'm'));
  });
});
