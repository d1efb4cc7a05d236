/**
 * The proxy as the benchmark runs it: its own process — or a cluster of N workers through
 * startProxyCluster, as `cutover up` would run it — with two routes, /pass in legacy mode
 * (pass-through) and /shadow in shadow mode, static flags and an observation store that
 * discards, so what is measured is the proxy (comparison included), not a database.
 * Usage: BENCH_PROXY='{"port":..,"legacy":..,"reimpl":..,"workers":1}' node --import tsx bench/proxy-server.ts
 */
import { fileURLToPath } from 'node:url';
import { staticFlagSource } from '../flags/flag.js';
import { parseRouteCatalogue } from '../flags/route-catalogue.js';
import { loadConfig } from '../src/config/load.js';
import type { CutoverConfig } from '../src/config/schema.js';
import { startProxyCluster } from '../proxy/cluster.js';
import { startProxy } from '../proxy/start.js';
import type { ProxyWorkerSetup } from '../proxy/worker-setup.js';

interface Settings {
  port: number;
  legacy: number;
  reimpl: number;
  workers: number;
}

/** The bench's parts of a proxy: used in-process, and by each cluster worker through this module. */
export const setupProxyWorker: ProxyWorkerSetup = async () => ({
  catalogue: parseRouteCatalogue({
    version: 1,
    routes: [
      { id: 'sync.bench.pass', service: 'sync', method: 'GET', path: '/pass', owner: 'bench', writes: false },
      { id: 'sync.bench.shadow', service: 'sync', method: 'GET', path: '/shadow', owner: 'bench', writes: false },
    ],
  }),
  flagSource: staticFlagSource({
    flags: new Map([['sync.bench.shadow', { routeId: 'sync.bench.shadow', mode: 'shadow', percent: 0 }]]),
    killSwitch: false,
    state: 'live',
    loadedAt: new Date(),
  }),
  observationStore: { append: async () => undefined, list: async () => [], outcomes: async () => [], addSampledOut: async () => undefined, tallies: async () => ({ routes: [], parityByHour: [] }), prune: async () => 0, close: async () => undefined },
  close: async () => undefined,
});

function benchConfig(settings: Settings): CutoverConfig {
  return loadConfig({
    env: {},
    overrides: {
      legacy: { sync: { port: settings.legacy } },
      reimpl: { sync: { port: settings.reimpl } },
      // BENCH_PROXY_SHADOW (JSON, proxy.shadow's options) tries other shadow bounds against the defaults, e.g. '{"perRouteConcurrency":256}'.
      proxy: { sync: { port: settings.port }, connectionsPerUpstream: 64, shadow: JSON.parse(process.env.BENCH_PROXY_SHADOW ?? '{}') as Record<string, number> },
    },
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const settings = JSON.parse(process.env.BENCH_PROXY ?? '{}') as Settings;
  const config = benchConfig(settings);
  if (settings.workers > 1) {
    await startProxyCluster({ config, workers: settings.workers, services: ['sync'], setupModule: fileURLToPath(import.meta.url) });
  } else {
    await startProxy({ config, services: ['sync'], ...(await setupProxyWorker(config)) });
  }
  process.send?.({ ready: true });
  // Exit cleanly on a signal so `--cpu-prof` can write its profile (cluster workers go with the primary).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
}
