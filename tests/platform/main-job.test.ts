import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { describeStack, startCutoverStack, type CutoverStack } from '../../src/platform/cutover-stack.js';
import { demoGateOverrides, runMainJob, type MainJobOutcome } from '../../src/platform/main-job.js';
import { demoConfigOverrides, storyRoutes } from '../../src/platform/cutover-story.js';
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

/** What the main job's `cutover traffic` is asked for: 40 requests/s for 30 s, every catalogued route. */
const trafficRate = 40;
const trafficSeconds = 30;

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
        ...demoConfigOverrides,
      },
    });
    stack = await startCutoverStack(config, () => undefined);
    outcome = await runMainJob(stack, {
      countyId: 'benton_wa',
      format: 'GeoJSON',
      shadow: ['sync.*', 'gateway.*', 'narrator.*'],
      reportDir: join(stateDir, 'report'),
      log: () => undefined,
      traffic: { rate: trafficRate, durationMs: trafficSeconds * 1000 },
      story: true,
    });
  }, 300_000);

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

  it('ends with the readiness verdict of every route it observed, thresholds lowered for its size, and the report opens with them', () => {
    const observed = outcome.report.routes.filter((route) => route.observations > 0).map((route) => route.routeId).filter((id) => stack.catalogue.byId(id));
    expect(outcome.gate.routes.map((route) => route.routeId).sort()).toEqual(expect.arrayContaining(observed.sort()));
    for (const route of outcome.gate.routes) {
      expect(['READY', 'NOT_READY', 'INSUFFICIENT_EVIDENCE']).toContain(route.verdict);
      expect(route.thresholds).toMatchObject(demoGateOverrides);
      if (route.verdict !== 'READY') expect(route.failed.length).toBeGreaterThan(0);
    }
    expect(outcome.report.readiness).toMatchObject({ verdict: outcome.gate.verdict });
    expect(outcome.report.readiness!.routes.map((route) => route.routeId)).toEqual(outcome.gate.routes.map((route) => route.routeId));
  });

  it('drives traffic at the asked rate over every catalogued route, open loop, and stops at the duration', () => {
    const traffic = outcome.traffic!;
    expect(traffic.unreachable).toEqual([]);
    expect(stack.catalogue.routes.filter((route) => !traffic.byRoute[route.id]).map((route) => route.id)).toEqual([]);
    // By schedule: request i is sent at i / rate whatever the answers do, so the count over the duration is the rate.
    expect(traffic.sent + traffic.skipped).toBe(trafficRate * trafficSeconds);
    const achieved = ((traffic.sent - 1) * 1000) / traffic.sendingMs;
    expect(achieved).toBeGreaterThan(trafficRate * 0.9);
    expect(achieved).toBeLessThan(trafficRate * 1.1);
    // It stops by itself: nothing is due after the duration (the last request's slot is the duration less one interval).
    expect(traffic.sentAtMs[traffic.sentAtMs.length - 1]!).toBeLessThan(trafficSeconds * 1000 * 1.1);
    expect(traffic.failed + traffic.unfinished).toBe(0);
  });

  it('records at least 1,000 observations, at most 2% ignored, every catalogued route observed, and none errored', () => {
    const { totals } = outcome.report;
    expect(totals.observations).toBeGreaterThanOrEqual(1000);
    expect(totals.ignored / totals.observations).toBeLessThanOrEqual(0.02);
    const unobserved = outcome.report.routes.filter((route) => route.observations === 0).map((route) => route.routeId);
    expect(stack.catalogue.routes.map((route) => route.id).filter((id) => unobserved.includes(id) || !outcome.report.routes.some((route) => route.routeId === id))).toEqual([]);
    // Only the story's faulty route errs, after its reimplementation's process was killed, and only on that side.
    const faulty = storyRoutes('benton_wa').faulty.routeId;
    const errored = outcome.report.routes.filter((route) => route.errored > 0);
    expect(errored.map((route) => route.routeId), JSON.stringify(errored.map((route) => [route.routeId, route.errored, route.failures]))).toEqual([faulty]);
    expect(outcome.report.routes.find((route) => route.routeId === faulty)!.failures.legacy).toEqual({});
    expect(outcome.report.totals.observations).toBe(
      outcome.report.totals.matched + outcome.report.totals.mismatched + outcome.report.totals.ignored + outcome.report.totals.errored,
    );
  });

  it('finds the reimplementation at parity on what it drove (under 1% mismatched, each listed), the exported file compared whole and matched', () => {
    const { totals } = outcome.report;
    const mismatched = outcome.report.routes.filter((route) => route.mismatched > 0).map((route) => `${route.routeId} ${route.mismatched}: ${route.mismatchPaths.map((path) => path.path).join(', ')}`);
    // Broad traffic finds races a cutover must know about (a cancel racing the job's end on one side), listed in the report.
    expect(totals.mismatched / totals.observations, mismatched.join('; ')).toBeLessThan(0.01);
    const download = outcome.report.routes.find((route) => route.routeId === 'sync.gis-export.download')!;
    expect(download.matched).toBeGreaterThanOrEqual(1);
    // A narrator answer's fresh id and duration are pinned noise (kind checked), so an equal answer is matched, not ignored.
    for (const task of ['summarize', 'classify', 'explain']) {
      const route = outcome.report.routes.find((entry) => entry.routeId === `narrator.${task}`)!;
      expect(route.matched).toBeGreaterThanOrEqual(1);
      expect(route.ignored).toBe(0);
    }
    // Job reads are compared, timestamps within their windows: matched, not ignored by a timestamp rule.
    for (const routeId of ['sync.gis-export.status', 'sync.reporting.status', 'sync.valuation.status', 'gateway.gis-export.status']) {
      const route = outcome.report.routes.find((entry) => entry.routeId === routeId)!;
      expect(route.matched, routeId).toBeGreaterThanOrEqual(1);
      expect(Object.keys(route.ignoredBy).filter((rule) => rule.includes('timestamp')), routeId).toEqual([]);
    }
  });

  it('keeps every shadowed write out of the serving tables: each serving export job has its twin in the shadow schema, none is in both', async () => {
    const serving = await count(database.url, 'SELECT count(*) AS n FROM public.gis_export_jobs');
    expect(serving).toBeGreaterThanOrEqual(1);
    expect(await count(database.url, 'SELECT count(*) AS n FROM shadow_reimpl.gis_export_jobs')).toBeGreaterThanOrEqual(serving);
    expect(await count(database.url, 'SELECT count(*) AS n FROM public.gis_export_jobs p JOIN shadow_reimpl.gis_export_jobs s USING (job_id)')).toBe(0);
  });

  it('absorbs the declared county-password difference as accepted, listed apart, never as a mismatch path', () => {
    const counties = outcome.report.routes.find((route) => route.routeId === 'sync.counties.get')!;
    expect(counties.observations).toBeGreaterThanOrEqual(1);
    expect(counties.acceptedAbsorbed.map((entry) => entry.id)).toEqual(['county-config-password']);
    expect(counties.mismatched).toBe(0);
    expect(counties.mismatchPaths.map((path) => path.path)).not.toContain('$.connection_params.password');
  });

  it('cuts a read route over unattended: shadow, READY, every rollout step, reimpl, retired, in the audit log and the report', async () => {
    const story = outcome.story!;
    const read = story.routes.read.routeId;
    expect(story.shadowGate.routes.find((route) => route.routeId === read)!.verdict).toBe('READY');
    expect(story.finalModes[read]).toBe('retired');
    const history = (await stack.flagStore.history({ routeId: read, limit: 50 })).reverse().map((entry) => `${entry.actor} ${entry.to}`);
    expect(history).toEqual(expect.arrayContaining(['cutover-main-job shadow', 'cutover-main-job canary:10', 'rollout-controller canary:50', 'rollout-controller canary:100', 'rollout-controller reimpl', 'cutover-main-job retired']));
    expect(history.indexOf('rollout-controller reimpl')).toBeLessThan(history.indexOf('cutover-main-job retired'));
    expect(outcome.report.rollouts.find((rollout) => rollout.routeId === read)).toMatchObject({ state: 'completed', steps: [10, 50, 100] });
    expect(outcome.report.routes.find((route) => route.routeId === read)!.mode).toBe('retired');
  });

  it('rolls back the route whose reimplementation the demo breaks mid-rollout, falls back to legacy meanwhile, and counts the fallbacks', async () => {
    const story = outcome.story!;
    const faulty = story.routes.faulty.routeId;
    expect(story.faultAt).toBeInstanceOf(Date);
    expect(story.finalModes[faulty]).toBe('shadow');
    const history = await stack.flagStore.history({ routeId: faulty, limit: 50 });
    const rollback = history.find((entry) => entry.actor === 'rollout-controller' && entry.to === 'shadow');
    expect(rollback, JSON.stringify(history)).toBeDefined();
    expect(rollback!.reason).toMatch(/rolled back .* breached error-rate/);
    expect(outcome.report.rollouts.find((rollout) => rollout.routeId === faulty)).toMatchObject({ state: 'rolled-back' });
    const route = outcome.report.routes.find((entry) => entry.routeId === faulty)!;
    expect(route.fallbacks.count).toBeGreaterThan(0);
    expect(route.fallbacks.byReason.connection).toBe(route.fallbacks.count);
    const metrics = await stack.proxy.metrics.registry.metrics();
    const counted = [...metrics.matchAll(new RegExp(`cutover_proxy_fallbacks_total\\{route="${faulty.replace(/\./g, '\\.')}",reason="[^"]+"\\} (\\d+)`, 'g'))].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(counted).toBe(route.fallbacks.count);
    // Legacy took over what the broken reimplementation served: at most the odd answer cut mid-body by the kill itself is lost.
    expect(story.requests.failed).toBeLessThanOrEqual(story.requests.sent * 0.01);
    const markdown = readFileSync(outcome.reportPaths.markdown, 'utf8');
    expect(markdown).toMatch(new RegExp(`\\| \`${faulty.replace(/\./g, '\\.')}\` \\| rolled-back \\|`));
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
