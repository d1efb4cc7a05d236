/**
 * Resources: CPU time and peak RSS per request of each side's processes over the window, beside
 * the seed's criterion (decreased CPU and memory). Advisory unless config.gate.thresholds.
 * resourcesGating says so; unmeasured when no side's usage was sampled.
 */
import type { GateThresholds } from '../../src/config/schema.js';
import type { CriterionResult } from '../criterion.js';

export interface SideResources {
  /** CPU milliseconds (user + system) per request served over the window. */
  cpuMsPerRequest: number;
  /** Peak resident set size over the window, bytes. */
  peakRssBytes: number;
}

export type ResourceUsage = { legacy: SideResources; reimpl: SideResources };

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

/** reimpl / legacy CPU per request, and peak RSS: both at most 1 (not increased). */
export function resourceCriteria(usage: ResourceUsage | undefined, thresholds: GateThresholds): CriterionResult[] {
  if (!usage) {
    const none = 'no process usage sampled for this window';
    return [
      criterion('resources.cpu', 'reimpl / legacy CPU time per request', null, none, thresholds),
      criterion('resources.rss', 'reimpl / legacy peak RSS', null, none, thresholds),
    ];
  }
  const { legacy, reimpl } = usage;
  return [
    criterion('resources.cpu', 'reimpl / legacy CPU time per request', ratioOf(reimpl.cpuMsPerRequest, legacy.cpuMsPerRequest), `reimpl ${reimpl.cpuMsPerRequest.toFixed(2)} ms, legacy ${legacy.cpuMsPerRequest.toFixed(2)} ms per request`, thresholds),
    criterion('resources.rss', 'reimpl / legacy peak RSS', ratioOf(reimpl.peakRssBytes, legacy.peakRssBytes), `reimpl ${(reimpl.peakRssBytes / 2 ** 20).toFixed(1)} MiB, legacy ${(legacy.peakRssBytes / 2 ** 20).toFixed(1)} MiB`, thresholds),
  ];
}
