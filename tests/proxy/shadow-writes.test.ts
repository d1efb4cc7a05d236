import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';
import { call, eventually, startTestProxy, startUpstreams, type ProxyUnderTest, type TestUpstream, type Upstreams } from './harness.js';

let database: IsolatedDatabase;
let upstreams: Upstreams;
let subject: ProxyUnderTest;
const pools: pg.Pool[] = [];

/** Makes an upstream behave like a GIS export service instance whose DB_SCHEMA is `searchPath`: /run inserts a job. */
function gisExportInstance(upstream: TestUpstream, searchPath: string): void {
  const pool = new pg.Pool({ connectionString: database.url, options: `-c search_path=${searchPath}`, max: 2 });
  pools.push(pool);
  upstream.behave((req, res, body) => {
    if (req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"detail":"GIS export job abc not found"}');
      return;
    }
    const request = JSON.parse(body.toString()) as { county_id: string; format: string };
    const jobId = randomUUID();
    void pool
      .query(`INSERT INTO gis_export_jobs (job_id, export_format, county_id, status, message) VALUES ($1, $2, $3, 'PENDING', 'Job created and pending processing')`, [
        jobId,
        request.format,
        request.county_id,
      ])
      .then(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ job_id: jobId, county_id: request.county_id, export_format: request.format, status: 'PENDING' }));
      });
  });
}

async function jobCount(schema: string): Promise<number> {
  const result = await pools[0]!.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.gis_export_jobs`);
  return Number(result.rows[0]!.n);
}

beforeAll(async () => {
  database = await createIsolatedDatabase('shadow_writes');
  await migrate(database.url);
  await migrate(database.url, { schema: 'shadow_legacy', sets: ['jobs'] });
  await migrate(database.url, { schema: 'shadow_reimpl', sets: ['jobs'] });
  upstreams = await startUpstreams();
  gisExportInstance(upstreams.legacy, 'public');
  gisExportInstance(upstreams.gisExport, 'public');
  gisExportInstance(upstreams.shadowLegacy, 'shadow_legacy,public');
  gisExportInstance(upstreams.shadowGisExport, 'shadow_reimpl,public');
  subject = await startTestProxy(upstreams);
});
afterAll(async () => {
  await subject.proxy.close();
  await Promise.all((Object.values(upstreams) as TestUpstream[]).map((upstream) => upstream.close()));
  await Promise.all(pools.map((pool) => pool.end()));
  await database.drop();
});

const run = () =>
  call(`${subject.url}/plugins/v1/gis-export/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ county_id: 'benton_wa', format: 'GeoJSON', username: 'admin', area_of_interest: {}, layers: ['parcels'] }),
  });

describe('shadowed writes', () => {
  it('leave exactly one new job in the serving tables when a GIS export run is shadowed; the copy lands in shadow_reimpl', async () => {
    subject.flags.set('sync.gis-export.run', 'shadow');
    const answer = await run();
    expect(answer.status).toBe(200);
    const served = JSON.parse(answer.body.toString()) as { job_id: string };
    await eventually(async () => ((await subject.store.list()).length === 1 ? true : undefined));
    expect(await jobCount('public')).toBe(1);
    expect(await jobCount('shadow_reimpl')).toBe(1);
    expect(await jobCount('shadow_legacy')).toBe(0);
    const row = await pools[0]!.query('SELECT job_id FROM public.gis_export_jobs');
    expect(row.rows[0].job_id).toBe(served.job_id);
  });

  it('send the legacy copy of a write served by the reimplementation to the legacy shadow instance', async () => {
    subject.flags.set('sync.gis-export.run', 'reimpl');
    const answer = await run();
    expect(answer.headers['x-cutover-served-by']).toBe('reimpl');
    await eventually(async () => ((await subject.store.list()).length === 2 ? true : undefined));
    expect(await jobCount('public')).toBe(2);
    expect(await jobCount('shadow_legacy')).toBe(1);
    expect(upstreams.legacy.seen).toHaveLength(1);
  });

  it('send shadow copies of reads to the ordinary instances, which read the serving data', async () => {
    subject.flags.set('sync.gis-export.status', 'shadow');
    upstreams.legacy.seen.length = 0;
    await call(`${subject.url}/plugins/v1/gis-export/status/abc`);
    await eventually(() => (upstreams.gisExport.seen.some((seen) => seen.url.endsWith('/status/abc')) ? true : undefined));
    expect(upstreams.shadowGisExport.seen.some((seen) => seen.url.endsWith('/status/abc'))).toBe(false);
  });
});
