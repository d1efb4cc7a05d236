/**
 * Every metric the Grafana dashboard and the Prometheus rules (deploy/) read is exported on the
 * /metrics endpoints of real running servers: the platform under test's services (legacy, or
 * the reimplementation with CUTOVER_TARGET=reimpl) and a proxy started as `cutover proxy`
 * starts it, admin port included. A renamed metric fails here, not on the on-call's screen.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { startProxyServer, type ProxyServer } from '../../../src/platform/proxy-server.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../../setup/isolated-database.js';
import { namesToExport } from '../../observe/deploy-observability.js';
import { exportedNames } from '../../observe/promql-names.js';

const platform = inject('platform');
let database: IsolatedDatabase;
let server: ProxyServer;

beforeAll(async () => {
  database = await createIsolatedDatabase('observe_names');
  const config = loadConfig({
    env: {},
    overrides: {
      proxy: { gateway: { port: 0 }, sync: { port: 0 }, narrator: { port: 0 }, admin: { port: 0 } },
    },
  });
  server = await startProxyServer({ config, databaseUrl: database.url, log: () => undefined });
});

afterAll(async () => {
  await server?.close();
  await database?.drop();
});

async function scrape(url: string): Promise<Set<string>> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return exportedNames(await response.text());
}

describe('the metrics the dashboard and the rules read', () => {
  it('are all exported by the proxy admin port and the services under test', async () => {
    const endpoints = [
      `${server.adminUrl}/metrics`,
      `${platform.syncUrl}/metrics`,
      `${platform.syncUrl}/plugins/v1/gis-export/metrics`,
      `${platform.narratorUrl}/api/v1/metrics`,
    ];
    const exported = new Set<string>();
    for (const endpoint of endpoints) for (const name of await scrape(endpoint)) exported.add(name);
    const wanted = namesToExport();
    expect(wanted.size).toBeGreaterThan(20);
    const missing = [...wanted].filter(([name]) => !exported.has(name)).map(([name, users]) => `${name} (read by ${[...new Set(users)].join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('include the proxy\'s flag, shadow and rollout families on the admin port', async () => {
    const admin = await scrape(`${server.adminUrl}/metrics`);
    for (const name of ['cutover_flag_store_state', 'cutover_proxy_shadow_dropped_total', 'cutover_proxy_shadow_timeouts_total', 'cutover_proxy_failures_total', 'cutover_rollout_rollbacks_total']) expect(admin.has(name), name).toBe(true);
  });
});
