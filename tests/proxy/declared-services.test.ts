/**
 * Services declared, not coded: a small platform that is not TerraFusion (an inventory
 * service with a separate pricing reimplementation, and a ledger nobody configured) is
 * catalogued by its own routes file and proxied, with its upstreams as URLs in the config.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRouteCatalogue, type RouteCatalogue } from '../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { loadConfig } from '../../src/config/load.js';
import { call, eventually, ManualFlags, startUpstream, type TestUpstream } from './harness.js';

const routesYaml = `
version: 1
services:
  - { name: inventory, door: 18080, upstreams: [inventory, pricing] }
  - { name: ledger, upstreams: [ledger] }
routes:
  - { id: inventory.items.list, service: inventory, method: GET, path: /items, owner: team-stock, writes: false, compare: { headers: [], ignore: [] } }
  - { id: inventory.items.get, service: inventory, method: GET, path: '/items/{sku}', owner: team-stock, writes: false }
  - { id: inventory.orders.create, service: inventory, method: POST, path: /orders, owner: team-stock, writes: true }
  - { id: inventory.prices.quote, service: inventory, method: POST, path: /prices/quote, owner: team-pricing, writes: false, upstream: pricing }
  - { id: ledger.entries.list, service: ledger, method: GET, path: /entries, owner: team-ledger, writes: false }
`;

function writeRoutes(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cutover-routes-')), 'routes.yaml');
  writeFileSync(file, text);
  return file;
}

function caught(run: () => unknown): Error & { code?: string } {
  try {
    run();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected an error, none was thrown');
}

let catalogue: RouteCatalogue;
let legacy: TestUpstream;
let reimpl: TestUpstream;
let pricing: TestUpstream;
let flags: ManualFlags;
let store: FakeObservationStore;
let proxy: RunningProxy;

beforeAll(async () => {
  catalogue = loadRouteCatalogue(writeRoutes(routesYaml));
  [legacy, reimpl, pricing] = await Promise.all(['legacy-inventory', 'reimpl-inventory', 'reimpl-pricing'].map(startUpstream)) as [TestUpstream, TestUpstream, TestUpstream];
  const config = loadConfig({
    env: {},
    overrides: {
      proxy: {
        doors: { inventory: { port: 0 }, ledger: { port: 0 } },
        // The shadow instances and the ledger are given nowhere: missing, answered 502.
        upstreams: { legacy: { inventory: legacy.url }, reimpl: { inventory: reimpl.url, pricing: pricing.url } },
        observations: { flushIntervalMs: 20 },
        shadow: { timeoutMs: 2000 },
      },
    },
  });
  flags = new ManualFlags();
  store = new FakeObservationStore();
  proxy = await startProxy({ config, catalogue, flagSource: flags, observationStore: store, random: () => 0 });
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all([legacy, reimpl, pricing].map((upstream) => upstream?.close()));
});

describe('a platform that is not TerraFusion, declared in its own routes file', () => {
  it('opens one front door per declared service', () => {
    expect(Object.keys(proxy.urls).sort()).toEqual(['inventory', 'ledger']);
    expect(catalogue.services.find((service) => service.name === 'inventory')).toEqual({ name: 'inventory', door: 18080, upstreams: ['inventory', 'pricing'] });
  });

  it('serves a route from the legacy upstream of its service', async () => {
    const answer = await call(`${proxy.urls.inventory}/items/sku-1`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toMatchObject({ side: 'legacy-inventory', url: '/items/sku-1' });
    expect(answer.headers['x-cutover-route']).toBe('inventory.items.get');
  });

  it('shadows a route to the reimplementation and records the comparison', async () => {
    flags.set('inventory.items.list', 'shadow');
    const answer = await call(`${proxy.urls.inventory}/items?page=2`);
    expect(JSON.parse(answer.body.toString())).toMatchObject({ side: 'legacy-inventory' });
    await proxy.flushObservations();
    const observations = await eventually(async () => {
      const found = await store.list({ routeId: 'inventory.items.list' });
      return found.length > 0 ? found : undefined;
    });
    expect(observations[0]).toMatchObject({ service: 'inventory', path: '/items?page=2', serving: { status: 200 }, shadow: { status: 200 } });
    expect(reimpl.seen.map((seen) => seen.url)).toContain('/items?page=2');
  });

  it('sends a route that names another upstream there on the reimplementation side', async () => {
    flags.set('inventory.prices.quote', 'reimpl');
    const answer = await call(`${proxy.urls.inventory}/prices/quote`, { method: 'POST', body: '{"sku":"a"}' });
    expect(JSON.parse(answer.body.toString())).toMatchObject({ side: 'reimpl-pricing', body: '{"sku":"a"}' });
  });

  it('answers 502 naming the variable to set for a service whose upstream is given nowhere', async () => {
    const answer = await call(`${proxy.urls.ledger}/entries`);
    expect(answer.status).toBe(502);
    const body = JSON.parse(answer.body.toString());
    expect(body).toMatchObject({ code: 'CUTOVER_ERR_UPSTREAM_UNREACHABLE', route: 'ledger.entries.list', side: 'legacy' });
    expect(body.message).toContain('CUTOVER_UPSTREAM_LEGACY_LEDGER');
  });

  it('records the shadow copy of a write as errored when its shadow instance is given nowhere, and still serves it', async () => {
    flags.set('inventory.orders.create', 'shadow');
    const answer = await call(`${proxy.urls.inventory}/orders`, { method: 'POST', body: '{"n":1}' });
    expect(JSON.parse(answer.body.toString())).toMatchObject({ side: 'legacy-inventory' });
    await proxy.flushObservations();
    const [observation] = await store.list({ routeId: 'inventory.orders.create' });
    expect(observation).toMatchObject({ verdict: 'errored', erroredSide: 'shadow', shadow: { error: 'CUTOVER_ERR_UPSTREAM_UNREACHABLE' } });
  });
});

describe('a routes file with services', () => {
  it('stops the start when a route names an upstream its service does not declare (a typo once fell back silently)', () => {
    const typo = routesYaml.replace('upstream: pricing', 'upstream: pricng');
    const error = caught(() => loadRouteCatalogue(writeRoutes(typo)));
    expect(error).toMatchObject({ code: 'CUTOVER_ERR_ROUTES_INVALID' });
    expect(error.message).toMatch(/routes\[3\] \(inventory\.prices\.quote\)\.upstream: upstream pricng names none of service inventory's upstreams \(inventory, pricing\)/);
  });

  it('refuses a route of a service it does not declare', () => {
    const stray = routesYaml.replace('service: ledger, method: GET', 'service: payroll, method: GET').replace('id: ledger.entries.list', 'id: payroll.entries.list');
    expect(() => loadRouteCatalogue(writeRoutes(stray))).toThrow(/service payroll is not declared under services/);
  });

  it('declares the TerraFusion services in flags/routes.yaml, with the GIS export as sync\'s second upstream', () => {
    const real = loadRouteCatalogue();
    expect(real.services).toEqual([
      { name: 'gateway', door: 8000, upstreams: ['gateway'] },
      { name: 'sync', door: 8001, upstreams: ['sync', 'gisExport'] },
      { name: 'narrator', door: 8002, upstreams: ['narrator'] },
    ]);
  });
});
