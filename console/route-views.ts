/**
 * What the web console shows, put together from the code paths the CLI runs: the readiness gate
 * (runGate: each route's verdict and criteria exactly as `cutover gate` says them), the parity
 * report (buildReport: latency percentiles, mismatch paths, accepted differences absorbed, as
 * `cutover report` says them), the report's charts (src/report/charts.ts), the observations as
 * stored (redacted again, as the report does), the accepted-differences registry, calibrated
 * noise and the rollouts. Nothing here judges a route on its own.
 */
import type { Registry } from 'prom-client';
import { flagFor } from '../flags/flag.js';
import type { FlagStore } from '../flags/flag-store.js';
import type { Route, RouteCatalogue } from '../flags/route-catalogue.js';
import { runGate, type GateReport } from '../gate/gate.js';
import { stateRouteId } from '../gate/route-evidence.js';
import { percentile } from '../gate/statistics/percentile.js';
import type { RouteVerdict } from '../gate/verdict.js';
import type { AcceptedRegistry } from '../parity/compare/accepted-registry.js';
import type { Redactor } from '../parity/compare/redact.js';
import type { RouteCompareRules } from '../parity/compare/rules.js';
import type { LearnedRoute } from '../parity/runner/calibrate-learn.js';
import type { NoiseStore } from '../parity/runner/noise-store.js';
import type { Observation, ObservationOutcome, ObservationStore } from '../proxy/observe/observation.js';
import { redactObservation } from '../proxy/observe/redact-observation.js';
import type { ObservationTallies } from '../proxy/observe/observation-tallies.js';
import type { Rollout } from '../rollout/rollout.js';
import type { RolloutStore } from '../rollout/rollout-store.js';
import type { GateThresholds } from '../src/config/schema.js';
import { CutoverError } from '../src/errors.js';
import { barChart, bucketLabels, reportFigures } from '../src/report/charts.js';
import { buildReport, type LatencySummary, type RouteReport } from '../src/report/report.js';
import { redactTallies } from '../src/report/write-report.js';

export interface ConsoleSources {
  catalogue: RouteCatalogue;
  flagStore: FlagStore;
  observations: Pick<ObservationStore, 'list' | 'outcomes' | 'tallies'>;
  rollouts: RolloutStore;
  /** Calibrated noise (`cutover calibrate`); only the routes' pinned noise is shown without it. */
  noise?: Pick<NoiseStore, 'load'>;
  accepted: AcceptedRegistry;
  /** config.gate.thresholds and config.gate.windowHours: the window every view covers. */
  thresholds: GateThresholds;
  windowHours: number;
  /** The storage redactor (config redaction.piiFields): what is shown is redacted again, as the report does. */
  redactor: Redactor;
  /** This instance's metrics, for the shadow copies it dropped. */
  metricsRegistry: Registry;
  clock?: () => Date;
}

/** Mismatched observations shown on a route's page, newest first. */
export const mismatchesShown = 25;

export interface RouteRow {
  routeId: string;
  service: string;
  method: string;
  path: string;
  owner: string;
  writes: boolean;
  mode: string;
  percent: number;
  verdict: RouteVerdict['verdict'];
  failed: string[];
  parity: { matched: number; compared: number; estimate: number | null; lowerBound: number | null; threshold: number; confidence: number };
  samples: { compared: number; needed: number };
  latencyMs: { legacy: LatencySummary; reimpl: LatencySummary };
  errors: { legacy: { errors: number; trials: number }; reimpl: { errors: number; trials: number }; errored: number };
  /** Shadow copies this proxy instance dropped since it started (cutover_proxy_shadow_dropped_total). */
  shadowDrops: number;
  observations: number;
}

export interface RoutesOverview {
  generatedAt: string;
  since: string;
  windowHours: number;
  killSwitch: boolean;
  routes: RouteRow[];
}

async function dropsByRoute(registry: Registry): Promise<Map<string, number>> {
  const drops = new Map<string, number>();
  const metric = registry.getSingleMetric('cutover_proxy_shadow_dropped_total');
  if (!metric) return drops;
  for (const { value, labels } of (await metric.get()).values) {
    const route = String(labels.route ?? '');
    drops.set(route, (drops.get(route) ?? 0) + value);
  }
  return drops;
}

interface Window {
  now: Date;
  since: Date;
}

const windowOf = (sources: ConsoleSources): Window => {
  const now = sources.clock?.() ?? new Date();
  return { now, since: new Date(now.getTime() - sources.windowHours * 3_600_000) };
};

function row(route: Route, verdict: RouteVerdict, report: RouteReport, flag: { mode: string; percent: number }, drops: number): RouteRow {
  const { evidence, thresholds } = verdict;
  const parity = verdict.criteria.find((criterion) => criterion.id === 'parity.lower-bound');
  return {
    routeId: route.id,
    service: route.service,
    method: route.method,
    path: route.path,
    owner: route.owner,
    writes: route.writes,
    mode: flag.mode,
    percent: flag.percent,
    verdict: verdict.verdict,
    failed: verdict.failed,
    parity: {
      matched: evidence.matched,
      compared: evidence.compared,
      estimate: evidence.compared === 0 ? null : evidence.matched / evidence.compared,
      lowerBound: parity?.value ?? null,
      threshold: thresholds.minParity,
      confidence: thresholds.confidence,
    },
    samples: { compared: evidence.compared, needed: thresholds.minCompared },
    latencyMs: report.latencyMs,
    errors: { legacy: { errors: evidence.sides.legacy.errors, trials: evidence.sides.legacy.trials }, reimpl: { errors: evidence.sides.reimpl.errors, trials: evidence.sides.reimpl.trials }, errored: evidence.errored },
    shadowDrops: drops,
    observations: evidence.observations,
  };
}

interface Gathered {
  window: Window;
  gate: GateReport;
  tallies: ObservationTallies;
  reports: Map<string, RouteReport>;
  killSwitch: boolean;
  flags: Awaited<ReturnType<FlagStore['snapshot']>>;
  drops: Map<string, number>;
}

/** The window's tallies (one pass, in SQL on PostgreSQL) judged by the gate and summed by the report, as `cutover gate` and `cutover report` do. */
async function gather(sources: ConsoleSources, route: Route | undefined): Promise<Gathered> {
  const window = windowOf(sources);
  const routeIds = route === undefined ? undefined : route.writes ? [route.id, stateRouteId(route.id)] : [route.id];
  const [flags, tallies, drops] = await Promise.all([
    sources.flagStore.snapshot(),
    sources.observations.tallies({ since: window.since, ...(routeIds ? { routeIds } : {}) }),
    dropsByRoute(sources.metricsRegistry),
  ]);
  // `*` judges every catalogued route, observed or not, so the table lists them all; the gate reads the same tallies.
  const gate = await runGate({ observations: { tallies: async () => tallies }, catalogue: sources.catalogue, thresholds: sources.thresholds }, { route: route?.id ?? '*', since: window.since, now: window.now });
  const report = buildReport({ tallies: redactTallies(tallies, sources.redactor), routes: route ? [route] : sources.catalogue.routes, flags, since: window.since, generatedAt: window.now, include: 'all' });
  return { window, gate, tallies, reports: new Map(report.routes.map((entry) => [entry.routeId, entry])), killSwitch: flags.killSwitch, flags, drops };
}

function rowsOf(sources: ConsoleSources, gathered: Gathered, routes: readonly Route[]): RouteRow[] {
  const verdicts = new Map(gathered.gate.routes.map((verdict) => [verdict.routeId, verdict]));
  return routes.flatMap((route) => {
    const verdict = verdicts.get(route.id);
    const report = gathered.reports.get(route.id);
    if (!verdict || !report) return [];
    return [row(route, verdict, report, flagFor(gathered.flags, route.id), gathered.drops.get(route.id) ?? 0)];
  });
}

/** Every catalogued route: its flag, the gate's verdict, parity with its Wilson bound, evidence, latency, errors and drops over the gate's window. */
export async function routesOverview(sources: ConsoleSources): Promise<RoutesOverview> {
  const gathered = await gather(sources, undefined);
  return {
    generatedAt: gathered.window.now.toISOString(),
    since: gathered.window.since.toISOString(),
    windowHours: sources.windowHours,
    killSwitch: gathered.killSwitch,
    routes: rowsOf(sources, gathered, sources.catalogue.routes),
  };
}

/** One side's value of a difference, by side rather than by serving/shadow role. */
export interface SideBySideDifference {
  path: string;
  kind: string | null;
  /** mismatch, ignored, noise, accepted, correlated or within-window, with what explains it. */
  disposition: string;
  legacy: string | null;
  reimpl: string | null;
  detail: string | null;
}

export interface MismatchView {
  id: number | null;
  observedAt: string;
  method: string;
  path: string;
  mode: string;
  status: { legacy: number | null; reimpl: number | null };
  differences: SideBySideDifference[];
  /** Both bodies when this mismatch was sampled with them (proxy.shadow.mismatchBodySampleRate), redacted. */
  bodies: { legacy: string; reimpl: string } | null;
}

export interface RouteDetail {
  row: RouteRow;
  since: string;
  verdict: RouteVerdict;
  report: Pick<RouteReport, 'mismatchPaths' | 'acceptedAbsorbed' | 'ignoredBy' | 'failures' | 'erroredBySide' | 'observedModes'>;
  /** The charts as inline SVG, drawn by the report's own chart code. */
  charts: { latencyLegacy: string; latencyReimpl: string; parityOverTime: string; p50OverTime: { legacy: string; reimpl: string }; p99OverTime: { legacy: string; reimpl: string } };
  /** Parity and latency per hour as numbers (what the charts draw). */
  series: Array<{ hour: string; matched: number; mismatched: number; parity: number | null; legacy: { p50: number | null; p99: number | null }; reimpl: { p50: number | null; p99: number | null } }>;
  mismatches: MismatchView[];
  accepted: Array<{ id: string; rule: string; reason: string; acceptedBy: string; absorbedObservations: number; absorbedPaths: Record<string, number> }>;
  noise: { learned: LearnedRoute | null; pinned: Record<string, unknown> };
  rules: { compare: Route['compare']; gate: Route['gate'] | null; writes: boolean; captureBytes: number | null; fallback: boolean | null; idempotent: boolean | null; eventual: Route['eventual'] | null };
  rollouts: Rollout[];
}

function describeDisposition(difference: Observation['differences'][number]): string {
  const disposition = difference.disposition;
  if (!disposition) return difference.ignoredBy ? `ignored (${difference.ignoredBy})` : difference.correlated ? `correlated (${difference.correlated})` : 'mismatch';
  switch (disposition.as) {
    case 'ignored':
      return `ignored (${disposition.rule})`;
    case 'noise':
      return `noise (${disposition.profile})`;
    case 'accepted':
      return `accepted (${disposition.id})`;
    case 'correlated':
      return `correlated (${disposition.pair})`;
    default:
      return disposition.as;
  }
}

/** A stored mismatch as the console shows it: each difference the parity engine found, legacy's value beside the reimplementation's. */
export function mismatchView(observation: Observation): MismatchView {
  const servingIsLegacy = observation.serving.side === 'legacy';
  const legacy = servingIsLegacy ? observation.serving : observation.shadow;
  const reimpl = servingIsLegacy ? observation.shadow : observation.serving;
  return {
    id: observation.id ?? null,
    observedAt: observation.observedAt.toISOString(),
    method: observation.method,
    path: observation.path,
    mode: observation.mode,
    status: { legacy: legacy.status, reimpl: reimpl.status },
    differences: observation.differences.map((difference) => ({
      path: difference.path,
      kind: difference.kind ?? null,
      disposition: describeDisposition(difference),
      legacy: (servingIsLegacy ? difference.serving : difference.shadow) ?? null,
      reimpl: (servingIsLegacy ? difference.shadow : difference.serving) ?? null,
      detail: difference.detail ?? null,
    })),
    bodies: legacy.body !== null && reimpl.body !== null ? { legacy: legacy.body, reimpl: reimpl.body } : null,
  };
}

const hourOf = (at: Date) => new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000).toISOString();
const hourLabel = (hour: string) => hour.slice(5, 13).replace('T', ' ');

function latencySeries(observations: readonly Pick<ObservationOutcome, 'observedAt' | 'serving' | 'shadow'>[]): Map<string, { legacy: number[]; reimpl: number[] }> {
  const hours = new Map<string, { legacy: number[]; reimpl: number[] }>();
  for (const observation of observations) {
    const hour = hourOf(observation.observedAt);
    const samples = hours.get(hour) ?? { legacy: [], reimpl: [] };
    for (const side of [observation.serving, observation.shadow]) if (side.error === null && side.status !== null) samples[side.side].push(side.latencyMs);
    hours.set(hour, samples);
  }
  return hours;
}

// The catalogue's compare rules are the engine's; the pinned noise is among them.
const compareRulesOf = (route: Route): RouteCompareRules => route.compare;

const rounded = (value: number | null) => (value === null ? 0 : Math.round(value * 10) / 10);

/** One route's page: the row, the gate's criteria, charts, mismatches with their diffs, accepted differences, noise, rules and rollouts. */
export async function routeDetail(sources: ConsoleSources, routeId: string): Promise<RouteDetail> {
  const route = sources.catalogue.byId(routeId);
  if (!route) throw new CutoverError('CUTOVER_ERR_FLAG_ROUTE_UNKNOWN', `no route '${routeId}'`);
  const gathered = await gather(sources, route);
  const [outcomes, stored, learned, rollouts] = await Promise.all([
    // Latency per hour: the window's outcomes of this route (no bodies, no diffs).
    sources.observations.outcomes({ routeIds: [route.id], since: gathered.window.since }),
    sources.observations.list({ routeId: route.id, verdict: 'mismatched', since: gathered.window.since, limit: mismatchesShown }),
    sources.noise?.load(route.id).catch(() => undefined),
    sources.rollouts.list(route.id),
  ]);
  const report = gathered.reports.get(route.id)!;
  const verdict = gathered.gate.routes.find((entry) => entry.routeId === route.id)!;
  const figures = reportFigures([route.id], gathered.tallies);
  const latency = figures.routes[0]!.latency;
  const labels = bucketLabels(figures.latencyBucketsMs);
  const perHour = latencySeries(outcomes);
  const parityByHour = new Map(figures.parityOverTime.map((point) => [point.hour, point]));
  const hours = [...new Set([...perHour.keys(), ...parityByHour.keys()])].sort();
  const series = hours.map((hour) => {
    const samples = perHour.get(hour) ?? { legacy: [], reimpl: [] };
    const sorted = { legacy: [...samples.legacy].sort((a, b) => a - b), reimpl: [...samples.reimpl].sort((a, b) => a - b) };
    const point = parityByHour.get(hour);
    return {
      hour,
      matched: point?.matched ?? 0,
      mismatched: point?.mismatched ?? 0,
      parity: point?.parity ?? null,
      legacy: { p50: percentile(sorted.legacy, 50), p99: percentile(sorted.legacy, 99) },
      reimpl: { p50: percentile(sorted.reimpl, 50), p99: percentile(sorted.reimpl, 99) },
    };
  });
  const hourLabels = series.map((point) => hourLabel(point.hour));
  const compared = series.filter((point) => point.parity !== null);
  const chart = (side: 'legacy' | 'reimpl', p: 'p50' | 'p99', colour: string) => barChart(`${route.id} ${side} ${p} per hour (ms)`, hourLabels, series.map((point) => rounded(point[side][p])), colour, `${p}-${side}`);
  const absorbed = new Map(report.acceptedAbsorbed.map((entry) => [entry.id, entry]));
  return {
    row: rowsOf(sources, gathered, [route])[0]!,
    since: gathered.window.since.toISOString(),
    verdict,
    report: { mismatchPaths: report.mismatchPaths, acceptedAbsorbed: report.acceptedAbsorbed, ignoredBy: report.ignoredBy, failures: report.failures, erroredBySide: report.erroredBySide, observedModes: report.observedModes },
    charts: {
      latencyLegacy: barChart(`${route.id} legacy latency (answers per bucket, ms)`, labels, latency.legacy, '#8250df', 'latency-legacy'),
      latencyReimpl: barChart(`${route.id} reimpl latency (answers per bucket, ms)`, labels, latency.reimpl, '#bf8700', 'latency-reimpl'),
      parityOverTime: barChart(`${route.id} parity per hour (%)`, compared.map((point) => hourLabel(point.hour)), compared.map((point) => Math.round((point.parity ?? 0) * 1000) / 10), '#1a7f37', 'parity'),
      p50OverTime: { legacy: chart('legacy', 'p50', '#8250df'), reimpl: chart('reimpl', 'p50', '#bf8700') },
      p99OverTime: { legacy: chart('legacy', 'p99', '#8250df'), reimpl: chart('reimpl', 'p99', '#bf8700') },
    },
    series,
    // Stored redacted; redacted again on the way out, bodies kept (they are what the diff is read against).
    mismatches: stored.map((observation) => mismatchView(redactObservation(observation, sources.redactor))),
    accepted: sources.accepted.forRoute(route.id).map((entry) => ({
      id: entry.id,
      rule: entry.rule,
      reason: entry.reason,
      acceptedBy: entry.acceptedBy,
      absorbedObservations: absorbed.get(entry.id)?.observations ?? 0,
      absorbedPaths: absorbed.get(entry.id)?.paths ?? {},
    })),
    noise: { learned: learned ?? null, pinned: { ...(compareRulesOf(route).noise ?? {}) } },
    rules: {
      compare: route.compare,
      gate: route.gate ?? null,
      writes: route.writes,
      captureBytes: route.captureBytes ?? null,
      fallback: route.fallback ?? null,
      idempotent: route.idempotent ?? null,
      eventual: route.eventual ?? null,
    },
    rollouts,
  };
}
