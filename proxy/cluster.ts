/**
 * The proxy on several cores: node cluster workers share the front-door ports, and each runs
 * startProxy with parts built by a setup module in the worker itself. The default setup
 * (worker-setup.ts) gives every worker its own LiveFlagSource — LISTEN/NOTIFY brings a flag
 * change to all of them within a second, so they decide alike — and its own PostgreSQL
 * observation store writing to the one shared table. The primary serves the workers'
 * metrics summed (counters, histograms) or de-duplicated (flag gauges) through one registry.
 */
import cluster, { type Worker } from 'node:cluster';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Service } from '../flags/route-catalogue.js';
import type { CutoverConfig } from '../src/config/schema.js';
import { CutoverError } from '../src/errors.js';

const here = dirname(fileURLToPath(import.meta.url));
// From source the workers run through tsx like their primary; a built tree (cutover bundle) has the .js beside.
const fromSource = import.meta.url.endsWith('.ts');
const moduleExtension = fromSource ? '.ts' : '.js';

export interface ProxyClusterOptions {
  config: CutoverConfig;
  /** Worker processes; one per core is the usual choice. */
  workers: number;
  services?: readonly Service[];
  /** Module (absolute path) whose `setupProxyWorker(config)` builds a worker's parts; default proxy/worker-setup.ts. */
  setupModule?: string;
}

export interface RunningProxyCluster {
  urls: Partial<Record<Service, string>>;
  /** Every worker's metrics in one exposition: mount it like a single proxy's registry. */
  metricsRegistry: Registry;
  close(): Promise<void>;
}

/** Message from a worker once its front doors listen. */
export interface WorkerReady {
  type: 'cutover-proxy-ready';
  urls: Partial<Record<Service, string>>;
}

/** What the primary sends a worker to start it (through the environment, as JSON). */
export interface WorkerBrief {
  config: CutoverConfig;
  services: readonly Service[];
  setupModule: string;
}

class ClusterRegistry extends AggregatorRegistry<'text/plain; version=0.0.4; charset=utf-8'> {
  // The admin server calls metrics(); here that means asking every worker.
  override metrics(): Promise<string> {
    return this.clusterMetrics();
  }
}

/** Starts `workers` proxy processes; resolves when all of them listen. Call from the primary only. */
export async function startProxyCluster(options: ProxyClusterOptions): Promise<RunningProxyCluster> {
  if (!cluster.isPrimary) throw new Error('startProxyCluster must be called in the primary process');
  const brief: WorkerBrief = {
    config: options.config,
    services: options.services ?? ['gateway', 'sync', 'narrator'],
    setupModule: options.setupModule ?? join(here, `worker-setup${moduleExtension}`),
  };
  cluster.setupPrimary({ exec: join(here, `cluster-worker${moduleExtension}`), execArgv: fromSource ? ['--import', 'tsx'] : [] });
  // The kernel spreads new connections over the workers; round-robin in the primary would put it on every accept.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const workers: Worker[] = [];
  let urls: RunningProxyCluster['urls'] = {};
  let closing = false;
  const started = Array.from({ length: options.workers }, () => {
    const worker = cluster.fork({ CUTOVER_PROXY_WORKER: JSON.stringify(brief) });
    workers.push(worker);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerReady) => {
        if (message?.type !== 'cutover-proxy-ready') return;
        urls = message.urls;
        resolve();
      });
      worker.once('exit', (code) => {
        if (!closing) reject(new CutoverError('CUTOVER_ERR_SERVICE_DIED', `proxy worker ${worker.process.pid} exited with ${code} during start`));
      });
    });
  });
  const close = async () => {
    closing = true;
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.send({ type: 'cutover-proxy-close' });
            // A worker that cannot flush in time is stopped: shutdown must finish.
            setTimeout(() => worker.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  };
  try {
    await Promise.all(started);
  } catch (error) {
    await close();
    throw error;
  }
  return { urls, metricsRegistry: new ClusterRegistry(), close };
}
