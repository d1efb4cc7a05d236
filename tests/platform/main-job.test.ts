import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { describeStack, startCutoverStack, type CutoverStack } from '../../src/platform/cutover-stack.js';
import { runMainJob, type MainJobOutcome } from '../../src/platform/main-job.js';
import { freePort } from '../../src/platform/ports.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';

/** Every endpoint of the stack on a free port, so the test never meets a running `cutover up`. */
async function ephemeralPorts(): Promise<ConfigInput> {
  const endpoint = async () => ({ host: '127.0.0.1', port: await freePort() });
  return {
    legacy: { gateway: await endpoint(), sync: await endpoint(), narrator: await endpoint() },
    reimpl: { gateway: await endpoint(), sync: await endpoint(), gisExport: await endpoint(), narrator: await endpoint() },
    shadowLegacy: { gateway: await endpoint(), sync: await endpoint(), narrator: await endpoint() },
    shadowReimpl: { gateway: await endpoint(), sync: await endpoint(), gisExport: await endpoint(), narrator: await endpoint() },
    proxy: { gateway: await endpoint(), sync: await endpoint(), narrator: await endpoint(), admin: await endpoint(), adminToken: 'main-job-test-token' },
    ollama: { url: `http://127.0.0.1:${await freePort()}` },
  };
}

async function count(url: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(sql);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

describe('the main job on the whole stack', () => {
  let database: IsolatedDatabase;
  let stack: CutoverStack;
  let outcome: MainJobOutcome;
  const stateDir = mkdtempSync(join(tmpdir(), 'cutover-main-job-'));

  beforeAll(async () => {
    database = await createIsolatedDatabase('main_job');
    const config = loadConfig({
      overrides: {
        ...(await ephemeralPorts()),
        stateDir,
        database: { url: database.url },
        seed: { counties: [{ countyId: 'benton_wa', parcels: 600 }] },
      },
    });
    stack = await startCutoverStack(config, () => undefined);
    outcome = await runMainJob(stack, { countyId: 'benton_wa', format: 'GeoJSON', shadow: ['sync.*', 'narrator.*'], reportDir: join(stateDir, 'report'), log: () => undefined });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await database?.drop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts legacy, the reimplementations, the shadow instances and the proxy, and says where each runs', () => {
    const table = describeStack(stack);
    for (const id of ['legacy.sync', 'legacy.gateway', 'reimpl.sync', 'reimpl.gis-export', 'reimpl.gateway', 'reimpl.narrator', 'shadow-legacy.sync', 'shadow-reimpl.sync', 'proxy.admin']) {
      expect(table).toContain(id);
    }
  });

  it('runs the GIS export end to end through the proxy and leaves the file where it says', () => {
    expect(outcome.export.status).toBe('COMPLETED');
    expect(outcome.export.result!.record_count).toBeGreaterThan(0);
    expect(outcome.exportFiles.length).toBeGreaterThan(0);
    for (const file of outcome.exportFiles) expect(existsSync(file)).toBe(true);
  });

  it('records an observation for the shadowed routes it drove, and none of them errored', () => {
    const observed = outcome.report.routes.filter((route) => route.observations > 0).map((route) => route.routeId);
    expect(observed).toEqual(expect.arrayContaining(['sync.properties.list', 'sync.gis-export.run', 'sync.gis-export.status', 'narrator.summarize']));
    expect(outcome.report.totals.errored).toBe(0);
    expect(outcome.report.totals.observations).toBe(
      outcome.report.totals.matched + outcome.report.totals.mismatched + outcome.report.totals.ignored + outcome.report.totals.errored,
    );
  });

  it('finds the reimplementation at parity on everything it drove, the exported file compared whole and matched', () => {
    const mismatched = outcome.report.routes.filter((route) => route.mismatched > 0).map((route) => `${route.routeId}: ${route.mismatchPaths.map((path) => path.path).join(', ')}`);
    expect(mismatched).toEqual([]);
    const download = outcome.report.routes.find((route) => route.routeId === 'sync.gis-export.download');
    expect(download).toMatchObject({ observations: 1, matched: 1 });
    // A narrator answer's fresh id and duration are pinned noise (kind checked), so an equal answer is matched, not ignored.
    for (const task of ['summarize', 'classify', 'explain']) {
      expect(outcome.report.routes.find((route) => route.routeId === `narrator.${task}`)).toMatchObject({ observations: 1, matched: 1, ignored: 0 });
    }
  });

  it('keeps every shadowed write out of the serving tables: one serving job per export run, its twin in the shadow schema', async () => {
    // The main job's export plus its one refused run (a 422 creates nothing).
    expect(await count(database.url, 'SELECT count(*) AS n FROM public.gis_export_jobs')).toBe(1);
    expect(await count(database.url, 'SELECT count(*) AS n FROM shadow_reimpl.gis_export_jobs')).toBe(1);
  });

  it('absorbs the declared county-password difference as accepted, listed apart, never as a mismatch path', () => {
    const counties = outcome.report.routes.find((route) => route.routeId === 'sync.counties.get')!;
    expect(counties.observations).toBe(1);
    expect(counties.acceptedAbsorbed.map((entry) => entry.id)).toEqual(['county-config-password']);
    expect(counties.mismatchPaths.map((path) => path.path)).not.toContain('$.connection_params.password');
  });

  it('writes the report as JSON, Markdown and self-contained HTML', () => {
    const json = JSON.parse(readFileSync(outcome.reportPaths.json, 'utf8')) as { routes: unknown[] };
    expect(json.routes.length).toBeGreaterThan(0);
    expect(readFileSync(outcome.reportPaths.markdown, 'utf8')).toContain('sync.gis-export.run');
    const html = readFileSync(outcome.reportPaths.html, 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/i);
  });
});
