// Stateful shadowing through the real proxy in front of real services: legacy sync serves,
// the reimplemented sync is shadowed (its shadow instance writes to shadow_reimpl), job ids are
// correlated A↔B, a later read of A reaches the shadow instance as B, a racing status read is
// ignored (eventual-state) and then polled to terminal states, and the job rows each side wrote
// are compared (state parity).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { defaultRoutesFile, parseRouteCatalogue, type RouteCatalogue } from '../../../flags/route-catalogue.js';
import { PgCorrelationStore } from '../../../proxy/stateful/correlation-store-pg.js';
import { FakeObservationStore } from '../../../proxy/observe/fake-observation-store.js';
import type { Observation } from '../../../proxy/observe/observation.js';
import { startProxy, type RunningProxy } from '../../../proxy/start.js';
import { loadConfig } from '../../../src/config/load.js';
import type { CutoverConfig, Endpoint } from '../../../src/config/schema.js';
import { migrate, migrateHarness } from '../../../src/db/migrate.js';
import { legacyServiceSpecs } from '../../../src/platform/legacy-services.js';
import { freePort } from '../../../src/platform/ports.js';
import { reimplServiceSpecs } from '../../../src/platform/reimpl-services.js';
import { Supervisor } from '../../../src/platform/supervisor.js';
import { seedCounty } from '../../../src/seed/index.js';
import { eventually as eventuallyWithin, ManualFlags } from '../../proxy/harness.js';
import { ask as askSide } from '../../reimpl/side-by-side.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../../setup/isolated-database.js';

const gis = '/plugins/v1/gis-export';
let database: IsolatedDatabase;
let db: pg.Pool;
let supervisor: Supervisor;
let scratch: string;
let legacyUrl: string;
let shadowReimplUrl: string;
let aoi: unknown;
let propertyId: string;

/** A proxy in shadow mode on every job route, with its own observation store. */
interface ProxyUnderTest {
  proxy: RunningProxy;
  store: FakeObservationStore;
  correlations: PgCorrelationStore;
  url: string;
}
let plain: ProxyUnderTest;
let polling: ProxyUnderTest;

function catalogue(poll: boolean): RouteCatalogue {
  const raw = parseYaml(readFileSync(defaultRoutesFile, 'utf8')) as { routes: Array<Record<string, unknown>> };
  if (poll) for (const route of raw.routes) if (String(route.id).endsWith('.status')) route.eventual = { poll: { deadlineMs: 20_000, intervalMs: 50 } };
  return parseRouteCatalogue(raw);
}

async function startShadowProxy(config: CutoverConfig, routes: RouteCatalogue): Promise<ProxyUnderTest> {
  const flags = new ManualFlags();
  for (const route of routes.routes) if (route.service === 'sync' && route.correlation) flags.set(route.id, 'shadow');
  const store = new FakeObservationStore();
  const correlations = new PgCorrelationStore(database.url);
  const proxy = await startProxy({
    config,
    catalogue: routes,
    flagSource: flags,
    observationStore: store,
    services: ['sync'],
    stateful: { correlationStore: correlations, stateParity: { databaseUrl: database.url, deadlineMs: 60_000 } },
  });
  return { proxy, store, correlations, url: proxy.urls.sync! };
}

/** Polls `probe` for up to a minute (real jobs and real services). */
const eventually = <T>(probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> => eventuallyWithin(probe, ms);

/** GET, or POST of a JSON body, answering status, text, JSON and bytes. */
const ask = (url: string, body?: unknown) => askSide(url, body === undefined ? {} : { body });

const terminal = ['COMPLETED', 'FAILED', 'CANCELLED'];

async function jobRow(schema: string, table: string, idColumn: string, id: string): Promise<Record<string, any> | undefined> {
  const { rows } = await db.query(`SELECT * FROM ${schema}.${table} WHERE ${idColumn} = $1`, [id]);
  return rows[0];
}

/** Waits until the job is terminal in the serving tables and its correlated copy in shadow_reimpl. */
async function bothTerminal(table: string, idColumn: string, servingId: string): Promise<string> {
  const shadowId = await eventually(async () => (await plain.correlations.get('legacy', servingId))?.shadowId);
  await eventually(async () => {
    const [a, b] = await Promise.all([jobRow('public', table, idColumn, servingId), jobRow('shadow_reimpl', table, idColumn, shadowId)]);
    return a && b && terminal.includes(a.status) && terminal.includes(b.status) ? true : undefined;
  });
  return shadowId;
}

async function observations(subject: ProxyUnderTest, routeId: string, count = 1): Promise<Observation[]> {
  return eventually(async () => {
    await subject.proxy.flushObservations();
    const found = await subject.store.list({ routeId });
    return found.length >= count ? found : undefined;
  });
}

beforeAll(async () => {
  const base = loadConfig();
  database = await createIsolatedDatabase('stateful', { migrated: true });
  await migrate(database.url, { schema: 'shadow_reimpl', sets: ['jobs'] });
  await migrate(database.url, { schema: 'shadow_legacy', sets: ['jobs'] });
  await migrateHarness(database.url);
  await seedCounty(database.url, { countyId: 'test_county', parcels: 200, seed: base.seed.seed });
  db = new pg.Pool({ connectionString: database.url, max: 2 });
  const { rows } = await db.query(
    "SELECT min(min_x) AS x0, min(min_y) AS y0, max(max_x) AS x1, max(max_y) AS y1, min(property_id) AS property_id FROM property_operational WHERE county_id = 'test_county'",
  );
  const { x0, y0, x1, y1 } = rows[0] as { x0: number; y0: number; x1: number; y1: number };
  propertyId = rows[0].property_id;
  aoi = { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] };

  scratch = mkdtempSync(join(tmpdir(), 'cutover-stateful-'));
  supervisor = new Supervisor(join(scratch, 'logs'));
  const host = '127.0.0.1';
  const at = async (): Promise<Endpoint> => ({ host, port: await freePort() });
  const [legacyPort, reimplPort, shadowReimplPort, nowhere] = [await at(), await at(), await at(), await at()];
  const [legacySync] = legacyServiceSpecs(
    base,
    { databaseUrl: database.url, exportDir: join(scratch, 'exports'), ollamaUrl: 'http://127.0.0.1:9', syncServiceUrl: 'http://127.0.0.1:9', narratorUrl: 'http://127.0.0.1:9' },
    { sync: legacyPort, gateway: nowhere, narrator: nowhere },
  );
  const [reimplSync] = reimplServiceSpecs(base, { databaseUrl: database.url, exportDir: join(scratch, 'exports'), mountGisExport: true }, { sync: reimplPort, gisExport: reimplPort }, { only: ['sync'] });
  const [shadowSync] = reimplServiceSpecs(
    base,
    { databaseUrl: database.url, dbSchema: 'shadow_reimpl,public', exportDir: join(scratch, 'shadow-exports'), mountGisExport: true },
    { sync: shadowReimplPort, gisExport: shadowReimplPort },
    { only: ['sync'], idPrefix: 'shadow-reimpl' },
  );
  const [legacy, , shadow] = await Promise.all([supervisor.start(legacySync!), supervisor.start(reimplSync!), supervisor.start(shadowSync!)]);
  legacyUrl = legacy.url;
  shadowReimplUrl = shadow.url;

  const config = loadConfig({
    env: {},
    overrides: {
      legacy: { sync: legacyPort },
      reimpl: { sync: reimplPort, gisExport: reimplPort },
      shadowReimpl: { sync: shadowReimplPort, gisExport: shadowReimplPort },
      shadowLegacy: { sync: nowhere },
      proxy: { gateway: { port: 0 }, sync: { port: 0 }, narrator: { port: 0 }, shadow: { timeoutMs: 20_000 }, observations: { flushIntervalMs: 20 } },
    },
  });
  plain = await startShadowProxy(config, catalogue(false));
  polling = await startShadowProxy(config, catalogue(true));
}, 180_000);

afterAll(async () => {
  for (const subject of [plain, polling]) {
    await subject?.proxy.close();
    await subject?.correlations.close();
  }
  await supervisor?.stopAll();
  await db?.end();
  await database?.drop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('a GIS export job shadowed through the proxy', () => {
  let jobId: string;
  let shadowId: string;

  it('pairs the job the client got with the job the shadow created, and compares the two run answers as equal at job_id', async () => {
    const run = await ask(`${plain.url}${gis}/run`, { county_id: 'test_county', format: 'GeoJSON', username: 'stateful', area_of_interest: aoi, layers: ['parcels'] });
    expect(run.status).toBe(200);
    jobId = run.json.job_id;
    // The serving answer is legacy's own: its job is in the serving tables under the id the client got.
    expect((await jobRow('public', 'gis_export_jobs', 'job_id', jobId))?.job_id).toBe(jobId);
    shadowId = await bothTerminal('gis_export_jobs', 'job_id', jobId);
    expect(shadowId).not.toBe(jobId);
    expect(await jobRow('public', 'gis_export_jobs', 'job_id', shadowId)).toBeUndefined();
    const [observed] = await observations(plain, 'sync.gis-export.run');
    expect(observed!.verdict, JSON.stringify(observed!.differences)).not.toBe('mismatched');
    expect(observed!.differences.find((difference) => difference.path === '$.job_id')).toMatchObject({ correlated: `${jobId}↔${shadowId}` });
  }, 120_000);

  it('sends status, results and download of A to the shadow instance as B, and the answers the client gets stay legacy’s', async () => {
    for (const route of ['status', 'results', 'download']) {
      const [proxied, direct] = [await ask(`${plain.url}${gis}/${route}/${jobId}`), await ask(`${legacyUrl}${gis}/${route}/${jobId}`)];
      expect(proxied.status).toBe(200);
      expect(proxied.bytes.equals(direct.bytes)).toBe(true);
    }
    // B exists only in shadow_reimpl (and its file only in the shadow instance's EXPORT_DIR): a 200 from the shadow side proves where the copy went.
    for (const route of ['status', 'results']) {
      const [observed] = await observations(plain, `sync.gis-export.${route}`);
      expect(observed!.shadow.status).toBe(200);
      expect(observed!.verdict, JSON.stringify(observed!.differences)).not.toBe('mismatched');
      expect(observed!.differences.find((difference) => difference.path === '$.job_id')).toMatchObject({ correlated: `${jobId}↔${shadowId}` });
    }
    const [download] = await observations(plain, 'sync.gis-export.download');
    expect(download!.shadow.status).toBe(200);
    const status = await ask(`${shadowReimplUrl}${gis}/status/${shadowId}`);
    expect(status.json.status).toBe('COMPLETED');
  });

  it('compares the job rows each side wrote, ids through the correlation and timestamps by format', async () => {
    const [state] = await observations(plain, 'sync.gis-export.run.state');
    expect(state!.method).toBe('STATE');
    expect(state!.path).toBe(`gis_export_jobs/${jobId}`);
    expect(state!.serving.status).toBe(200);
    expect(state!.shadow.status).toBe(200);
    expect(state!.differences.filter((difference) => difference.correlated === undefined)).toEqual([]);
    expect(state!.verdict).toBe('matched');
    expect(state!.differences.map((difference) => difference.path).sort()).toEqual(['$.job_id', '$.result_file_location']);
  });

  it('ignores a status read that races the other side (legacy RUNNING, reimpl COMPLETED) under rule eventual-state, never matched', async () => {
    await db.query("UPDATE public.gis_export_jobs SET status = 'RUNNING', message = 'Job processing started', completed_at = NULL WHERE job_id = $1", [jobId]);
    const before = (await plain.store.list({ routeId: 'sync.gis-export.status' })).length;
    const proxied = await ask(`${plain.url}${gis}/status/${jobId}`);
    expect(proxied.json.status).toBe('RUNNING');
    const [observed] = await observations(plain, 'sync.gis-export.status', before + 1);
    expect(observed!.verdict).toBe('ignored');
    expect(observed!.ignoredBy).toContain('eventual-state');
    expect(observed!.differences.find((difference) => difference.path === '$.status')).toMatchObject({ serving: '"RUNNING"', shadow: '"COMPLETED"', ignoredBy: 'eventual-state' });
  });

  it('polls both sides to their terminal states when the route asks, then compares those (a proxy that never saw the run finds the pair in PostgreSQL)', async () => {
    const proxied = await ask(`${polling.url}${gis}/status/${jobId}`);
    expect(proxied.json.status).toBe('RUNNING');
    // The legacy worker "finishes" after the answer: the poll must see it.
    await db.query("UPDATE public.gis_export_jobs SET status = 'COMPLETED', message = 'Export completed successfully', completed_at = updated_at WHERE job_id = $1", [jobId]);
    const [observed] = await observations(polling, 'sync.gis-export.status');
    expect(observed!.ignoredBy).not.toContain('eventual-state');
    expect(observed!.verdict, JSON.stringify(observed!.differences)).not.toBe('mismatched');
    expect(observed!.differences.find((difference) => difference.path === '$.status')).toBeUndefined();
    expect(observed!.differences.find((difference) => difference.path === '$.job_id')).toMatchObject({ correlated: `${jobId}↔${shadowId}` });
  }, 60_000);
});

describe('every job plugin shadowed through the proxy', () => {
  const plugins = [
    { name: 'reporting', table: 'report_jobs', id: 'report_id', body: () => ({ report_type: 'assessment_roll', county_id: 'test_county', parameters: { year: 2025 } }) },
    { name: 'market-analysis', table: 'market_analysis_jobs', id: 'job_id', body: () => ({ analysis_type: 'sales_ratio_study', county_id: 'test_county' }) },
    { name: 'valuation', table: 'valuation_jobs', id: 'job_id', body: () => ({ county_id: 'test_county', property_id: propertyId }) },
    // /plugins/market-analysis (contract 1b.D): its jobs run after the 202, in the same table.
    {
      name: 'market-analysis.plugin', prefix: '/plugins/market-analysis', table: 'market_analysis_jobs', id: 'job_id',
      body: () => ({ analysis_type: 'market_valuation', county_id: 'test_county', parameters: { start_date: '2020-01-01' } }),
    },
  ];
  for (const plugin of plugins) {
    it(`correlates ${plugin.name} jobs: status and results of A reach the shadow as B, and the job rows are compared`, async () => {
      const prefix = 'prefix' in plugin ? plugin.prefix : `/plugins/v1/${plugin.name}`;
      const run = await ask(`${plain.url}${prefix}/run`, plugin.body());
      expect(run.status).toBeLessThan(300);
      const id: string = run.json[plugin.id];
      const shadowId = await bothTerminal(plugin.table, plugin.id, id);
      for (const route of ['status', 'results']) {
        const [proxied, direct] = [await ask(`${plain.url}${prefix}/${route}/${id}`), await ask(`${legacyUrl}${prefix}/${route}/${id}`)];
        expect(proxied.text).toBe(direct.text);
        const [observed] = await observations(plain, `sync.${plugin.name}.${route}`);
        expect(observed!.shadow.status).toBe(200);
        expect(observed!.verdict).not.toBe('mismatched');
        expect(observed!.differences.some((difference) => difference.correlated === `${id}↔${shadowId}`)).toBe(true);
      }
      const [state] = await observations(plain, `sync.${plugin.name}.run.state`);
      expect(state!.path).toBe(`${plugin.table}/${id}`);
      // Rows are held to the run route's rules: what they let differ in the answer (a report's generation time, within its window) may differ in the row.
      expect(state!.differences.filter((difference) => difference.correlated === undefined && difference.ignoredBy === undefined && difference.disposition?.as !== 'within-window')).toEqual([]);
      expect(state!.verdict).toBe('matched');
      expect(state!.differences.some((difference) => difference.correlated === `${id}↔${shadowId}`)).toBe(true);
    }, 120_000);
  }
});
