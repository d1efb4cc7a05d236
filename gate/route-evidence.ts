/**
 * A route's evidence over the gate's window, from the tallies of its observations (and, for a
 * writing route, of its state-parity observations `<route>.state`; proxy/observe/
 * observation-tallies.ts, computed in SQL on PostgreSQL): the verdict counts, each side's errors,
 * latency measured the same way for both sides, and the accepted differences that absorbed something.
 */
import type { FlagMode } from '../flags/flag.js';
import type { LatencyComparison, RouteTally } from '../proxy/observe/observation-tallies.js';
import type { Side } from '../proxy/serving/decide.js';
import { classifyFailure, sideErred, sideFailed, type FailureClass } from './failure-taxonomy.js';

export interface SideTally {
  /** Requests this side was asked, less those whose client went away. */
  trials: number;
  /** 5xx answers, timeouts and connection failures. */
  errors: number;
  /** Failed answers by failure class (gate/failure-taxonomy.ts), client aborts included. */
  failures: Partial<Record<FailureClass, number>>;
}

/**
 * `concurrent-copies`: both sides' latencies of the same requests, sent at once (shadow and
 * reverse shadow). `canary-split`: the latencies of each side when serving its share of a canary.
 */
export type LatencyBasis = 'concurrent-copies' | 'canary-split';

export interface RouteEvidence {
  routeId: string;
  observations: number;
  matched: number;
  mismatched: number;
  ignored: number;
  errored: number;
  /** matched + mismatched: what parity is judged on. */
  compared: number;
  /** The route's `sample` (1 when it shadows every request) and the requests it left without a copy in the window. */
  sample: number;
  sampledOut: number;
  /** Of which state-parity observations (writing routes). */
  stateObservations: number;
  modes: FlagMode[];
  /** Observations each accepted difference absorbed something in. */
  accepted: Record<string, number>;
  sides: Record<Side, SideTally>;
  /** Each side's latency summary on the basis, with the ranks of the pooled samples (Mann-Whitney). */
  latency: LatencyComparison & { basis: LatencyBasis };
  /** From the window's start (or the first observation, when later) to now. */
  window: { from: Date | null; to: Date };
}

/** The state-parity observations of a writing route carry this route id. */
export const stateRouteId = (routeId: string) => `${routeId}.state`;


/** Sums a route's tallies (its own and its `.state` route's); `minLatencySamples` decides whether a canary split has enough samples to be the latency basis. */
export function routeEvidence(routeId: string, tallies: readonly RouteTally[], window: { since: Date | null; now: Date }, minLatencySamples: number, sample = 1): RouteEvidence {
  const own = tallies.find((tally) => tally.routeId === routeId);
  const state = tallies.find((tally) => tally.routeId === stateRouteId(routeId));
  const evidence: RouteEvidence = {
    routeId,
    observations: 0,
    matched: 0,
    mismatched: 0,
    ignored: 0,
    errored: 0,
    compared: 0,
    sample,
    sampledOut: own?.sampledOut ?? 0,
    stateObservations: state?.observations ?? 0,
    modes: own?.modes ?? [],
    accepted: Object.fromEntries((own?.accepted ?? []).map((entry) => [entry.id, entry.observations])),
    sides: { legacy: { trials: 0, errors: 0, failures: {} }, reimpl: { trials: 0, errors: 0, failures: {} } },
    latency: { basis: 'concurrent-copies', legacy: { count: 0, p50: null, p95: null, p99: null }, reimpl: { count: 0, p50: null, p95: null, p99: null }, reimplRankSum: 0, tieTerm: 0 },
    window: { from: window.since, to: window.now },
  };
  let first: Date | null = null;
  for (const tally of [own, state]) {
    if (!tally) continue;
    if (first === null || tally.firstObservedAt < first) first = tally.firstObservedAt;
    evidence.observations += tally.observations;
    for (const verdict of ['matched', 'mismatched', 'ignored', 'errored'] as const) evidence[verdict] += tally[verdict];
  }
  // A state read-back has no answer of its own to time or count as an error: only the route's own answers are.
  for (const answer of own?.sides ?? []) {
    const tally = evidence.sides[answer.side];
    const failure = sideFailed(answer) ? classifyFailure(answer) : null;
    if (failure !== null) tally.failures[failure] = (tally.failures[failure] ?? 0) + answer.count;
    // A client that went away says nothing about the side: neither a trial nor an error.
    if (failure === 'client-abort') continue;
    tally.trials += answer.count;
    if (failure !== null && sideErred(failure)) tally.errors += answer.count;
  }
  evidence.compared = evidence.matched + evidence.mismatched;
  if (first && (window.since === null || first > window.since)) evidence.window.from = first;
  if (own) {
    // Prefer the canary split once both shares have enough samples: it is what users get.
    const { split, copies } = own.latency;
    const useSplit = split.legacy.count >= minLatencySamples && split.reimpl.count >= minLatencySamples;
    evidence.latency = useSplit ? { basis: 'canary-split', ...split } : { basis: 'concurrent-copies', ...copies };
  }
  return evidence;
}
