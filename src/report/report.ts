/**
 * The parity report: per route what mode it is in, how many shadowed requests were observed,
 * how often the two sides agreed, where they disagreed (by diff path, with an example) and how
 * fast each side was. Built by a pure function from the window's tallies (proxy/observe/
 * observation-tallies.ts: SQL on PostgreSQL, or tallied directly from observations), so its
 * numbers are tested without a database. Parity = matched / (matched + mismatched): ignored and errored are
 * counted apart and never as matched.
 */
import type { FlagMode, FlagSnapshot } from '../../flags/flag.js';
import type { Route } from '../../flags/route-catalogue.js';
import type { Observation } from '../../proxy/observe/observation.js';
import { talliesOf, type AcceptedTally, type LatencyStats, type MismatchPathTally, type ObservationTallies, type RouteTally } from '../../proxy/observe/observation-tallies.js';
import { classifyFailure, failureClasses, sideFailed } from '../../gate/failure-taxonomy.js';
import type { ReadinessSummary } from '../../gate/gate.js';
import { percentile, ratioOf } from '../../gate/statistics/percentile.js';
import type { UnknownTrafficSummary } from './unknown-traffic.js';
import { reportFigures, type ReportFigures } from './charts.js';
import { observedFallback, retryPolicy, routeFallsBack } from '../../proxy/serving/fallback.js';
import type { FallbackReason } from '../../proxy/serving/forward.js';

export type LatencySummary = LatencyStats;

export type MismatchPath = MismatchPathTally;

export interface RouteReport {
  routeId: string;
  service: string;
  method: string;
  path: string;
  owner: string;
  /** The route's flag now (legacy when unset); null when the flag store was not read. */
  mode: FlagMode | null;
  /** Modes the observations were made in. */
  observedModes: FlagMode[];
  observations: number;
  /** The route's `sample` (share of requests shadowed), null when it shadows all. */
  sample: number | null;
  /** Requests its sample left without a shadow copy in the window (no observation stands for them). */
  sampledOut: number;
  matched: number;
  mismatched: number;
  ignored: number;
  /** Ignored observations per rule that ignored them. */
  ignoredBy: Record<string, number>;
  errored: number;
  erroredBySide: { serving: number; shadow: number; both: number };
  /** Failed answers (failures and 5xx) per side, by failure class code (gate/failure-taxonomy.ts, CUTOVER_FAIL_*). */
  failures: { legacy: Record<string, number>; reimpl: Record<string, number> };
  /** matched / (matched + mismatched); null when nothing was compared. */
  parityRate: number | null;
  mismatchPaths: MismatchPath[];
  /**
   * What each accepted difference (parity/accepted-differences.yaml) absorbed on this route:
   * observations it absorbed something in (they count as matched when nothing else differed) and the paths.
   */
  acceptedAbsorbed: AcceptedAbsorbed[];
  latencyMs: { legacy: LatencySummary; reimpl: LatencySummary };
  /** reimpl / legacy per percentile; null when a side has no sample. */
  latencyRatio: { p50: number | null; p95: number | null; p99: number | null };
  /** Requests legacy answered because the reimplementation failed them serving (proxy/serving/fallback.ts), by reason; whether the route falls back at all. */
  fallbacks: { enabled: boolean; count: number; byReason: Partial<Record<FallbackReason, number>> };
  /** The timeouts that apply to the route's requests (null where none does: no shadow copy in its mode) and its retry policy; null when not known. */
  transport: { servingTimeoutMs: number | null; shadowTimeoutMs: number | null; retry: string } | null;
}

export type AcceptedAbsorbed = AcceptedTally;

export interface Report {
  /** The readiness gate's verdict per route (what the report opens with); null when the gate was not run. */
  readiness: ReadinessSummary | null;
  generatedAt: string;
  since: string | null;
  killSwitch: boolean | null;
  totals: {
    observations: number;
    matched: number;
    mismatched: number;
    ignored: number;
    errored: number;
    parityRate: number | null;
    unknownRequests: number;
    /** Every rule that ignored observations, over all routes, with how many (an observation ignored by two rules counts for each). */
    ignoredBy: Record<string, number>;
  };
  /** True when the store held more observations than were read (the report covers the newest). */
  truncated: boolean;
  routes: RouteReport[];
  unknownTraffic: Array<{ service: string; method: string; path: string; count: number; lastSeen: string }>;
  /** The charts' numbers (src/report/charts.ts): latency distributions, parity per hour, observations per route. */
  figures: ReportFigures;
  /** Progressive rollouts started in the window (rollout/), newest first: how far each got, and why it ended so. */
  rollouts: RolloutSummary[];
}

export interface RolloutSummary {
  routeId: string;
  /** running, paused, completed, rolled-back or aborted. */
  state: string;
  steps: number[];
  /** The canary share of the step it is at or ended at. */
  percent: number;
  startedAt: string;
  updatedAt: string;
  actor: string;
  reason: string;
  /** The controller's last analysis, in words (the measured reason of a rollback). */
  lastAnalysis: string | null;
}

export interface ReportInput {
  /** The window's tallies (ObservationStore.tallies); without them, `observations` are tallied here. */
  tallies?: ObservationTallies;
  observations?: readonly Observation[];
  routes: readonly Route[];
  flags?: FlagSnapshot;
  unknownTraffic?: readonly UnknownTrafficSummary[];
  since?: Date;
  generatedAt?: Date;
  truncated?: boolean;
  /** The gate's verdicts over the same window (gate/gate.ts readinessSummary). */
  readiness?: ReadinessSummary;
  /** Routes listed even without observations: `all` (every catalogued route) or `observed`. */
  include?: 'all' | 'observed';
  /** The proxy's timeouts (config proxy.upstreamTimeoutMs, proxy.shadow.timeoutMs), shown per route where they apply. */
  timeouts?: { upstreamTimeoutMs: number; shadowTimeoutMs: number };
  rollouts?: readonly RolloutSummary[];
}

export { percentile };

const parity = (matched: number, mismatched: number) => (matched + mismatched === 0 ? null : matched / (matched + mismatched));
const noLatency: LatencySummary = Object.freeze({ count: 0, p50: null, p95: null, p99: null });

type ReportedRoute = Pick<Route, 'id' | 'service' | 'method' | 'path' | 'owner'> & Partial<Pick<Route, 'writes' | 'fallback' | 'idempotent' | 'sample'>>;

/** Modes in which a shadow copy is sent, so proxy.shadow.timeoutMs applies. */
const shadowedModes: ReadonlySet<FlagMode> = new Set(['shadow', 'canary', 'reimpl']);

/** A route's fallbacks, from its tally's serving answers of the reimplementation, by forward's own rule. */
function fallbacksOf(route: ReportedRoute, tally: RouteTally | undefined): RouteReport['fallbacks'] {
  const catalogued = route.writes === undefined ? undefined : { writes: route.writes, fallback: route.fallback, idempotent: route.idempotent };
  const fallbacks: RouteReport['fallbacks'] = { enabled: catalogued ? routeFallsBack(catalogued) : false, count: 0, byReason: {} };
  if (!catalogued) return fallbacks;
  for (const answer of tally?.reimplServing ?? []) {
    const reason = observedFallback(catalogued, { mode: answer.mode, serving: answer });
    if (!reason) continue;
    fallbacks.count += answer.count;
    fallbacks.byReason[reason] = (fallbacks.byReason[reason] ?? 0) + answer.count;
  }
  return fallbacks;
}

function transportOf(route: ReportedRoute, modes: readonly FlagMode[], timeouts: ReportInput['timeouts']): RouteReport['transport'] {
  if (!timeouts || route.writes === undefined) return null;
  return {
    servingTimeoutMs: timeouts.upstreamTimeoutMs,
    shadowTimeoutMs: modes.some((mode) => shadowedModes.has(mode)) ? timeouts.shadowTimeoutMs : null,
    retry: retryPolicy({ method: route.method, writes: route.writes, fallback: route.fallback, idempotent: route.idempotent }),
  };
}

function routeReport(route: ReportedRoute, tally: RouteTally | undefined, mode: FlagMode | null, timeouts?: ReportInput['timeouts']): RouteReport {
  const failures: RouteReport['failures'] = { legacy: {}, reimpl: {} };
  for (const answer of tally?.sides ?? []) {
    if (!sideFailed(answer)) continue;
    const failure = failureClasses[classifyFailure(answer)].code;
    failures[answer.side][failure] = (failures[answer.side][failure] ?? 0) + answer.count;
  }
  const counts = { matched: tally?.matched ?? 0, mismatched: tally?.mismatched ?? 0, ignored: tally?.ignored ?? 0, errored: tally?.errored ?? 0 };
  const legacy = tally?.latency.all.legacy ?? noLatency;
  const reimpl = tally?.latency.all.reimpl ?? noLatency;
  return {
    routeId: route.id,
    service: route.service,
    method: route.method,
    path: route.path,
    owner: route.owner,
    mode,
    observedModes: tally?.modes ?? [],
    observations: tally?.observations ?? 0,
    sample: route.sample ?? null,
    sampledOut: tally?.sampledOut ?? 0,
    ...counts,
    ignoredBy: tally?.ignoredBy ?? {},
    erroredBySide: tally?.erroredBySide ?? { serving: 0, shadow: 0, both: 0 },
    failures,
    parityRate: parity(counts.matched, counts.mismatched),
    mismatchPaths: tally?.mismatchPaths ?? [],
    acceptedAbsorbed: tally?.accepted ?? [],
    latencyMs: { legacy, reimpl },
    latencyRatio: { p50: ratioOf(reimpl.p50, legacy.p50), p95: ratioOf(reimpl.p95, legacy.p95), p99: ratioOf(reimpl.p99, legacy.p99) },
    fallbacks: fallbacksOf(route, tally),
    transport: transportOf(route, [...(tally?.modes ?? []), ...(mode ? [mode] : [])], timeouts),
  };
}

/** Builds the report from the window's tallies, or from observations (tallied directly), and, when given, the current flags and the unknown traffic. */
export function buildReport(input: ReportInput): Report {
  const tallies = input.tallies ?? talliesOf(input.observations ?? []);
  const byRoute = new Map(tallies.routes.map((tally) => [tally.routeId, tally]));
  const modeOf = (routeId: string): FlagMode | null => (input.flags ? (input.flags.flags.get(routeId)?.mode ?? 'legacy') : null);
  const catalogued = new Set(input.routes.map((route) => route.id));
  const include = input.include ?? 'observed';
  const routes = input.routes
    .filter((route) => include === 'all' || byRoute.has(route.id) || (modeOf(route.id) ?? 'legacy') !== 'legacy')
    .map((route) => routeReport(route, byRoute.get(route.id), modeOf(route.id), input.timeouts));
  // Observations of a route since removed from the catalogue are still reported, not dropped.
  for (const tally of tallies.routes) {
    if (catalogued.has(tally.routeId)) continue;
    routes.push(routeReport({ id: tally.routeId, service: tally.service, method: tally.method, path: '(not in the catalogue)', owner: '-' }, tally, modeOf(tally.routeId)));
  }
  const sum = (key: 'observations' | 'matched' | 'mismatched' | 'ignored' | 'errored') => routes.reduce((total, route) => total + route[key], 0);
  const unknownTraffic = (input.unknownTraffic ?? []).map((entry) => ({ ...entry, lastSeen: entry.lastSeen.toISOString() }));
  return {
    readiness: input.readiness ?? null,
    generatedAt: (input.generatedAt ?? new Date()).toISOString(),
    since: input.since?.toISOString() ?? null,
    killSwitch: input.flags?.killSwitch ?? null,
    totals: {
      observations: sum('observations'),
      matched: sum('matched'),
      mismatched: sum('mismatched'),
      ignored: sum('ignored'),
      errored: sum('errored'),
      parityRate: parity(sum('matched'), sum('mismatched')),
      unknownRequests: unknownTraffic.reduce((total, entry) => total + entry.count, 0),
      ignoredBy: ignoringRules(routes),
    },
    truncated: input.truncated ?? false,
    routes,
    unknownTraffic,
    figures: reportFigures(routes.map((route) => route.routeId), tallies),
    rollouts: [...(input.rollouts ?? [])],
  };
}

/** The ignoring rules of all routes with their counts, the most used first. */
function ignoringRules(routes: readonly RouteReport[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const route of routes) for (const [rule, count] of Object.entries(route.ignoredBy)) counts.set(rule, (counts.get(rule) ?? 0) + count);
  return Object.fromEntries([...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)));
}
