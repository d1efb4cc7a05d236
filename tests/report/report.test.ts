import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FlagMode, FlagSnapshot } from '../../flags/flag.js';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import type { Observation } from '../../proxy/observe/observation.js';
import { readinessSummary, runGate } from '../../gate/gate.js';
import { parseSince } from '../../src/cli/commands/report.js';
import { configSchema } from '../../src/config/schema.js';
import { buildReport, percentile } from '../../src/report/report.js';
import { renderHtml } from '../../src/report/render-html.js';
import { renderMarkdown } from '../../src/report/render-markdown.js';
import { FakeUnknownTrafficStore } from '../../src/report/unknown-traffic.js';
import { collectReport, writeReport } from '../../src/report/write-report.js';

const catalogue = loadRouteCatalogue();
const at = new Date('2026-05-15T12:00:00Z');

/** An observation of a shadowed request: legacy serves, the reimplementation is the shadow. */
function observation(overrides: Partial<Observation> & { legacyMs?: number; reimplMs?: number } = {}): Observation {
  const { legacyMs = 10, reimplMs = 12, ...rest } = overrides;
  return {
    observedAt: at,
    routeId: 'sync.gis-export.status',
    service: 'sync',
    method: 'GET',
    path: '/plugins/v1/gis-export/status/j-1',
    mode: 'shadow',
    serving: { side: 'legacy', status: 200, latencyMs: legacyMs, error: null, body: null },
    shadow: { side: 'reimpl', status: 200, latencyMs: reimplMs, error: null, body: null },
    verdict: 'matched',
    ignoredBy: [],
    erroredSide: null,
    differences: [],
    ...rest,
  };
}

const repeat = <T>(count: number, make: (index: number) => T) => Array.from({ length: count }, (_, index) => make(index));
const flags = (modes: Record<string, FlagMode>): FlagSnapshot => ({
  flags: new Map(Object.entries(modes).map(([routeId, mode]) => [routeId, { routeId, mode, percent: 0 }])),
  killSwitch: false,
  state: 'live',
  loadedAt: at,
});

describe('the parity report', () => {
  it('computes parity as matched over compared, keeping ignored and errored apart', () => {
    const observations = [
      ...repeat(6, () => observation()),
      ...repeat(2, () => observation({ verdict: 'mismatched', differences: [{ path: '$.status', serving: '"RUNNING"', shadow: '"PENDING"' }] })),
      ...repeat(3, () => observation({ verdict: 'ignored', ignoredBy: ['$.updated_at'], differences: [{ path: '$.updated_at', serving: '"a"', shadow: '"b"', ignoredBy: '$.updated_at' }] })),
      observation({ verdict: 'errored', erroredSide: 'shadow', shadow: { side: 'reimpl', status: null, latencyMs: 5000, error: 'CUTOVER_ERR_UPSTREAM_TIMEOUT', body: null } }),
    ];
    const [route] = buildReport({ observations, routes: catalogue.routes }).routes;
    expect(route).toMatchObject({ routeId: 'sync.gis-export.status', observations: 12, matched: 6, mismatched: 2, ignored: 3, errored: 1, parityRate: 0.75 });
    expect(route!.ignoredBy).toEqual({ '$.updated_at': 3 });
    expect(route!.erroredBySide).toEqual({ serving: 0, shadow: 1, both: 0 });
  });

  it('gives no parity rate (not 100%) to a route whose observations were all ignored or errored', () => {
    const observations = [observation({ verdict: 'ignored', ignoredBy: ['$'] }), observation({ verdict: 'errored', erroredSide: 'serving' })];
    const report = buildReport({ observations, routes: catalogue.routes });
    expect(report.routes[0]!.parityRate).toBeNull();
    expect(report.totals).toMatchObject({ observations: 2, matched: 0, parityRate: null });
  });

  it('lists every rule that ignored observations with its count, over all routes, in the totals and the markdown', () => {
    const ignored = (rule: string, routeId: string) => observation({ routeId, verdict: 'ignored', ignoredBy: [rule] });
    const observations = [ignored('$', 'sync.gis-export.status'), ignored('eventual-state', 'sync.gis-export.status'), ignored('eventual-state', 'sync.gis-export.results'), observation()];
    const report = buildReport({ observations, routes: catalogue.routes });
    expect(report.totals.ignoredBy).toEqual({ 'eventual-state': 2, $: 1 });
    expect(renderMarkdown(report)).toContain('Ignored by rule: `eventual-state` 2, `$` 1.');
  });

  it('lists what each accepted difference absorbed, apart from matches, and never as a mismatch path', () => {
    const accepted = { as: 'accepted' as const, id: 'gis-export-cancel-overwritten' };
    const observations = [
      ...repeat(2, () => observation({ differences: [{ path: '$.status', serving: '"COMPLETED"', shadow: '"CANCELLED"', kind: 'value', disposition: accepted }] })),
      observation({ verdict: 'mismatched', differences: [
        { path: '$.completed_at', serving: '"t1"', shadow: '"t2"', kind: 'value', disposition: accepted },
        { path: '$.county_id', serving: '"a"', shadow: '"b"', kind: 'value', disposition: { as: 'mismatch' } },
      ] }),
    ];
    const report = buildReport({ observations, routes: catalogue.routes });
    const [route] = report.routes;
    expect(route).toMatchObject({ matched: 2, mismatched: 1 });
    expect(route!.acceptedAbsorbed).toEqual([{ id: 'gis-export-cancel-overwritten', observations: 3, paths: { '$.status': 2, '$.completed_at': 1 } }]);
    expect(route!.mismatchPaths.map((m) => m.path)).toEqual(['$.county_id']);
    expect(renderMarkdown(report)).toContain('## Accepted differences absorbed');
    expect(renderMarkdown(report)).toMatch(/gis-export-cancel-overwritten.*\| 3 \|/);
    expect(renderHtml(report)).toContain('<h2>Accepted differences absorbed</h2>');
  });

  it('counts mismatches by diff path once per observation, folding array indices, with an example diff', () => {
    const observations = [
      observation({ verdict: 'mismatched', path: '/x?newest', differences: [
        { path: '$.layers[0]', serving: '"parcels"', shadow: '"roads"' },
        { path: '$.layers[1]', serving: '"zoning"', shadow: '"roads"' },
        { path: '$.created_at', serving: '"t1"', shadow: '"t2"', ignoredBy: '$.created_at' },
      ] }),
      observation({ verdict: 'mismatched', differences: [{ path: '$.layers[3]', serving: '"a"', shadow: '"b"' }, { path: 'status', serving: '200', shadow: '500' }] }),
    ];
    const [route] = buildReport({ observations, routes: catalogue.routes }).routes;
    expect(route!.mismatchPaths).toEqual([
      { path: '$.layers[*]', count: 2, example: { observedAt: at.toISOString(), requestPath: '/x?newest', path: '$.layers[0]', serving: '"parcels"', shadow: '"roads"' } },
      { path: 'status', count: 1, example: expect.objectContaining({ serving: '200', shadow: '500' }) },
    ]);
  });

  it('reports p50/p95/p99 per side and the reimplementation-to-legacy ratio, leaving failed sides out', () => {
    const observations = [
      ...repeat(100, (i) => observation({ legacyMs: i + 1, reimplMs: 2 * (i + 1) })),
      observation({ verdict: 'errored', erroredSide: 'shadow', legacyMs: 1, shadow: { side: 'reimpl', status: null, latencyMs: 99_999, error: 'CUTOVER_ERR_UPSTREAM_TIMEOUT', body: null } }),
    ];
    const [route] = buildReport({ observations, routes: catalogue.routes }).routes;
    expect(route!.latencyMs.legacy).toEqual({ count: 101, p50: 50, p95: 95, p99: 99 });
    expect(route!.latencyMs.reimpl).toEqual({ count: 100, p50: 100, p95: 190, p99: 198 });
    expect(route!.latencyRatio).toEqual({ p50: 2, p95: 2, p99: 2 });
  });

  it('attributes latencies by side, not by role, when the reimplementation serves', () => {
    const reversed = observation({
      mode: 'reimpl',
      serving: { side: 'reimpl', status: 200, latencyMs: 4, error: null, body: null },
      shadow: { side: 'legacy', status: 200, latencyMs: 8, error: null, body: null },
    });
    const [route] = buildReport({ observations: [reversed], routes: catalogue.routes }).routes;
    expect(route!.latencyMs.legacy.p50).toBe(8);
    expect(route!.latencyMs.reimpl.p50).toBe(4);
    expect(route!.latencyRatio.p50).toBe(0.5);
  });

  it('shows each route with its current flag, flagged routes without observations too, and keeps uncatalogued ones', () => {
    const observations = [observation(), observation({ routeId: 'sync.retired-long-ago', path: '/old' })];
    const report = buildReport({ observations, routes: catalogue.routes, flags: flags({ 'sync.gis-export.status': 'canary', 'narrator.summarize': 'shadow' }) });
    expect(report.routes.map((route) => [route.routeId, route.mode, route.observations])).toEqual([
      ['sync.gis-export.status', 'canary', 1],
      ['narrator.summarize', 'shadow', 0],
      ['sync.retired-long-ago', 'legacy', 1],
    ]);
    expect(buildReport({ observations: [], routes: catalogue.routes, include: 'all' }).routes).toHaveLength(catalogue.routes.length);
  });

  it('has the percentile of a single value be that value, and none of nothing', () => {
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('a written report', () => {
  it('reads observations since a time from the store, lists unknown traffic and writes json, markdown and self-contained html', async () => {
    const store = new FakeObservationStore();
    await store.append([
      observation({ observedAt: new Date('2026-05-14T00:00:00Z') }),
      observation({ verdict: 'mismatched', differences: [{ path: '$.message', serving: '"<script>alert(1)</script>"', shadow: '"ok"' }] }),
      observation(),
    ]);
    const unknownTraffic = new FakeUnknownTrafficStore();
    await unknownTraffic.record([
      { service: 'sync', method: 'GET', path: '/internal/debug?x=1', at, count: 3 },
      { service: 'sync', method: 'GET', path: '/internal/debug?x=2', at, count: 2 },
      { service: 'gateway', method: 'GET', path: '/favicon.ico', at, count: 1 },
    ]);
    const report = await collectReport(
      { observations: store, unknownTraffic, catalogue, flags: async () => flags({ 'sync.gis-export.status': 'shadow' }) },
      { since: new Date('2026-05-15T00:00:00Z'), now: at },
    );
    expect(report.totals).toMatchObject({ observations: 2, matched: 1, mismatched: 1, parityRate: 0.5, unknownRequests: 6 });
    expect(report.unknownTraffic.map(({ path, count }) => [path, count])).toEqual([['/internal/debug', 5], ['/favicon.ico', 1]]);

    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const paths = writeReport(report, join(dir, 'reports', 'stamp'));
    expect(JSON.parse(readFileSync(paths.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    const markdown = readFileSync(paths.markdown, 'utf8');
    expect(markdown).toContain('| `sync.gis-export.status` | shadow | 2 | 1 | 1 | 0 | 0 | 50.0% |');
    expect(markdown).toContain('`/internal/debug` | 5 |');
    const html = readFileSync(paths.html, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|src=|href=/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('50.0%');
  });

  it('opens with the readiness verdict and failed criteria of each route, and counts failures per side by class', async () => {
    const store = new FakeObservationStore();
    await store.append([
      ...repeat(50, () => observation()),
      ...repeat(50, (index) => observation({ routeId: 'sync.health', path: '/health', verdict: index % 10 === 0 ? 'mismatched' : 'matched' })),
      observation({ verdict: 'errored', erroredSide: 'shadow', shadow: { side: 'reimpl', status: null, latencyMs: 5, error: 'CUTOVER_ERR_UPSTREAM_UNREACHABLE', body: null } }),
      observation({ verdict: 'errored', erroredSide: 'shadow', shadow: { side: 'reimpl', status: 503, latencyMs: 5, error: null, body: null } }),
    ]);
    const thresholds = configSchema.parse({}).gate.thresholds;
    const report = await collectReport(
      {
        observations: store,
        catalogue,
        readiness: async (since) => readinessSummary(await runGate({ observations: store, catalogue, thresholds }, { since: since!, now: at })),
      },
      { since: new Date('2026-05-15T00:00:00Z'), now: at },
    );
    expect(report.readiness!.routes.map((route) => [route.routeId, route.verdict])).toEqual([
      ['sync.health', 'NOT_READY'],
      ['sync.gis-export.status', 'NOT_READY'],
    ]);
    // 2 of 52 reimpl answers failed: even the lower bound of that rate is over the 1% ceiling.
    expect(report.readiness!.routes[1]!.failed.map((criterion) => criterion.id)).toEqual(['errors.ceiling']);
    expect(report.readiness!.verdict).toBe('NOT_READY');
    const status = report.routes.find((route) => route.routeId === 'sync.gis-export.status')!;
    expect(status.failures).toEqual({ legacy: {}, reimpl: { CUTOVER_FAIL_CONNECTION_REFUSED: 1, CUTOVER_FAIL_5XX: 1 } });
    const markdown = renderMarkdown(report);
    expect(markdown.indexOf('## Readiness')).toBeLessThan(markdown.indexOf('## Routes'));
    expect(markdown).toMatch(/\| `sync\.health` \| NOT_READY \| parity\.lower-bound 78\.640% >= 99\.900%/);
    expect(markdown).toContain('CUTOVER_FAIL_5XX 1, CUTOVER_FAIL_CONNECTION_REFUSED 1');
    const html = renderHtml(report);
    expect(html.indexOf('<h2>Readiness</h2>')).toBeLessThan(html.indexOf('<h2>Routes</h2>'));
    expect(html).toContain('<td class="bad">NOT_READY</td>');
    // The seed's targets beside the verdict, advisory: 30% faster, decreased CPU and memory (unmeasured: nothing was sampled).
    expect(report.readiness!.routes[0]!.advisory.map((criterion) => [criterion.id, criterion.status])).toEqual([
      ['latency.speed-target', expect.any(String)],
      ['resources.cpu', 'unmeasured'],
      ['resources.rss', 'unmeasured'],
    ]);
    expect(markdown).toMatch(/\| Seed targets \(advisory\) \|[\s\S]*resources\.cpu - <= 1\.0000 unmeasured; resources\.rss - <= 1\.0000 unmeasured \|/);
    expect(html).toContain('resources.rss - &lt;= 1.0000 unmeasured');
  });

  it('takes --since as an ISO instant or a duration back from now, and names a bad one', () => {
    const now = new Date('2026-05-15T12:00:00Z');
    expect(parseSince('6h', now).toISOString()).toBe('2026-05-15T06:00:00.000Z');
    expect(parseSince('2026-05-01T00:00:00Z', now).toISOString()).toBe('2026-05-01T00:00:00.000Z');
    expect(() => parseSince('yesterday', now)).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_USAGE' }));
  });
});
