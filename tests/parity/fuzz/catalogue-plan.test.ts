import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRoutesFile, loadRouteCatalogue, parseRouteCatalogue } from '../../../flags/route-catalogue.js';
import type { InputSpace } from '../../../parity/runner/fuzz-arbitraries.js';
import { bodyRouteOf, creatorsOf, planRoute } from '../../../parity/runner/fuzz-catalogue.js';
import { fuzzCatalogue } from '../../../parity/runner/fuzz-catalogue-run.js';
import { SideTarget } from '../../../parity/runner/fuzz-exchange.js';

const space: InputSpace = {
  counties: [{ countyId: 'test_county', formats: ['GeoJSON', 'KML'], extent: { x0: -120.6, y0: 46.5, x1: -120.4, y1: 46.7 }, propertyIds: ['test_county-0000001', 'test_county-0000002'], zipCodes: ['98901'] }],
};

/** The real catalogue with one more route, as a team would add it: a line in routes.yaml, no code. */
function catalogueWithZoning() {
  const document = parse(readFileSync(defaultRoutesFile, 'utf8')) as { routes: unknown[] };
  document.routes.push({
    id: 'sync.zoning.list', service: 'sync', method: 'GET', path: '/zoning', owner: 'team-sync', writes: false,
    query: { county_id: 'county', limit: { int: { min: 1, max: 50 } } }, compare: { headers: ['content-type'], ignore: [] },
  });
  return parseRouteCatalogue(document);
}

/** A stand-in service answering `{"zones": limit}`; the "reimplementation" one wrongly caps limit at 40. */
async function zoningService(cap: number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/zoning') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
      return;
    }
    const raw = url.searchParams.getAll('limit').at(-1);
    const limit = raw === undefined ? 100 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
      res.writeHead(422, { 'content-type': 'application/json' }).end('{"detail":"bad limit"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ zones: Math.min(limit, cap) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('fuzz plans built from the route catalogue', () => {
  let legacy: Awaited<ReturnType<typeof zoningService>>;
  let reimpl: Awaited<ReturnType<typeof zoningService>>;
  beforeAll(async () => {
    [legacy, reimpl] = await Promise.all([zoningService(50), zoningService(40)]);
  });
  afterAll(async () => {
    await Promise.all([legacy?.close(), reimpl?.close()]);
  });

  it('fuzzes a newly catalogued route without code, and finds its difference', async () => {
    const catalogue = catalogueWithZoning();
    const plan = planRoute(catalogue.byId('sync.zoning.list')!, catalogue, space);
    expect(plan.inputs).toEqual(['query county_id', 'query limit']);
    const requests = fc.sample(plan.cases, { numRuns: 300, seed: 3 }).map((fuzzCase) => plan.request(fuzzCase));
    expect(requests.every((request) => request.method === 'GET' && request.path.startsWith('/zoning'))).toBe(true);
    const limits = requests.flatMap((request) => new URL(request.path, 'http://x').searchParams.getAll('limit'));
    // Inside the bounds, on and past them, and not numbers at all.
    expect(limits.some((limit) => Number(limit) >= 1 && Number(limit) <= 50)).toBe(true);
    expect(limits).toEqual(expect.arrayContaining(['0', '51']));
    expect(limits.some((limit) => Number.isNaN(Number(limit)))).toBe(true);

    const result = await fuzzCatalogue({
      catalogue, routes: 'sync.zoning.list', runs: 60, seed: 3, space,
      legacy: new SideTarget({ sync: legacy.url }), reimpl: new SideTarget({ sync: reimpl.url }), maxCounterexamples: 1,
    });
    const [zoning] = result.results;
    expect(zoning!.routeId).toBe('sync.zoning.list');
    expect(zoning!.counterexamples).toHaveLength(1);
    expect(zoning!.counterexamples[0]!.mismatches.join('\n')).toContain('$.zones');
    // Shrunk to a limit just past the cap, not the first large one drawn.
    expect(Number(new URL(zoning!.counterexamples[0]!.request.path, 'http://x').searchParams.get('limit'))).toBeGreaterThan(40);
  }, 60_000);

  it('has a plan for every catalogued route, with the records each acts on made by a route the catalogue names', () => {
    const catalogue = loadRouteCatalogue();
    for (const route of catalogue.routes) expect(planRoute(route, catalogue, space).inputs, route.id).toBeDefined();
    const ids = (routeId: string, id?: string) => creatorsOf(catalogue.byId(routeId)!, catalogue, id).map((route) => route.id).sort();
    expect(ids('sync.gis-export.cancel', 'job_id')).toEqual(['sync.gis-export.run']);
    expect(ids('sync.reporting.reports.update', 'report_id')).toEqual(['sync.reporting.reports.create']);
    // One table, one id space (contract 1b.B): the status route reads jobs of /run and of /reports.
    expect(ids('sync.reporting.status', 'report_id')).toEqual(['sync.reporting.reports.create', 'sync.reporting.run']);
    expect(ids('gateway.gis-export.status', 'job_id')).toEqual(['gateway.gis-export.run']);
    expect(ids('sync.market-analysis.plugin.list')).toEqual(['sync.market-analysis.plugin.run']);
    expect(bodyRouteOf(catalogue.byId('gateway.gis-export.run')!, catalogue)).toBe('sync.gis-export.run');
    expect(bodyRouteOf(catalogue.byId('sync.market-analysis.doubled.run')!, catalogue)).toBe('sync.market-analysis.plugin.run');
    expect(bodyRouteOf(catalogue.byId('gateway.market-analysis.plugin.cancel')!, catalogue)).toBe('sync.market-analysis.plugin.cancel');
  });

  it('sends gateway routes with each demo user\'s login, a forged token or none, and path values encoded or raw', () => {
    const catalogue = loadRouteCatalogue();
    const plan = planRoute(catalogue.byId('gateway.gis-export.cancel')!, catalogue, space);
    const requests = fc.sample(plan.cases, { numRuns: 400, seed: 5 }).map((fuzzCase) => plan.request(fuzzCase));
    expect(new Set(requests.map((request) => request.as ?? 'none'))).toEqual(new Set(['admin', 'assessor', 'staff', 'auditor', 'forged', 'none']));
    const made = requests.filter((request) => request.setup);
    expect(made.length).toBeGreaterThan(100);
    expect(made.every((request) => request.setup!.route!.id === 'gateway.gis-export.run' && request.setup!.request.as === 'admin')).toBe(true);
    // Some cancels race the job they cancel, some wait for it to end.
    expect(new Set(made.map((request) => request.setup!.follow))).toEqual(new Set([true, false]));
    expect(requests.some((request) => /\/cancel\/(%25|\.\.|%2e)/i.test(request.path) || /\/cancel\/%/.test(request.path))).toBe(true);
  });

  it('analyses a GIS job the route its body correlation names (madeBy) made first and followed, or an id naming nothing', () => {
    const catalogue = loadRouteCatalogue();
    const plan = planRoute(catalogue.byId('narrator.analyze.gis-export')!, catalogue, space);
    const requests = fc.sample(plan.cases, { numRuns: 200, seed: 7 }).map((fuzzCase) => plan.request(fuzzCase));
    const made = requests.filter((request) => request.setup);
    expect(made.length).toBeGreaterThan(40);
    for (const request of made) {
      expect(request.setup).toMatchObject({ route: { id: 'sync.gis-export.run' }, placeholder: '{job_id}', idAt: '$.job_id', follow: true });
      expect((JSON.parse(request.body!) as { job_id: unknown }).job_id).toBe('{job_id}');
    }
    const others = requests.filter((request) => !request.setup && request.body?.startsWith('{"'));
    expect(others.some((request) => typeof (JSON.parse(request.body!) as { job_id?: unknown }).job_id === 'string')).toBe(true);
  });

  it('refuses a madeBy that names no route whose answer carries the id', () => {
    const document = parse(readFileSync(defaultRoutesFile, 'utf8')) as { routes: Array<{ id: string; correlation?: Array<Record<string, string>> }> };
    document.routes.find((route) => route.id === 'narrator.analyze.gis-export')!.correlation![0]!.madeBy = 'sync.gis-export.status';
    expect(() => parseRouteCatalogue(document)).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_ROUTES_INVALID', message: expect.stringContaining('madeBy sync.gis-export.status names no route whose answer carries job_id') }));
  });
});
