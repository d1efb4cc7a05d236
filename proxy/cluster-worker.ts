/**
 * Entry point of one proxy cluster worker (forked by cluster.ts): builds its parts with the
 * setup module, starts the front doors on the shared ports, reports ready, and on the
 * primary's word flushes its observations and exits.
 */
import { AggregatorRegistry } from 'prom-client';
import type { WorkerBrief, WorkerReady } from './cluster.js';
import type { ProxyWorkerSetup } from './worker-setup.js';
import { startProxy } from './start.js';

const brief = JSON.parse(process.env.CUTOVER_PROXY_WORKER ?? 'null') as WorkerBrief | null;
if (!brief) throw new Error('cluster-worker.ts is started by startProxyCluster, not by hand');

const { setupProxyWorker } = (await import(brief.setupModule)) as { setupProxyWorker: ProxyWorkerSetup };
const parts = await setupProxyWorker(brief.config);
const proxy = await startProxy({ config: brief.config, services: brief.services, ...parts });
// The primary's AggregatorRegistry collects this worker's proxy registry; constructing one here is what makes prom-client answer its requests.
AggregatorRegistry.setRegistries([proxy.metrics.registry]);
new AggregatorRegistry();

const shutdown = async () => {
  await proxy.close();
  await parts.close();
  process.exit(0);
};
process.on('message', (message: { type?: string }) => {
  if (message?.type === 'cutover-proxy-close') void shutdown();
});
process.send?.({ type: 'cutover-proxy-ready', urls: proxy.urls } satisfies WorkerReady);
