import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgFlagStore } from '../../flags/pg-flag-store.js';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import { startProxyCluster, type RunningProxyCluster } from '../../proxy/cluster.js';
import { PgObservationStore } from '../../proxy/observe/pg-observation-store.js';
import { loadConfig } from '../../src/config/load.js';
import { migrateHarness } from '../../src/db/migrate.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';
import { call, eventually, startUpstreams, type TestUpstream, type Upstreams } from './harness.js';

let database: IsolatedDatabase;
let upstreams: Upstreams;
let proxy: RunningProxyCluster;

beforeAll(async () => {
  database = await createIsolatedDatabase('proxy_cluster');
  await migrateHarness(database.url);
  upstreams = await startUpstreams();
  const at = (upstream: TestUpstream) => ({ host: '127.0.0.1', port: upstream.port });
  const config = loadConfig({
    env: {},
    overrides: {
      database: { url: database.url },
      legacy: { sync: at(upstreams.legacy) },
      reimpl: { sync: at(upstreams.reimpl) },
      proxy: { sync: { port: 0 }, observations: { flushIntervalMs: 20 } },
    },
  });
  proxy = await startProxyCluster({ config, workers: 2, services: ['sync'] });
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await Promise.all((Object.values(upstreams) as TestUpstream[]).map((upstream) => upstream.close()));
  await database?.drop();
});

describe('the proxy as a cluster of workers', () => {
  it('applies a flag change in every worker, records observations from all of them in one table, and sums their metrics', async () => {
    const flags = createPgFlagStore({ url: database.url, catalogue: loadRouteCatalogue() });
    const observations = new PgObservationStore(database.url);
    try {
      await flags.set({ pattern: 'sync.health', mode: 'shadow', actor: 'test', reason: 'cluster test' });
      // Fresh connections each time, so the kernel spreads them over both workers.
      await eventually(async () => {
        const answers = await Promise.all(Array.from({ length: 20 }, () => call(`${proxy.urls.sync}/health`, { headers: { connection: 'close' } })));
        return answers.every((answer) => answer.headers['x-cutover-route'] === 'sync.health') && upstreams.reimpl.seen.length >= 20 ? true : undefined;
      }, 5000);
      const recorded = await eventually(async () => {
        const rows = await observations.list({ routeId: 'sync.health' });
        return rows.length >= 20 ? rows : undefined;
        // Each worker starts its comparison worker on its first shadowed exchange.
      }, 15_000);
      expect(recorded.every((row) => row.mode === 'shadow' && row.serving.side === 'legacy')).toBe(true);
      const exposition = await proxy.metricsRegistry.metrics();
      // Counted in whichever worker served them, summed by the primary: every request the legacy upstream saw.
      const counted = [...exposition.matchAll(/cutover_proxy_requests_total\{service="sync",route="sync.health",mode="\w+",served_by="legacy"\} (\d+)/g)];
      expect(counted.reduce((sum, match) => sum + Number(match[1]), 0)).toBe(upstreams.legacy.seen.length);
      expect(exposition).toContain('cutover_flag_mode{route="sync.health",mode="shadow"} 1');
    } finally {
      await flags.close();
      await observations.close();
    }
  }, 30_000);
});
