/**
 * The shapes of ObservationTallies (computed in observation-tallies.ts and
 * pg-observation-tallies.ts): apart from them so that the store interface (observation.ts)
 * can name them without importing the code that computes them from observations.
 */
import type { FlagMode } from '../../flags/flag.js';
import type { Side } from '../serving/decide.js';

/** Upper bounds (ms) of the latency buckets; the last bucket takes everything above. */
export const latencyBucketsMs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

export interface LatencyStats {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/**
 * One side's answered latencies and the other's on one basis (the gate's), with the Mann-Whitney
 * pieces of the pooled sample: reimpl's rank sum (ties given their mean rank) and Σ(t³ − t) over tie groups.
 */
export interface LatencyComparison {
  legacy: LatencyStats;
  reimpl: LatencyStats;
  reimplRankSum: number;
  tieTerm: number;
}

export interface SideOutcomeCount {
  side: Side;
  status: number | null;
  error: string | null;
  /** Answers of this side (as serving or as shadow) with this status and error. */
  count: number;
}

export interface MismatchPathTally {
  /** The diff path, array indices folded to `[*]` so one field is one line. */
  path: string;
  /** Mismatched observations that differed at this path. */
  count: number;
  /** From the newest such observation (its first difference at this path). */
  example: { observedAt: string; requestPath: string; path: string; serving: string | null; shadow: string | null };
}

export interface AcceptedTally {
  id: string;
  /** Observations it absorbed something in. */
  observations: number;
  /** Paths (indexes folded to [*]) it absorbed, with how many observations each. */
  paths: Record<string, number>;
}

export interface RouteTally {
  routeId: string;
  /** The service and method of the route's newest observation. */
  service: string;
  method: string;
  observations: number;
  matched: number;
  mismatched: number;
  ignored: number;
  errored: number;
  firstObservedAt: Date;
  /** Requests its `sample` left without a shadow copy in the window's hours (counted apart: no observation stands for them). */
  sampledOut: number;
  modes: FlagMode[];
  /** Ignored observations per rule that ignored them. */
  ignoredBy: Record<string, number>;
  erroredBySide: { serving: number; shadow: number; both: number };
  /** Every answer (serving and shadow) by side, status and error, ordered by side, status, error. */
  sides: SideOutcomeCount[];
  /** The reimplementation's serving answers under canary or reimpl by mode, status and error: what the report reads fallbacks from (proxy/serving/fallback.ts observedFallback). */
  reimplServing: Array<SideOutcomeCount & { mode: FlagMode }>;
  accepted: AcceptedTally[];
  /** Most frequent first, then by path. */
  mismatchPaths: MismatchPathTally[];
  latency: {
    /** Every answered side, whatever the mode (the report's). */
    all: { legacy: LatencyStats; reimpl: LatencyStats };
    /** Answers per bucket (`latencyBucketsMs`, then one over the last bound). */
    buckets: { legacy: number[]; reimpl: number[] };
    /** Both answers of shadowed (not canary) observations where both answered. */
    copies: LatencyComparison;
    /** The serving answer of canary observations. */
    split: LatencyComparison;
  };
}

export interface ParityHour {
  /** Start of the hour (UTC), ISO. */
  hour: string;
  matched: number;
  mismatched: number;
}

export interface ObservationTallies {
  /** Ordered by route id. */
  routes: RouteTally[];
  /** Hours with anything compared, oldest first. */
  parityByHour: ParityHour[];
}

export interface TallyQuery {
  /** Observations at or after this instant. */
  since?: Date;
  /** These routes only (exact ids). */
  routeIds?: readonly string[];
}
