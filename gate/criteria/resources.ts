/**
 * Resources: CPU time per request and peak RSS of each side's processes over the window, beside
 * the seed's criterion (decreased CPU and memory), sampled from the processes the harness runs
 * (gate/resource-samples.ts). Advisory unless config.gate.thresholds.resourcesGating says so;
 * unmeasured when a side's usage was not sampled in the window.
 */
import type { GateThresholds } from '../../src/config/schema.js';
import type { CriterionResult } from '../criterion.js';

export interface SideResources {
  /** CPU milliseconds (user + system) per request served over the window. */
  cpuMsPerRequest: number;
  /** Peak resident set size over the window, bytes. */
  peakRssBytes: number;
  /** Requests this side's processes were sent over the window, when known. */
  requests?: number;
  /** The processes measured (service ids), when known. */
  processes?: string[];
}

export type ResourceUsage = { legacy: SideResources; reimpl: SideResources; service?: string };

function criterion(id: string, title: string, ratio: number | null, detail: string, thresholds: GateThresholds): CriterionResult {
  return {
    id,
    title,
    value: ratio,
    comparison: '<=',
    threshold: 1,
    status: ratio === null ? 'unmeasured' : ratio <= 1 ? 'pass' : 'fail',
    gating: thresholds.resourcesGating,
    detail,
  };
}

const ratioOf = (reimpl: number, legacy: number) => (legacy > 0 ? reimpl / legacy : null);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const over = (usage: ResourceUsage) => {
  const side = (resources: SideResources) => (resources.processes ? `${resources.processes.join(' + ')}${resources.requests === undefined ? '' : `, ${resources.requests} requests`}` : '');
  const legacy = side(usage.legacy);
  const reimpl = side(usage.reimpl);
  return legacy || reimpl ? `; ${usage.service ? `service ${usage.service}: ` : ''}legacy ${legacy}; reimpl ${reimpl}` : '';
};

export const cpuTitle = 'reimpl / legacy CPU time per request (seed: decreased CPU)';
export const rssTitle = 'reimpl / legacy peak RSS (seed: decreased memory)';

/** reimpl / legacy CPU per request, and peak RSS: both at most 1 (the seed's decreased CPU and memory). */
export function resourceCriteria(usage: ResourceUsage | undefined, thresholds: GateThresholds): CriterionResult[] {
  if (!usage) {
    const none = 'no process usage sampled for this window (the harness samples the processes it runs: cutover up, the main job)';
    return [criterion('resources.cpu', cpuTitle, null, none, thresholds), criterion('resources.rss', rssTitle, null, none, thresholds)];
  }
  const { legacy, reimpl } = usage;
  return [
    criterion('resources.cpu', cpuTitle, ratioOf(reimpl.cpuMsPerRequest, legacy.cpuMsPerRequest), `reimpl ${reimpl.cpuMsPerRequest.toFixed(2)} ms, legacy ${legacy.cpuMsPerRequest.toFixed(2)} ms per request${over(usage)}`, thresholds),
    criterion('resources.rss', rssTitle, ratioOf(reimpl.peakRssBytes, legacy.peakRssBytes), `reimpl ${mib(reimpl.peakRssBytes)}, legacy ${mib(legacy.peakRssBytes)} at peak`, thresholds),
  ];
}
