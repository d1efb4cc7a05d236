// Where correlation ids live (the real route catalogue) and how a request naming A becomes the
// shadow copy naming B: paths of sync and gateway passthrough routes, query, header, JSON body.
import { describe, expect, it } from 'vitest';
import { loadRouteCatalogue, parseRouteCatalogue } from '../../../flags/route-catalogue.js';
import type { SideResult } from '../../../proxy/serving/capture.js';
import { isStateful } from '../../../proxy/stateful/correlation-shadow.js';
import { learnPairs, legacyToReimpl, requestIds, rewriteForShadow, type Correlation } from '../../../proxy/stateful/correlation.js';

const catalogue = loadRouteCatalogue();
const pair = (servingId: string, shadowId: string, servingSide: 'legacy' | 'reimpl' = 'legacy'): Correlation => ({ name: 'job_id', routeId: 'x.run', servingSide, servingId, shadowId });
const answer = (side: 'legacy' | 'reimpl', status: number, body: unknown): SideResult => ({
  side, status, headers: {}, body: Buffer.from(JSON.stringify(body)), truncated: false, latencyMs: 1, failure: undefined,
});
const get = (path: string) => ({ method: 'GET', path, headers: ['accept', 'application/json'], body: null });

describe('learning pairs from a shadowed run', () => {
  it('pairs the job ids both sides answered a GIS export run with, serving first', () => {
    const run = catalogue.byId('sync.gis-export.run')!;
    expect(learnPairs(run, answer('legacy', 200, { job_id: 'A' }), answer('reimpl', 200, { job_id: 'B' }))).toEqual([
      { name: 'job_id', routeId: 'sync.gis-export.run', servingSide: 'legacy', servingId: 'A', shadowId: 'B' },
    ]);
  });

  it('pairs report ids of reporting runs through the gateway passthrough', () => {
    const run = catalogue.byId('gateway.reporting.run')!;
    expect(learnPairs(run, answer('reimpl', 202, { report_id: 'R1' }), answer('legacy', 202, { report_id: 'R2' }))[0]).toMatchObject({ servingSide: 'reimpl', servingId: 'R1', shadowId: 'R2' });
  });

  it('learns nothing from refused runs, or when either side has no id', () => {
    const run = catalogue.byId('sync.valuation.run')!;
    expect(learnPairs(run, answer('legacy', 422, { detail: [] }), answer('reimpl', 422, { detail: [] }))).toEqual([]);
    expect(learnPairs(run, answer('legacy', 200, { job_id: 'A' }), answer('reimpl', 200, { status: 'PENDING' }))).toEqual([]);
  });

  it('orients pairs legacy → reimpl for the comparison engine whichever side serves', () => {
    expect([...legacyToReimpl([pair('A', 'B'), pair('C', 'D', 'reimpl')])]).toEqual([['A', 'B'], ['D', 'C']]);
  });
});

describe('the shadow copy of a request naming a correlated job', () => {
  const known = (id: string) => (id === 'A' ? pair('A', 'B') : undefined);

  it('names B in the path of every job read and cancel, on sync and on the gateway passthroughs', () => {
    const paths = [
      '/plugins/v1/gis-export/status/A', '/plugins/v1/gis-export/results/A', '/plugins/v1/gis-export/download/A',
      '/plugins/v1/reporting/status/A', '/plugins/v1/market-analysis/results/A', '/plugins/v1/valuation/status/A',
      '/api/v1/gis-export/status/A', '/api/v1/gis-export/results/A', '/api/v1/reporting/results/A', '/api/v1/valuation/status/A',
    ];
    for (const path of paths) {
      const service = path.startsWith('/api') ? 'gateway' : 'sync';
      const route = catalogue.match(service, 'GET', path)!;
      const { request, used } = rewriteForShadow(route, get(`${path}?verbose=1`), known);
      expect(request.path, route.id).toBe(`${path.slice(0, -1)}B?verbose=1`);
      expect(used).toEqual([pair('A', 'B')]);
    }
    const cancel = catalogue.match('gateway', 'POST', '/api/v1/gis-export/cancel/A')!;
    expect(rewriteForShadow(cancel, { ...get('/api/v1/gis-export/cancel/A'), method: 'POST' }, known).request.path).toBe('/api/v1/gis-export/cancel/B');
  });

  it('leaves the request untouched, the same object, when no id it names is correlated', () => {
    const route = catalogue.byId('sync.gis-export.status')!;
    const original = get('/plugins/v1/gis-export/status/Z');
    expect(rewriteForShadow(route, original, known)).toEqual({ request: original, used: [] });
  });

  it('swaps the id in a JSON body (narrator analysis of an export) and fixes content-length', () => {
    const route = catalogue.byId('narrator.analyze.gis-export')!;
    const body = Buffer.from('{"job_id": "A", "detail": "long"}');
    const long = (id: string) => (id === 'A' ? pair('A', 'BBBBBB') : undefined);
    const { request } = rewriteForShadow(route, { method: 'POST', path: '/api/v1/ai/analyze/gis-export', headers: ['Content-Length', String(body.length)], body }, long);
    expect(request.body!.toString()).toBe('{"job_id": "BBBBBB", "detail": "long"}');
    expect(request.headers).toEqual(['Content-Length', String(request.body!.length)]);
  });

  it('swaps ids named in a query parameter or a header, leaving the rest byte for byte', () => {
    const route = parseRouteCatalogue({
      version: 1,
      routes: [{ id: 'sync.jobs.find', service: 'sync', method: 'GET', path: '/find', owner: 't', writes: false,
        correlation: [{ id: 'job_id', in: 'query', at: 'job' }, { id: 'job_id', in: 'header', at: 'x-job' }] }],
    }).byId('sync.jobs.find')!;
    const { request } = rewriteForShadow(route, { method: 'GET', path: '/find?a=%20x&job=A&b=2', headers: ['X-Job', 'A', 'accept', '*/*'], body: null }, known);
    expect(request.path).toBe('/find?a=%20x&job=B&b=2');
    expect(request.headers).toEqual(['X-Job', 'B', 'accept', '*/*']);
  });
});

describe('routes without stateful shadowing', () => {
  it('are the catalogue routes whose requests name no id to swap and whose answers teach no pair, and the job routes are not among them', () => {
    const plain = catalogue.routes.filter((route) => !isStateful(route));
    expect(plain.length).toBeGreaterThan(0);
    expect(['sync.gis-export.run', 'sync.gis-export.status', 'gateway.reporting.run'].map((id) => isStateful(catalogue.byId(id)!))).toEqual([true, true, true]);
    const ids = { job_id: 'job-1', id: 'job-1', report_id: 'job-1', export_id: 'job-1' };
    for (const route of plain) {
      const path = route.path.replace(/\{[^}]+\}/g, 'job-1');
      const request = { method: route.method, path: `${path}?job_id=job-1`, headers: ['x-job-id', 'job-1'], body: Buffer.from(JSON.stringify(ids)) };
      expect({ route: route.id, ids: requestIds(route, request) }).toEqual({ route: route.id, ids: [] });
      expect({ route: route.id, pairs: learnPairs(route, answer('legacy', 200, ids), answer('reimpl', 200, { ...ids, job_id: 'job-2', id: 'job-2' })) }).toEqual({ route: route.id, pairs: [] });
    }
  });
});
