/**
 * Samples the processes the harness runs, every gate.resourceSampleIntervalMs: each service's
 * whole process group from /proc (CPU seconds, RSS), beside the number of requests the proxy
 * had sent to that side of that service, into the ResourceSampleStore the gate reads over its
 * window (gate/resource-samples.ts). Shadow instances count for their side: they serve the
 * shadow copies the proxy counts for it.
 */
import type { Registry } from 'prom-client';
import type { RouteCatalogue } from '../../flags/route-catalogue.js';
import type { Side } from '../../proxy/serving/decide.js';
import type { ResourceSample, ResourceSampleStore } from '../../gate/resource-samples.js';
import { upstreamEnvName } from '../config/schema.js';
import { readProcessGroupsUsage } from './process-usage.js';

export interface SampledProcess {
  /** The supervisor's service id: `<legacy|reimpl|shadow-legacy|shadow-reimpl>.<upstream>`. */
  id: string;
  /** Its process group (the supervisor makes each service a group leader). */
  pid: number;
}

/** The side and front-door service a supervised process serves, read from its id and the catalogue's upstreams; undefined for others (ollama). */
export function servedBy(id: string, catalogue: Pick<RouteCatalogue, 'services'>): { side: Side; service: string } | undefined {
  const match = /^(legacy|reimpl|shadow-legacy|shadow-reimpl)\.(.+)$/.exec(id);
  if (!match) return undefined;
  const upstream = upstreamEnvName(match[2]!);
  const service = catalogue.services.find((declared) => declared.upstreams.some((name) => upstreamEnvName(name) === upstream));
  return service ? { side: match[1]!.endsWith('legacy') ? 'legacy' : 'reimpl', service: service.name } : undefined;
}

/** Requests the proxy sent upstream so far per `service/side` (serving and shadow), from its latency histogram's counts. */
export async function upstreamRequestCounts(registry: Registry): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const metric = registry.getSingleMetric('cutover_proxy_upstream_duration_seconds');
  if (!metric) return counts;
  // A histogram's values carry their series name (_bucket, _sum, _count); prom-client's type leaves it out.
  for (const value of (await metric.get()).values as ReadonlyArray<{ metricName?: string; labels: Record<string, string | number>; value: number }>) {
    if (!value.metricName?.endsWith('_count')) continue;
    const key = `${String(value.labels.service)}/${String(value.labels.side)}`;
    counts.set(key, (counts.get(key) ?? 0) + value.value);
  }
  return counts;
}

export interface ResourceSamplerOptions {
  processes: () => readonly SampledProcess[];
  catalogue: Pick<RouteCatalogue, 'services'>;
  /** Requests sent so far per `service/side`. */
  requests: () => Promise<ReadonlyMap<string, number>>;
  store: Pick<ResourceSampleStore, 'append'>;
  intervalMs: number;
  clock?: () => Date;
  log?: (line: string) => void;
}

export interface ResourceSampler {
  /** Takes one sample of every process now and stores it; resolves with what was stored. */
  sample(): Promise<ResourceSample[]>;
  start(): void;
  /** Stops the timer after a last sample, so a window ending now has its end measured. */
  stop(): Promise<void>;
}

export function createResourceSampler(options: ResourceSamplerOptions): ResourceSampler {
  const clock = options.clock ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<ResourceSample[]> | undefined;
  let failures = 0;

  async function sampleOnce(): Promise<ResourceSample[]> {
    const requests = await options.requests();
    // One instant for the whole tick: peak RSS sums the groups of a side at the same tick.
    const sampledAt = clock();
    const samples: ResourceSample[] = [];
    const processes = options.processes().filter((process) => process.pid > 0);
    const usages = readProcessGroupsUsage(processes.map((process) => process.pid));
    for (const process of processes) {
      const served = servedBy(process.id, options.catalogue);
      if (!served) continue;
      const usage = usages.get(process.pid);
      if (!usage) continue;
      samples.push({ sampledAt, ...served, instance: process.id, pid: process.pid, cpuSeconds: usage.cpuSeconds, rssBytes: usage.rssBytes, hwmBytes: usage.hwmBytes, requests: requests.get(`${served.service}/${served.side}`) ?? 0 });
    }
    await options.store.append(samples);
    return samples;
  }

  const sample = () => {
    // Samples never overlap: a slow store is waited for, not doubled.
    running ??= sampleOnce().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    sample,
    start() {
      timer ??= setInterval(() => {
        sample().then(
          () => (failures = 0),
          (error: Error) => {
            // Said once per run of failures, not every tick.
            if (failures++ === 0) options.log?.(`resource sampling failed: ${error.message}`);
          },
        );
      }, options.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
      await sample().catch(() => undefined);
    },
  };
}
