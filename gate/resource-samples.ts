/**
 * Process usage samples of each side's services, and what the resources criterion reads of
 * them over a window: CPU time per request served and peak RSS, per front-door service and side.
 * A sample holds counters (CPU seconds, requests the proxy sent that side of that service), so
 * a window's figure is the counters' rise across it: samples, not rates, are stored, and any
 * window can be asked for afterwards.
 */
import type { Route, RouteCatalogue } from '../flags/route-catalogue.js';
import type { Side } from '../proxy/serving/decide.js';
import type { ResourceUsage, SideResources } from './criteria/resources.js';

export interface ResourceSample {
  sampledAt: Date;
  /** The front-door service whose requests this process serves (sync, gateway, narrator). */
  service: string;
  side: Side;
  /** The process's service id (legacy.sync, reimpl.gis-export, shadow-reimpl.sync...). */
  instance: string;
  /** Its process group id (the supervisor starts each service as a group leader). */
  pid: number;
  /** CPU seconds of the whole group since it started (a counter). */
  cpuSeconds: number;
  /** Resident memory of the whole group when sampled. */
  rssBytes: number;
  /** Summed peak RSS (VmHWM) of the group's processes since they started. */
  hwmBytes: number;
  /** Requests the proxy had sent to this side of this service when sampled, serving and shadow (a counter). */
  requests: number;
}

export interface ResourceSampleStore {
  append(samples: readonly ResourceSample[]): Promise<void>;
  /** Samples taken in [since, until], oldest first. */
  list(query: { since: Date; until?: Date }): Promise<ResourceSample[]>;
  close(): Promise<void>;
}

/** The rise of a counter over time-ordered readings; a drop (the process or the proxy restarted) restarts it from zero. */
function rise(readings: ReadonlyArray<{ key: string | number; value: number }>): number {
  let total = 0;
  for (let i = 1; i < readings.length; i++) {
    const previous = readings[i - 1]!;
    const current = readings[i]!;
    total += current.key !== previous.key || current.value < previous.value ? current.value : current.value - previous.value;
  }
  return total;
}

/** One side of one service over the window: CPU and requests risen, peak RSS of the summed groups at a tick. */
function sideOver(samples: readonly ResourceSample[]): (SideResources & { requests: number; cpuMs: number; processes: string[]; samples: number }) | undefined {
  const byInstance = new Map<string, ResourceSample[]>();
  const byTick = new Map<number, number>();
  for (const sample of samples) {
    const list = byInstance.get(sample.instance) ?? [];
    list.push(sample);
    byInstance.set(sample.instance, list);
    byTick.set(sample.sampledAt.getTime(), (byTick.get(sample.sampledAt.getTime()) ?? 0) + sample.rssBytes);
  }
  let cpuSeconds = 0;
  for (const list of byInstance.values()) cpuSeconds += rise(list.map((sample) => ({ key: sample.pid, value: sample.cpuSeconds })));
  // Every instance of a side and service carries the same request counter at a tick: one instance's readings say it.
  const first = [...byInstance.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  const requests = rise(first.map((sample) => ({ key: 0, value: sample.requests })));
  if (first.length < 2 || requests <= 0) return undefined;
  const cpuMs = cpuSeconds * 1000;
  return { cpuMsPerRequest: cpuMs / requests, peakRssBytes: Math.max(...byTick.values()), requests, cpuMs, processes: [...byInstance.keys()].sort(), samples: byTick.size };
}

export type MeasuredUsage = ResourceUsage & { service: string; from: Date; to: Date };

/** Each service's usage per side over the samples given (one window); a service with a side unmeasured is left out. */
export function usageByService(samples: readonly ResourceSample[]): Map<string, MeasuredUsage> {
  const groups = new Map<string, ResourceSample[]>();
  for (const sample of samples) {
    const key = `${sample.service}\u0000${sample.side}`;
    const list = groups.get(key) ?? [];
    list.push(sample);
    groups.set(key, list);
  }
  const usage = new Map<string, MeasuredUsage>();
  for (const service of new Set(samples.map((sample) => sample.service))) {
    const of = (side: Side) => groups.get(`${service}\u0000${side}`) ?? [];
    const legacy = sideOver(of('legacy'));
    const reimpl = sideOver(of('reimpl'));
    if (!legacy || !reimpl) continue;
    const times = [...of('legacy'), ...of('reimpl')].map((sample) => sample.sampledAt.getTime());
    usage.set(service, { service, legacy, reimpl, from: new Date(Math.min(...times)), to: new Date(Math.max(...times)) });
  }
  return usage;
}

/** The gate's `resources` source over a window: a route is measured by its service's processes. */
export async function resourcesOver(store: Pick<ResourceSampleStore, 'list'>, catalogue: Pick<RouteCatalogue, 'byId'>, window: { since: Date; until?: Date }): Promise<(routeId: string) => MeasuredUsage | undefined> {
  const usage = usageByService(await store.list(window));
  return (routeId: string) => {
    const route: Route | undefined = catalogue.byId(routeId);
    return route ? usage.get(route.service) : undefined;
  };
}
