/**
 * An Observation: what one shadowed request showed — the route, both sides' statuses and
 * latencies, the verdict and its diff. Kept in an ObservationStore (PostgreSQL, or the
 * in-memory fake for tests); the report reads them back.
 */
import type { FlagMode } from '../flags/flag.js';
import type { Difference, Verdict } from './compare.js';
import type { Side } from './decide.js';

export interface ObservedSide {
  side: Side;
  /** HTTP status, or null when the side failed before answering. */
  status: number | null;
  latencyMs: number;
  /** Stable failure code (CUTOVER_ERR_UPSTREAM_*), when the side failed. */
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

export interface ObservationStore {
  /** Stores a batch; one round trip for the whole batch on PostgreSQL. */
  append(observations: readonly Observation[]): Promise<void>;
  /** Observations matching the query, newest first. */
  list(query?: ObservationQuery): Promise<Observation[]>;
  /** Deletes observations older than `before`; answers how many went. */
  prune(before: Date): Promise<number>;
  close(): Promise<void>;
}
