/**
 * Fallback to legacy: a read the reimplementation fails while serving it (5xx, unreachable,
 * timeout before headers) is answered by legacy, counted and still observed as the
 * reimplementation's failure; a write never falls back, so it is never doubled.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseRouteCatalogue } from '../../flags/route-catalogue.js';
import { observedFallback, retryPolicy, routeFallsBack } from '../../proxy/serving/fallback.js';
import { buildReport } from '../../src/report/report.js';
import { renderHtml } from '../../src/report/render-html.js';
import { renderMarkdown } from '../../src/report/render-markdown.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { answerJson, call, closedPort, configFor, eventually, ManualFlags, startUpstreams, stopTestProxy, testCatalogue, type Upstreams } from './harness.js';


describe('fallback to legacy', () => {
  /** cutover_proxy_fallbacks_total per route, summed over reasons. */
  async function fallbackMetric(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const match of (await proxy.metrics.registry.metrics()).matchAll(/cutover_proxy_fallbacks_total\{route="([^"]+)",reason="[^"]+"\} (\d+)/g)) {
      counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + Number(match[2]));
    }
    return counts;
  }

  let upstreams: Upstreams;
  let proxy: RunningProxy;
  let deadReimplProxy: RunningProxy;
  const flags = new ManualFlags();
  const observations = new FakeObservationStore();

  beforeAll(async () => {
    upstreams = await startUpstreams();
    proxy = await startProxy({ config: configFor(upstreams), catalogue: testCatalogue, flagSource: flags, observationStore: observations, services: ['sync'], random: () => 0 });
    const config = configFor(upstreams);
    const dead = { host: '127.0.0.1', port: await closedPort() };
    deadReimplProxy = await startProxy({ config: { ...config, reimpl: { ...config.reimpl, sync: dead } }, catalogue: testCatalogue, flagSource: flags, observationStore: new FakeObservationStore(), services: ['sync'], random: () => 0 });
  });
  afterAll(async () => {
    await deadReimplProxy.close();
    await stopTestProxy({ proxy, flags, store: observations, url: '' }, upstreams);
  });
  beforeEach(() => {
    for (const upstream of Object.values(upstreams)) {
      upstream.restore();
      upstream.seen.length = 0;
    }
    upstreams.legacy.behave((_req, res) => answerJson(res, 200, { from: 'legacy' }));
  });

  it('answers with legacy when the serving reimplementation answers 500, counts it, and observes the 500 as the reimplementation', async () => {
    flags.set('sync.health', 'reimpl');
    upstreams.reimpl.behave((_req, res) => answerJson(res, 500, { error: 'boom' }));
    const got = await call(`${proxy.urls.sync!}/health?fallback=1`);
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body.toString())).toEqual({ from: 'legacy' });
    expect(got.headers['x-cutover-served-by']).toBe('legacy');
    expect(got.headers['x-cutover-fallback']).toBe('reimpl-5xx');
    const observed = await eventually(async () => (await observations.list()).find((entry) => entry.path === '/health?fallback=1'));
    expect(observed).toMatchObject({ mode: 'reimpl', serving: { side: 'reimpl', status: 500 }, shadow: { side: 'legacy', status: 200 } });
    expect(await proxy.metrics.registry.metrics()).toContain('cutover_proxy_fallbacks_total{route="sync.health",reason="5xx"} 1');
  });

  it('answers with legacy when the reimplementation cannot be reached, under a canary too', async () => {
    flags.set('sync.health', 'canary', 100);
    const got = await call(`${deadReimplProxy.urls.sync!}/health`);
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body.toString())).toEqual({ from: 'legacy' });
    expect(got.headers['x-cutover-fallback']).toBe('reimpl-connection');
  });

  it('never falls back for a write: the client gets the reimplementation\'s 500 and legacy is not asked twice', async () => {
    flags.set('sync.gis-export.run', 'reimpl');
    upstreams.gisExport.behave((_req, res) => answerJson(res, 500, { error: 'boom' }));
    const got = await call(`${proxy.urls.sync!}/plugins/v1/gis-export/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"county_id":"x"}' });
    expect(got.status).toBe(500);
    expect(got.headers['x-cutover-fallback']).toBeUndefined();
    expect(upstreams.legacy.seen.filter((seen) => seen.url.startsWith('/plugins'))).toEqual([]);
  });

  it('leaves a healthy reimplementation\'s answer alone', async () => {
    flags.set('sync.health', 'reimpl');
    upstreams.reimpl.behave((_req, res) => answerJson(res, 200, { from: 'reimpl' }));
    const got = await call(`${proxy.urls.sync!}/health`);
    expect(JSON.parse(got.body.toString())).toEqual({ from: 'reimpl' });
    expect(got.headers['x-cutover-fallback']).toBeUndefined();
  });

  it('counts each route\'s fallbacks in the report as the metric counts them, with the route\'s timeouts and retry policy', async () => {
    flags.set('sync.health', 'reimpl');
    flags.set('sync.items', 'canary', 100);
    const before = await fallbackMetric();
    // Reads of two routes: every third answer of the reimplementation a 503.
    upstreams.reimpl.behave((req, res) => (Number(new URL(req.url!, 'http://x').searchParams.get('i')) % 3 === 0 ? answerJson(res, 503, { error: 'busy' }) : answerJson(res, 200, { from: 'legacy' })));
    for (let i = 0; i < 9; i++) await call(`${proxy.urls.sync!}/health?count=1&i=${i}`);
    for (let i = 0; i < 6; i++) await call(`${proxy.urls.sync!}/items/7?count=1&i=${i}`);
    const counted = await eventually(async () => {
      const list = (await observations.list()).filter((entry) => entry.path.includes('count=1'));
      return list.length === 15 ? list : undefined;
    });
    const report = buildReport({ observations: counted, routes: testCatalogue.routes, timeouts: { upstreamTimeoutMs: 30_000, shadowTimeoutMs: 1000 } });
    const health = report.routes.find((route) => route.routeId === 'sync.health')!;
    const items = report.routes.find((route) => route.routeId === 'sync.items')!;
    expect(health.fallbacks).toEqual({ enabled: true, count: 3, byReason: { '5xx': 3 } });
    expect(items.fallbacks).toEqual({ enabled: true, count: 2, byReason: { '5xx': 2 } });
    const after = await fallbackMetric();
    expect((after.get('sync.health') ?? 0) - (before.get('sync.health') ?? 0)).toBe(health.fallbacks.count);
    expect((after.get('sync.items') ?? 0) - (before.get('sync.items') ?? 0)).toBe(items.fallbacks.count);
    expect(health.transport).toEqual({ servingTimeoutMs: 30_000, shadowTimeoutMs: 1000, retry: expect.stringMatching(/^a request without a body is sent once more on a new connection .*; shadow copies never resent; falls back to legacy/) });
    const markdown = renderMarkdown(report);
    expect(markdown).toContain('## Fallbacks, timeouts and retries');
    expect(markdown).toMatch(/\| `sync\.health` \| 3 \(5xx 3\) \| 30 s \| 1 s \| a request without a body/);
    expect(renderHtml(report)).toContain('<td>3 (5xx 3)</td>');
  });

  it('shows a write\'s policy as no fallback and no resend, and counts none for it', () => {
    const write = testCatalogue.byId('sync.gis-export.run')!;
    expect(retryPolicy(write)).toBe('never resent; shadow copies never resent; no fallback (writes, not idempotent)');
    expect(observedFallback(write, { mode: 'reimpl', serving: { side: 'reimpl', status: 500, error: null } })).toBeUndefined();
    const read = testCatalogue.byId('sync.health')!;
    expect(observedFallback(read, { mode: 'reimpl', serving: { side: 'reimpl', status: null, error: 'CUTOVER_ERR_UPSTREAM_TIMEOUT' } })).toBe('timeout');
    // Past its headers the client had the start of the answer: no fallback, the connection is cut.
    expect(observedFallback(read, { mode: 'reimpl', serving: { side: 'reimpl', status: 200, error: 'CUTOVER_ERR_UPSTREAM_TIMEOUT' } })).toBeUndefined();
    expect(observedFallback(read, { mode: 'shadow', serving: { side: 'legacy', status: 500, error: null } })).toBeUndefined();
  });

  it('is on for reads by default, off for writes, and a writing route may only ask for it when idempotent', () => {
    expect(routeFallsBack({ writes: false })).toBe(true);
    expect(routeFallsBack({ writes: false, fallback: false })).toBe(false);
    expect(routeFallsBack({ writes: true })).toBe(false);
    expect(routeFallsBack({ writes: true, idempotent: true })).toBe(false);
    expect(routeFallsBack({ writes: true, idempotent: true, fallback: true })).toBe(true);
    const route = { id: 'sync.x', service: 'sync', method: 'POST', path: '/x', owner: 'o', writes: true, compare: { ignore: [], headers: [] } };
    expect(() => parseRouteCatalogue({ version: 1, routes: [{ ...route, fallback: true }] })).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_ROUTES_INVALID' }));
    expect(routeFallsBack(parseRouteCatalogue({ version: 1, routes: [{ ...route, fallback: true, idempotent: true }] }).routes[0]!)).toBe(true);
  });
});
