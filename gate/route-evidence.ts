/**
 * A route's evidence over the gate's window, summed from the outcomes of its observations (and,
 * for a writing route, of its state-parity observations `<route>.state`): the verdict counts,
 * each side's errors, latency samples measured the same way for both sides, and the accepted
 * differences that absorbed something.
 */
import type { FlagMode } from '../flags/flag.js';
import type { ObservationOutcome, ObservedSide } from '../proxy/observe/observation.js';
import type { Side } from '../proxy/serving/decide.js';
import { classifyFailure, sideFailed, type FailureClass } from './failure-taxonomy.js';

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
  /** Of which state-parity observations (writing routes). */
  stateObservations: number;
  modes: FlagMode[];
  /** Observations each accepted difference absorbed something in. */
  accepted: Record<string, number>;
  sides: Record<Side, SideTally>;
  latency: { basis: LatencyBasis; legacy: number[]; reimpl: number[] };
  /** From the window's start (or the first observation, when later) to now. */
  window: { from: Date | null; to: Date };
}

/** The state-parity observations of a writing route carry this route id. */
export const stateRouteId = (routeId: string) => `${routeId}.state`;


const answered = (side: Omit<ObservedSide, 'body'>) => side.error === null && side.status !== null;

/** Sums a route's outcomes; `minLatencySamples` decides whether a canary split has enough samples to be the latency basis. */
export function routeEvidence(routeId: string, outcomes: readonly ObservationOutcome[], window: { since: Date | null; now: Date }, minLatencySamples: number): RouteEvidence {
  const evidence: RouteEvidence = {
    routeId,
    observations: 0,
    matched: 0,
    mismatched: 0,
    ignored: 0,
    errored: 0,
    compared: 0,
    stateObservations: 0,
    modes: [],
    accepted: {},
    sides: { legacy: { trials: 0, errors: 0, failures: {} }, reimpl: { trials: 0, errors: 0, failures: {} } },
    latency: { basis: 'concurrent-copies', legacy: [], reimpl: [] },
    window: { from: window.since, to: window.now },
  };
  const modes = new Set<FlagMode>();
  const copies: Record<Side, number[]> = { legacy: [], reimpl: [] };
  const split: Record<Side, number[]> = { legacy: [], reimpl: [] };
  let first: Date | null = null;
  for (const outcome of outcomes) {
    const state = outcome.routeId === stateRouteId(routeId);
    if (outcome.routeId !== routeId && !state) continue;
    if (first === null || outcome.observedAt < first) first = outcome.observedAt;
    evidence.observations++;
    evidence[outcome.verdict]++;
    if (state) {
      evidence.stateObservations++;
      continue; // a state read-back has no answer of its own to time or count as an error
    }
    modes.add(outcome.mode);
    for (const id of outcome.accepted) evidence.accepted[id] = (evidence.accepted[id] ?? 0) + 1;
    for (const side of [outcome.serving, outcome.shadow]) {
      const tally = evidence.sides[side.side];
      const failure = sideFailed(side) ? classifyFailure(side) : null;
      if (failure !== null) tally.failures[failure] = (tally.failures[failure] ?? 0) + 1;
      // A client that went away says nothing about the side: neither a trial nor an error.
      if (failure === 'client-abort') continue;
      tally.trials++;
      if (failure !== null) tally.errors++;
    }
    if (outcome.mode === 'canary' && answered(outcome.serving)) split[outcome.serving.side].push(outcome.serving.latencyMs);
    else if (outcome.mode !== 'canary' && answered(outcome.serving) && answered(outcome.shadow)) {
      copies[outcome.serving.side].push(outcome.serving.latencyMs);
      copies[outcome.shadow.side].push(outcome.shadow.latencyMs);
    }
  }
  evidence.compared = evidence.matched + evidence.mismatched;
  evidence.modes = [...modes].sort();
  if (first && (window.since === null || first > window.since)) evidence.window.from = first;
  // Prefer the canary split once both shares have enough samples: it is what users get.
  const useSplit = split.legacy.length >= minLatencySamples && split.reimpl.length >= minLatencySamples;
  evidence.latency = useSplit ? { basis: 'canary-split', ...split } : { basis: 'concurrent-copies', ...copies };
  return evidence;
}
