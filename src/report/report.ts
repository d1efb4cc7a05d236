/**
 * The parity report: per route what mode it is in, how many shadowed requests were observed,
 * how often the two sides agreed, where they disagreed (by diff path, with an example) and how
 * fast each side was. Built from observations by a pure function, so its numbers are tested
 * without a database. Parity = matched / (matched + mismatched): ignored and errored are
 * counted apart and never as matched.
 */
import type { FlagMode, FlagSnapshot } from '../../flags/flag.js';
import type { Route } from '../../flags/route-catalogue.js';
import type { Observation } from '../../proxy/observe/observation.js';
import { classifyFailure, failureClasses, sideFailed } from '../../gate/failure-taxonomy.js';
import type { ReadinessSummary } from '../../gate/gate.js';
import { percentile } from '../../gate/statistics/percentile.js';
import type { UnknownTrafficSummary } from './unknown-traffic.js';
import { reportFigures, type ReportFigures } from './charts.js';

export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface MismatchPath {
  /** The diff path, array indices folded to `[*]` so one field is one line. */
  path: string;
  /** Mismatched observations that differed at this path. */
  count: number;
  example: { observedAt: string; requestPath: string; path: string; serving: string | null; shadow: string | null };
}

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
}

export interface AcceptedAbsorbed {
  id: string;
  observations: number;
  /** Paths (indexes folded to [*]) it absorbed, with how many observations each. */
  paths: Record<string, number>;
}

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
}

export interface ReportInput {
  observations: readonly Observation[];
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
}

export { percentile };

function latency(values: number[]): LatencySummary {
  const sorted = values.sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
}

const ratio = (reimpl: number | null, legacy: number | null) => (reimpl === null || legacy === null || legacy === 0 ? null : reimpl / legacy);
const parity = (matched: number, mismatched: number) => (matched + mismatched === 0 ? null : matched / (matched + mismatched));
const foldIndices = (path: string) => path.replace(/\[\d+\]/g, '[*]');

function routeReport(route: { id: string; service: string; method: string; path: string; owner: string }, observations: readonly Observation[], mode: FlagMode | null): RouteReport {
  const counts = { matched: 0, mismatched: 0, ignored: 0, errored: 0 };
  const ignoredBy: Record<string, number> = {};
  const erroredBySide = { serving: 0, shadow: 0, both: 0 };
  const failures: RouteReport['failures'] = { legacy: {}, reimpl: {} };
  const samples: { legacy: number[]; reimpl: number[] } = { legacy: [], reimpl: [] };
  const mismatches = new Map<string, MismatchPath>();
  const modes = new Set<FlagMode>();
  const accepted = new Map<string, AcceptedAbsorbed>();
  for (const observation of observations) {
    const acceptedHere = new Map<string, Set<string>>();
    for (const difference of observation.differences) {
      if (difference.disposition?.as !== 'accepted') continue;
      const paths = acceptedHere.get(difference.disposition.id) ?? new Set<string>();
      paths.add(foldIndices(difference.path));
      acceptedHere.set(difference.disposition.id, paths);
    }
    for (const [id, paths] of acceptedHere) {
      const entry = accepted.get(id) ?? { id, observations: 0, paths: {} };
      entry.observations += 1;
      for (const path of paths) entry.paths[path] = (entry.paths[path] ?? 0) + 1;
      accepted.set(id, entry);
    }
    counts[observation.verdict] += 1;
    modes.add(observation.mode);
    for (const side of [observation.serving, observation.shadow]) {
      // A side that failed has no answer time worth comparing; its failure is counted as errored.
      if (side.error === null && side.status !== null) samples[side.side].push(side.latencyMs);
      if (sideFailed(side)) {
        const failure = failureClasses[classifyFailure(side)].code;
        failures[side.side][failure] = (failures[side.side][failure] ?? 0) + 1;
      }
    }
    if (observation.verdict === 'ignored') for (const rule of observation.ignoredBy) ignoredBy[rule] = (ignoredBy[rule] ?? 0) + 1;
    if (observation.verdict === 'errored' && observation.erroredSide) erroredBySide[observation.erroredSide] += 1;
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
      else {
        mismatches.set(path, {
          path,
          count: 1,
          example: { observedAt: observation.observedAt.toISOString(), requestPath: observation.path, path: difference.path, serving: difference.serving ?? null, shadow: difference.shadow ?? null },
        });
      }
    }
  }
  const legacy = latency(samples.legacy);
  const reimpl = latency(samples.reimpl);
  return {
    routeId: route.id,
    service: route.service,
    method: route.method,
    path: route.path,
    owner: route.owner,
    mode,
    observedModes: [...modes].sort(),
    observations: observations.length,
    ...counts,
    ignoredBy,
    erroredBySide,
    failures,
    parityRate: parity(counts.matched, counts.mismatched),
    mismatchPaths: [...mismatches.values()].sort((a, b) => b.count - a.count || a.path.localeCompare(b.path)),
    acceptedAbsorbed: [...accepted.values()].sort((a, b) => a.id.localeCompare(b.id)),
    latencyMs: { legacy, reimpl },
    latencyRatio: { p50: ratio(reimpl.p50, legacy.p50), p95: ratio(reimpl.p95, legacy.p95), p99: ratio(reimpl.p99, legacy.p99) },
  };
}

/** Builds the report from observations (and, when given, the current flags and the unknown traffic). */
export function buildReport(input: ReportInput): Report {
  const byRoute = new Map<string, Observation[]>();
  for (const observation of input.observations) {
    const list = byRoute.get(observation.routeId);
    if (list) list.push(observation);
    else byRoute.set(observation.routeId, [observation]);
  }
  const modeOf = (routeId: string): FlagMode | null => (input.flags ? (input.flags.flags.get(routeId)?.mode ?? 'legacy') : null);
  const catalogued = new Set(input.routes.map((route) => route.id));
  const include = input.include ?? 'observed';
  const routes = input.routes
    .filter((route) => include === 'all' || byRoute.has(route.id) || (modeOf(route.id) ?? 'legacy') !== 'legacy')
    .map((route) => routeReport(route, byRoute.get(route.id) ?? [], modeOf(route.id)));
  // Observations of a route since removed from the catalogue are still reported, not dropped.
  for (const [routeId, observations] of byRoute) {
    if (catalogued.has(routeId)) continue;
    const first = observations[0]!;
    routes.push(routeReport({ id: routeId, service: first.service, method: first.method, path: '(not in the catalogue)', owner: '-' }, observations, modeOf(routeId)));
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
    figures: reportFigures(routes.map((route) => route.routeId), input.observations),
  };
}

/** The ignoring rules of all routes with their counts, the most used first. */
function ignoringRules(routes: readonly RouteReport[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const route of routes) for (const [rule, count] of Object.entries(route.ignoredBy)) counts.set(rule, (counts.get(rule) ?? 0) + count);
  return Object.fromEntries([...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)));
}
