/**
 * `cutover scaffold route` in a temporary copy of the tree: the catalogue gains exactly one line
 * (comments and format kept) that its loader accepts, the handler is registered in the service's
 * app and answers 501 there, and the contract test and fixture folder are written.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { scaffoldCommand } from '../../src/cli/commands/scaffold.js';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import { repoRoot } from '../../src/platform/paths.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'scaffold-'));
  for (const part of ['flags', 'reimpl', 'src', 'parity/compare', 'tests/contract/gateway', 'legacy/terrafusion_gateway/development_secrets.json', 'tsconfig.json', 'package.json']) {
    cpSync(join(repoRoot, part), join(root, part), { recursive: true });
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function scaffold(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
  try {
    return { code: await scaffoldCommand.run([...argv, '--root', root]), out: lines.join('\n') };
  } finally {
    log.mockRestore();
  }
}

describe('cutover scaffold route', () => {
  const original = () => readFileSync(join(repoRoot, 'flags/routes.yaml'), 'utf8');

  it('adds one catalogue line after the service’s last route, keeping every other line, and the loader accepts it', async () => {
    const result = await scaffold('route', 'sync.parcels.history', '--service', 'sync', '--method', 'get', '--path', '/parcels/{parcel_id}/history');
    expect(result.code).toBe(0);
    expect(result.out).toContain('the contract test fails until the route is implemented');
    const lines = readFileSync(join(root, 'flags/routes.yaml'), 'utf8').split('\n');
    const added = lines.findIndex((line) => line.includes('sync.parcels.history'));
    expect(lines[added]).toBe("  - { id: sync.parcels.history, service: sync, method: GET, path: '/parcels/{parcel_id}/history', owner: team-sync, writes: false, compare: *plain }");
    expect(lines.filter((_, index) => index !== added).join('\n')).toBe(original());
    const route = loadRouteCatalogue(join(root, 'flags/routes.yaml')).routes.find((candidate) => candidate.id === 'sync.parcels.history');
    expect(route).toMatchObject({ service: 'sync', method: 'GET', path: '/parcels/{parcel_id}/history', owner: 'team-sync', writes: false, compare: { headers: ['content-type'] } });
  });

  it('writes the handler with its legacy-route header, registered in the sync app, where it answers 501', async () => {
    const handler = readFileSync(join(root, 'reimpl/sync/parcels-history.ts'), 'utf8');
    expect(handler).toMatch(/^\/\*\*\n \* GET \/parcels\/\{parcel_id\}\/history \(route sync\.parcels\.history; legacy: /);
    const app = readFileSync(join(root, 'reimpl/sync/app.ts'), 'utf8');
    expect(app).toContain("import { registerParcelsHistory } from './parcels-history.js';");
    expect(app).toContain('  registerParcelsHistory(app);');
    const { buildSyncApp } = (await import(join(root, 'reimpl/sync/app.ts'))) as typeof import('../../reimpl/sync/app.js');
    const sync = await buildSyncApp({
      host: '127.0.0.1', port: 0, databaseUrl: 'postgres://nobody@127.0.0.1:9/none', schema: undefined, countyConfigsDir: join(repoRoot, 'legacy/county_configs'),
      exportDir: root, environment: 'development', deployment: undefined, gisExportWorkers: 1, gisExportWorkerLifetime: { idleLifetimeMs: 0, rssCeilingMb: 0 }, fixes: new Set(), mountGisExport: false,
    });
    try {
      const reply = await sync.inject({ method: 'GET', url: '/parcels/P-1/history' });
      expect(reply.statusCode).toBe(501);
      expect(reply.json()).toEqual({ detail: 'Not Implemented: sync.parcels.history is scaffolded, not written yet' });
    } finally {
      await sync.close();
    }
  });

  it('writes a contract test that fails on the scaffold’s 501, and the fixture folder', () => {
    const test = readFileSync(join(root, 'tests/contract/sync/parcels-history.test.ts'), 'utf8');
    expect(test).toContain("await call('/parcels/example-parcel_id/history', { method: 'GET', baseUrl: platform.syncUrl })");
    expect(test).toContain('.not.toBe(501)');
    expect(existsSync(join(root, 'tests/contract/gateway/gateway-client.ts'))).toBe(true);
    expect(existsSync(join(root, 'parity/fixtures/sync.parcels.history'))).toBe(true);
  });

  it('names bad inputs and refuses a route that exists', async () => {
    const error = await scaffold('route', 'parcels', '--method', 'FETCH').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CUTOVER_ERR_SCAFFOLD_INVALID' });
    for (const named of ['--service', "--method must be one of GET|POST|PUT|PATCH|DELETE, got 'FETCH'", '--path', "<route-id> 'parcels'"]) expect((error as Error).message).toContain(named);
    await expect(scaffold('route', 'sync.health', '--service', 'sync', '--method', 'GET', '--path', '/health2')).rejects.toMatchObject({ code: 'CUTOVER_ERR_SCAFFOLD_EXISTS' });
    await expect(scaffold('route', 'sync.parcels.history', '--service', 'sync', '--method', 'GET', '--path', '/x')).rejects.toMatchObject({ code: 'CUTOVER_ERR_SCAFFOLD_EXISTS' });
    await expect(scaffold('route', 'sync.bad.path', '--service', 'sync', '--method', 'GET', '--path', 'no-slash')).rejects.toMatchObject({ code: 'CUTOVER_ERR_ROUTES_INVALID' });
    await expect(scaffold('route', 'sync.x', '--service', 'sync', '--method', 'GET', '--path', '/x', '--upstream', 'gisExport')).rejects.toMatchObject({ code: 'CUTOVER_ERR_SCAFFOLD_INVALID' });
    await expect(scaffold('thing')).rejects.toMatchObject({ code: 'CUTOVER_ERR_USAGE' });
  });
});
