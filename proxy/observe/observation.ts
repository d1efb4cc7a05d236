/**
 * An Observation: what one shadowed request showed — the route, both sides' statuses and
 * latencies, the verdict and its diff. Kept in an ObservationStore (PostgreSQL, or the
 * in-memory fake for tests); the report reads them back.
 */
import type { FlagMode } from '../../flags/flag.js';
import type { Difference, Verdict } from '../shadow/compare.js';
import type { Side } from '../serving/decide.js';
import type { ObservationTallies, TallyQuery } from './route-tally.js';

export interface ObservedSide {
  side: Side;
  /** HTTP status, or null when the side failed before answering. */
  status: number | null;
  latencyMs: number;
  /**
   * Stable failure code (CUTOVER_ERR_UPSTREAM_*), when the side failed (then a status is the one
   * its answer had when it failed in the body); CUTOVER_FAIL_BODY_OVER_BOUND when it answered
   * past the capture bound (gate/failure-taxonomy.ts).
   */
  error: string | null;
  /** The full body, kept for a sample of mismatches only (bounded, may be cut). */
  body: string | null;
}

export interface Observation {
  /** Assigned by the store. */
  id?: number;
  observedAt: Date;
  routeId: string;
  service: string;
  method: string;
  /** Path and query as requested. */
  path: string;
  mode: FlagMode;
  serving: ObservedSide;
  shadow: ObservedSide;
  verdict: Verdict;
  /** For `ignored`: the rules that explained every difference. */
  ignoredBy: string[];
  /** For `errored`: which side failed. */
  erroredSide: 'serving' | 'shadow' | 'both' | null;
  differences: Difference[];
}

export interface ObservationQuery {
  routeId?: string;
  /** Observations at or after this instant. */
  since?: Date;
  verdict?: Verdict;
  /** Newest first; at most this many (default 1000). */
  limit?: number;
}

/** What the readiness gate reads of an observation: no bodies, no diffs, only the accepted differences' ids. */
export interface ObservationOutcome {
  observedAt: Date;
  routeId: string;
  mode: FlagMode;
  verdict: Verdict;
  erroredSide: Observation['erroredSide'];
  serving: Omit<ObservedSide, 'body'>;
  shadow: Omit<ObservedSide, 'body'>;
  /** Ids of the accepted differences (parity/accepted-differences.yaml) that absorbed something here. */
  accepted: string[];
}

export interface OutcomeQuery {
  /** Observations of these routes only (exact ids). */
  routeIds?: readonly string[];
  since?: Date;
}

export interface ObservationStore {
  /** Stores a batch; one round trip for the whole batch on PostgreSQL. */
  append(observations: readonly Observation[]): Promise<void>;
  /** Observations matching the query, newest first. */
  list(query?: ObservationQuery): Promise<Observation[]>;
  /** Every observation's outcome matching the query (no limit: the window bounds it), oldest first. */
  outcomes(query?: OutcomeQuery): Promise<ObservationOutcome[]>;
  /** Adds requests of sampled routes that got no shadow copy (counted per route and hour). */
  addSampledOut(counts: ReadonlyArray<{ routeId: string; requests: number }>, at: Date): Promise<void>;
  /** The window's numbers per route for the report and the gate (observation-tallies.ts), computed where the observations are. */
  tallies(query?: TallyQuery): Promise<ObservationTallies>;
  /** Drops the observations of every UTC day that ends at or before `before` (whole days: partitions on PostgreSQL); answers how many went. */
  prune(before: Date): Promise<number>;
  close(): Promise<void>;
}

/** An observation's outcome, as ObservationStore.outcomes gives it. */
export function outcomeOf(observation: Observation): ObservationOutcome {
  const { body: _servingBody, ...serving } = observation.serving;
  const { body: _shadowBody, ...shadow } = observation.shadow;
  const accepted = new Set<string>();
  for (const difference of observation.differences) if (difference.disposition?.as === 'accepted') accepted.add(difference.disposition.id);
  return { observedAt: observation.observedAt, routeId: observation.routeId, mode: observation.mode, verdict: observation.verdict, erroredSide: observation.erroredSide, serving, shadow, accepted: [...accepted].sort() };
}
