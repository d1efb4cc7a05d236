/**
 * ObservationTallies: what the report and the readiness gate need of a window of observations,
 * per route — counts by verdict, mode and failure, the ignoring rules, the accepted differences,
 * the mismatch paths with one example each, and latency summarised (nearest-rank percentiles,
 * fixed buckets, the pieces of the Mann-Whitney U test). PostgreSQL computes them in SQL over
 * the day partitions (pg-observation-tallies.ts); `talliesOf` computes the same numbers directly
 * from observations (the fake store, buildReport over a list, and the test that holds the SQL
 * to it). Neither reads more than the window.
 */
import type { FlagMode } from '../../flags/flag.js';
import { percentile } from '../../gate/statistics/percentile.js';
import type { Side } from '../serving/decide.js';
import type { Observation, ObservedSide } from './observation.js';
import { latencyBucketsMs, type LatencyStats, type LatencyComparison, type SideOutcomeCount, type MismatchPathTally, type AcceptedTally, type RouteTally, type ParityHour, type ObservationTallies, type TallyQuery } from './route-tally.js';

// The shapes live in route-tally.ts (observation.ts names them without importing this file); their readers import them here, with the functions.
export { latencyBucketsMs };
export type { LatencyStats, LatencyComparison, SideOutcomeCount, MismatchPathTally, AcceptedTally, RouteTally, ParityHour, ObservationTallies, TallyQuery };

export const answered = (side: Omit<ObservedSide, 'body'>) => side.error === null && side.status !== null;
export const foldIndices = (path: string) => path.replace(/\[\d+\]/g, '[*]');

export const bucketOf = (ms: number) => {
  const index = latencyBucketsMs.findIndex((bound) => ms <= bound);
  return index === -1 ? latencyBucketsMs.length : index;
};

export function latencyStats(values: readonly number[]): LatencyStats {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
}

/** Ranks of the pooled samples (ties their mean rank): reimpl's rank sum and the tie term. */
export function latencyComparison(legacy: readonly number[], reimpl: readonly number[]): LatencyComparison {
  const pooled = [...reimpl.map((value) => ({ value, reimpl: true })), ...legacy.map((value) => ({ value, reimpl: false }))].sort((a, b) => a.value - b.value);
  let reimplRankSum = 0;
  let tieTerm = 0;
  for (let start = 0; start < pooled.length; ) {
    let end = start;
    while (end + 1 < pooled.length && pooled[end + 1]!.value === pooled[start]!.value) end++;
    const mean = (start + end) / 2 + 1;
    for (let at = start; at <= end; at++) if (pooled[at]!.reimpl) reimplRankSum += mean;
    const t = end - start + 1;
    tieTerm += t * t * t - t;
    start = end + 1;
  }
  return { legacy: latencyStats(legacy), reimpl: latencyStats(reimpl), reimplRankSum, tieTerm };
}

const byKey = <T>(entries: Iterable<[string, T]>) => Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

function routeTally(routeId: string, observations: readonly Observation[]): RouteTally {
  // Newest first, as the store lists them: the examples come from the newest observation.
  const ordered = [...observations].sort((a, b) => b.observedAt.getTime() - a.observedAt.getTime() || (b.id ?? 0) - (a.id ?? 0));
  const counts = { matched: 0, mismatched: 0, ignored: 0, errored: 0 };
  const ignoredBy = new Map<string, number>();
  const erroredBySide = { serving: 0, shadow: 0, both: 0 };
  const sides = new Map<string, SideOutcomeCount>();
  const reimplServing = new Map<string, SideOutcomeCount & { mode: FlagMode }>();
  const all: Record<Side, number[]> = { legacy: [], reimpl: [] };
  const buckets: Record<Side, number[]> = { legacy: new Array<number>(latencyBucketsMs.length + 1).fill(0), reimpl: new Array<number>(latencyBucketsMs.length + 1).fill(0) };
  const copies: Record<Side, number[]> = { legacy: [], reimpl: [] };
  const split: Record<Side, number[]> = { legacy: [], reimpl: [] };
  const modes = new Set<FlagMode>();
  const accepted = new Map<string, { observations: number; paths: Map<string, number> }>();
  const mismatches = new Map<string, MismatchPathTally>();
  let first = ordered[0]!.observedAt;
  for (const observation of ordered) {
    if (observation.observedAt < first) first = observation.observedAt;
    counts[observation.verdict] += 1;
    modes.add(observation.mode);
    if (observation.verdict === 'ignored') for (const rule of observation.ignoredBy) ignoredBy.set(rule, (ignoredBy.get(rule) ?? 0) + 1);
    if (observation.verdict === 'errored' && observation.erroredSide) erroredBySide[observation.erroredSide] += 1;
    if (servedByReimpl(observation.mode, observation.serving.side)) countReimplServing(reimplServing, observation.mode, observation.serving, 1);
    for (const side of [observation.serving, observation.shadow]) {
      const key = `${side.side}\u0000${side.status}\u0000${side.error}`;
      const entry = sides.get(key) ?? { side: side.side, status: side.status, error: side.error, count: 0 };
      entry.count += 1;
      sides.set(key, entry);
      if (answered(side)) {
        all[side.side].push(side.latencyMs);
        buckets[side.side][bucketOf(side.latencyMs)]! += 1;
      }
    }
    if (observation.mode === 'canary' && answered(observation.serving)) split[observation.serving.side].push(observation.serving.latencyMs);
    else if (observation.mode !== 'canary' && answered(observation.serving) && answered(observation.shadow)) {
      copies[observation.serving.side].push(observation.serving.latencyMs);
      copies[observation.shadow.side].push(observation.shadow.latencyMs);
    }
    const acceptedHere = new Map<string, Set<string>>();
    for (const difference of observation.differences) {
      if (difference.disposition?.as !== 'accepted') continue;
      const paths = acceptedHere.get(difference.disposition.id) ?? new Set<string>();
      paths.add(foldIndices(difference.path));
      acceptedHere.set(difference.disposition.id, paths);
    }
    for (const [id, paths] of acceptedHere) {
      const entry = accepted.get(id) ?? { observations: 0, paths: new Map<string, number>() };
      entry.observations += 1;
      for (const path of paths) entry.paths.set(path, (entry.paths.get(path) ?? 0) + 1);
      accepted.set(id, entry);
    }
    if (observation.verdict !== 'mismatched') continue;
    const seen = new Set<string>();
    for (const difference of observation.differences) {
      // Only mismatches: a correlated, noisy or accepted difference in a mismatched observation is not why it mismatched.
      if (difference.ignoredBy || (difference.disposition && difference.disposition.as !== 'mismatch')) continue;
      const path = foldIndices(difference.path);
      if (seen.has(path)) continue;
      seen.add(path);
      const entry = mismatches.get(path);
      if (entry) entry.count += 1;
      else mismatches.set(path, { path, count: 1, example: { observedAt: observation.observedAt.toISOString(), requestPath: observation.path, path: difference.path, serving: difference.serving ?? null, shadow: difference.shadow ?? null } });
    }
  }
  const newest = ordered[0]!;
  return {
    routeId,
    service: newest.service,
    method: newest.method,
    observations: ordered.length,
    ...counts,
    firstObservedAt: first,
    sampledOut: 0,
    modes: [...modes].sort(),
    ignoredBy: byKey(ignoredBy),
    erroredBySide,
    sides: [...sides.values()].sort(compareSides),
    reimplServing: [...reimplServing.values()].sort(compareReimplServing),
    accepted: [...accepted].sort(([a], [b]) => a.localeCompare(b)).map(([id, entry]) => ({ id, observations: entry.observations, paths: byKey(entry.paths) })),
    mismatchPaths: [...mismatches.values()].sort(compareMismatchPaths),
    latency: {
      all: { legacy: latencyStats(all.legacy), reimpl: latencyStats(all.reimpl) },
      buckets,
      copies: latencyComparison(copies.legacy, copies.reimpl),
      split: latencyComparison(split.legacy, split.reimpl),
    },
  };
}

/** Whether an observation's serving answer was the reimplementation's under canary or reimpl (where a fallback may happen). */
export const servedByReimpl = (mode: FlagMode, servingSide: Side) => servingSide === 'reimpl' && (mode === 'canary' || mode === 'reimpl');

/** Adds `count` answers of the reimplementation serving under `mode` with this status and error. */
export function countReimplServing(into: Map<string, SideOutcomeCount & { mode: FlagMode }>, mode: FlagMode, side: { status: number | null; error: string | null }, count: number): void {
  const key = `${mode}\u0000${side.status}\u0000${side.error}`;
  const entry = into.get(key) ?? { mode, side: 'reimpl', status: side.status, error: side.error, count: 0 };
  entry.count += count;
  into.set(key, entry);
}

/** Mode, then status and error as compareSides orders them. */
export const compareReimplServing = (a: SideOutcomeCount & { mode: FlagMode }, b: SideOutcomeCount & { mode: FlagMode }) => (a.mode < b.mode ? -1 : a.mode > b.mode ? 1 : compareSides(a, b));

/** Side, then status (null first), then error (null first): one order for both computations. */
export function compareSides(a: SideOutcomeCount, b: SideOutcomeCount): number {
  if (a.side !== b.side) return a.side < b.side ? -1 : 1;
  if (a.status !== b.status) return a.status === null ? -1 : b.status === null ? 1 : a.status - b.status;
  if (a.error !== b.error) return a.error === null ? -1 : b.error === null ? 1 : a.error < b.error ? -1 : 1;
  return 0;
}

export const compareMismatchPaths = (a: MismatchPathTally, b: MismatchPathTally) => b.count - a.count || a.path.localeCompare(b.path);

/** The tallies of `observations` (already the window), computed directly; `sampledOut` per route when known. */
export function talliesOf(observations: readonly Observation[], query: TallyQuery = {}, sampledOut: ReadonlyMap<string, number> = new Map()): ObservationTallies {
  const byRoute = new Map<string, Observation[]>();
  const hours = new Map<string, ParityHour>();
  for (const observation of observations) {
    if (query.since !== undefined && observation.observedAt < query.since) continue;
    if (query.routeIds !== undefined && !query.routeIds.includes(observation.routeId)) continue;
    const list = byRoute.get(observation.routeId);
    if (list) list.push(observation);
    else byRoute.set(observation.routeId, [observation]);
    if (observation.verdict !== 'matched' && observation.verdict !== 'mismatched') continue;
    const hour = new Date(Math.floor(observation.observedAt.getTime() / 3_600_000) * 3_600_000).toISOString();
    const point = hours.get(hour) ?? { hour, matched: 0, mismatched: 0 };
    point[observation.verdict] += 1;
    hours.set(hour, point);
  }
  return {
    routes: [...byRoute].sort(([a], [b]) => (a < b ? -1 : 1)).map(([routeId, list]) => ({ ...routeTally(routeId, list), sampledOut: sampledOut.get(routeId) ?? 0 })),
    parityByHour: [...hours.values()].sort((a, b) => (a.hour < b.hour ? -1 : 1)),
  };
}

/**
 * A store whose tallies of a window are computed once for the report and the gate that goes with
 * it: a query naming routes, over a window whose whole tallies are already asked for, is answered
 * from those (a route's tallies do not depend on other routes). `cutover report` reads both at once.
 */
export function sharedTallies(store: { tallies(query?: TallyQuery): Promise<ObservationTallies> }): { tallies(query?: TallyQuery): Promise<ObservationTallies> } {
  const whole = new Map<number | undefined, Promise<ObservationTallies>>();
  return {
    tallies(query = {}) {
      const key = query.since?.getTime();
      if (query.routeIds === undefined) {
        const asked = whole.get(key) ?? store.tallies(query);
        whole.set(key, asked);
        return asked;
      }
      const pending = whole.get(key);
      if (!pending) return store.tallies(query);
      const wanted = new Set(query.routeIds);
      return pending.then((tallies) => ({ routes: tallies.routes.filter((route) => wanted.has(route.routeId)), parityByHour: [] }));
    },
  };
}
