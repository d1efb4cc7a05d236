import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRouteCatalogue, parseRouteCatalogue, type Route } from '../../flags/route-catalogue.js';
import { contractRoutes } from './legacy-contract-routes.js';

const catalogue = loadRouteCatalogue();
const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** A concrete request path for a template: every `{param}` filled in. */
function sample(template: string): string {
  return template.replace(/\{[^}]+\}/g, 'x-123');
}

function route(overrides: Partial<Route> & { id: string }): Record<string, unknown> {
  return { service: 'sync', method: 'GET', path: '/health', owner: 'team-sync', writes: false, ...overrides };
}

describe('the route catalogue', () => {
  it('catalogues every route of the legacy contract tables', () => {
    const contract = contractRoutes();
    // 40 table rows once alternatives like {summarize,classify,explain} are expanded.
    expect(contract.length).toBeGreaterThanOrEqual(40);
    const missing: string[] = [];
    for (const entry of contract) {
      const where = `${entry.service} ${entry.method} ${entry.path} (legacy-contract.md:${entry.line})`;
      if (entry.path.endsWith('/...')) {
        // A family like /api/v1/valuation/...: at least one named route under it, not just the catch-all.
        const base = entry.path.slice(0, -3);
        const named = catalogue.routes.some((r) => r.service === entry.service && r.path.startsWith(base) && !r.path.includes('*}'));
        if (!named) missing.push(where);
        continue;
      }
      const isCatchAll = entry.path.endsWith('}') && entry.path.lastIndexOf('{') > entry.path.lastIndexOf('/') && entry.method === '*';
      const tried = entry.method === '*' ? methods : [entry.method];
      const matched = tried.map((method) => catalogue.match(entry.service, method, sample(entry.path))).filter((r): r is Route => r !== undefined);
      const exact = matched.filter((r) => isCatchAll || !r.path.includes('*}'));
      if (exact.length === 0) missing.push(where);
    }
    expect(missing).toEqual([]);
  });

  it('catalogues the job plugins the contract describes in prose (reporting, market analysis, valuation)', () => {
    for (const plugin of ['reporting', 'market-analysis', 'valuation']) {
      expect(catalogue.match('sync', 'POST', `/plugins/v1/${plugin}/run`)?.id).toBe(`sync.${plugin}.run`);
      expect(catalogue.match('sync', 'GET', `/plugins/v1/${plugin}/status/x-1`)?.id).toBe(`sync.${plugin}.status`);
      expect(catalogue.match('sync', 'GET', `/plugins/v1/${plugin}/results/x-1`)?.id).toBe(`sync.${plugin}.results`);
    }
  });

  it('gives every route a unique id that starts with its service, and an owner', () => {
    const ids = catalogue.routes.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of catalogue.routes) {
      expect(r.id.startsWith(`${r.service}.`)).toBe(true);
      expect(r.owner).not.toBe('');
    }
  });

  it('matches a templated path to its route, ignoring the query string', () => {
    expect(catalogue.match('sync', 'GET', '/plugins/v1/gis-export/status/6f1c?verbose=1')?.id).toBe('sync.gis-export.status');
    expect(catalogue.match('sync', 'POST', '/plugins/v1/gis-export/run')?.id).toBe('sync.gis-export.run');
    expect(catalogue.match('gateway', 'POST', '/auth/login')?.id).toBe('gateway.auth.login');
    expect(catalogue.match('narrator', 'POST', '/api/v1/summarize')?.id).toBe('narrator.summarize');
  });

  it('prefers a named route over the gateway passthrough, which takes any other /api path and method', () => {
    expect(catalogue.match('gateway', 'POST', '/api/v1/gis-export/run')?.id).toBe('gateway.gis-export.run');
    expect(catalogue.match('gateway', 'DELETE', '/api/v1/whatever/deep/path')?.id).toBe('gateway.api.passthrough');
    expect(catalogue.match('gateway', 'GET', '/api')).toBeUndefined();
  });

  it('keeps services apart: a sync path on the narrator matches nothing', () => {
    expect(catalogue.match('narrator', 'GET', '/counties')).toBeUndefined();
    expect(catalogue.match('sync', 'GET', '/counties')?.id).toBe('sync.counties.list');
  });

  it('matches nothing for an unknown path, a wrong method or an empty parameter', () => {
    expect(catalogue.match('sync', 'GET', '/nowhere')).toBeUndefined();
    expect(catalogue.match('sync', 'DELETE', '/counties')).toBeUndefined();
    expect(catalogue.match('sync', 'GET', '/counties/')).toBeUndefined();
    expect(catalogue.match('sync', 'GET', 'counties')).toBeUndefined();
  });

  it('answers HEAD with the GET route', () => {
    expect(catalogue.match('sync', 'HEAD', '/health')?.id).toBe('sync.health');
  });

  it('marks the job-creating routes as writing and points the GIS export at its own upstream', () => {
    expect(catalogue.byId('sync.gis-export.run')).toMatchObject({ writes: true, upstream: 'gisExport' });
    expect(catalogue.byId('sync.gis-export.status')).toMatchObject({ writes: false, correlation: [{ id: 'job_id', in: 'path', at: 'job_id' }] });
    expect(catalogue.byId('sync.gis-export.run')?.compare.paths?.['$.created_at']).toEqual({ as: 'timestamp', format: 'same', window: 'job', notBefore: [], windowSlackMs: 5 });
  });

  // Its speed is the proxy bench's (CPU per request beside nginx), never a timed assertion here:
  // what a test can hold is that a million look-ups, cached or not, answer the same every time.
  it('matches a million requests the same way every time', () => {
    const paths = ['/plugins/v1/gis-export/status/abc', '/health', '/counties/benton_wa', '/nowhere/at/all'];
    const seen = new Map<string, number>();
    for (let i = 0; i < 1_000_000; i++) {
      const id = catalogue.match('sync', 'GET', paths[i & 3]!)?.id ?? 'none';
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    expect(Object.fromEntries(seen)).toEqual({ 'sync.gis-export.status': 250_000, 'sync.health': 250_000, 'sync.counties.get': 250_000, none: 250_000 });
  });

  it('rejects a bad file with CUTOVER_ERR_ROUTES_INVALID naming the route and field', () => {
    const bad = { version: 1, routes: [route({ id: 'sync.health', method: 'FETCH' })] };
    expect(() => parseRouteCatalogue(bad)).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_ROUTES_INVALID', message: expect.stringContaining('routes[0] (sync.health).method') }));
  });

  it('rejects duplicate ids, two routes for the same requests, a foreign id prefix and a missing path parameter', () => {
    const cases = [
      [route({ id: 'sync.a' }), route({ id: 'sync.a', path: '/b' })],
      [route({ id: 'sync.a', path: '/x/{id}' }), route({ id: 'sync.b', path: '/x/{other}' })],
      [route({ id: 'gateway.a' })],
      [route({ id: 'sync.a', correlation: [{ id: 'job_id', in: 'path', at: 'job_id' }] })],
    ];
    for (const routes of cases) {
      expect(() => parseRouteCatalogue({ version: 1, routes })).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_ROUTES_INVALID' }));
    }
  });

  it('rejects a file that is not YAML or cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'routes-'));
    writeFileSync(join(dir, 'bad.yaml'), 'routes: [unclosed');
    expect(() => loadRouteCatalogue(join(dir, 'bad.yaml'))).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_ROUTES_INVALID' }));
    expect(() => loadRouteCatalogue(join(dir, 'absent.yaml'))).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_ROUTES_INVALID' }));
  });
});
