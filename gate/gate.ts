/**
 * The readiness gate: for each selected route, its evidence over the window read through the
 * ObservationStore, judged against its thresholds. `cutover gate`, the promotion guard and the
 * rollout controller all ask it.
 */
import { routesMatching } from '../flags/flag-change.js';
import type { FlagSnapshot } from '../flags/flag.js';
import type { Route, RouteCatalogue } from '../flags/route-catalogue.js';
import type { ObservationStore } from '../proxy/observe/observation.js';
import type { GateOverrides, GateThresholds } from '../src/config/schema.js';
import type { ResourceUsage } from './criteria/resources.js';
import { routeEvidence, stateRouteId } from './route-evidence.js';
import { thresholdsFor } from './thresholds.js';
import { judge, worstVerdict, type RouteVerdict, type Verdict } from './verdict.js';

export interface GateSources {
  observations: Pick<ObservationStore, 'tallies'>;
  catalogue: RouteCatalogue;
  /** config.gate.thresholds. */
  thresholds: GateThresholds;
  /** The current flags: without a --route, routes out of legacy are judged even with no observations. */
  flags?: () => Promise<FlagSnapshot>;
  /** Process usage per route over the window, when sampled. */
  resources?: (routeId: string) => ResourceUsage | undefined;
}

export interface GateRequest {
  /** A route id or glob; absent: every route observed in the window or out of legacy. */
  route?: string;
  since: Date;
  now?: Date;
  /** Thresholds from the command line, over the config's and the route's. */
  overrides?: GateOverrides;
}

export interface GateReport {
  generatedAt: string;
  since: string;
  verdict: Verdict;
  routes: RouteVerdict[];
}

export async function runGate(sources: GateSources, request: GateRequest): Promise<GateReport> {
  const now = request.now ?? new Date();
  let routes: readonly Route[];
  if (request.route !== undefined) routes = routesMatching(sources.catalogue.routes, request.route);
  else routes = sources.catalogue.routes;
  const routeIds = routes.flatMap((route) => (route.writes ? [route.id, stateRouteId(route.id)] : [route.id]));
  const tallies = (await sources.observations.tallies({ routeIds, since: request.since })).routes;
  if (request.route === undefined) {
    // Without a selection: what was observed, and what is out of legacy (so a flag with no evidence shows up).
    const observed = new Set(tallies.map((tally) => tally.routeId));
    const snapshot = await sources.flags?.();
    routes = routes.filter((route) => observed.has(route.id) || observed.has(stateRouteId(route.id)) || (snapshot?.flags.get(route.id)?.mode ?? 'legacy') !== 'legacy');
  }
  const byRoute = new Map<string, typeof tallies>();
  for (const tally of tallies) {
    const owner = tally.routeId.endsWith('.state') && !sources.catalogue.byId(tally.routeId) ? tally.routeId.slice(0, -'.state'.length) : tally.routeId;
    const list = byRoute.get(owner);
    if (list) list.push(tally);
    else byRoute.set(owner, [tally]);
  }
  const verdicts = routes.map((route) => {
    const thresholds = thresholdsFor(sources.thresholds, route, request.overrides);
    const evidence = routeEvidence(route.id, byRoute.get(route.id) ?? [], { since: request.since, now }, thresholds.minLatencySamples, route.sample);
    return judge(evidence, thresholds, sources.resources?.(route.id));
  });
  // No route selected is no evidence of anything, never a vacuous READY.
  const verdict = verdicts.length === 0 ? 'INSUFFICIENT_EVIDENCE' : worstVerdict(verdicts.map((entry) => entry.verdict));
  return { generatedAt: now.toISOString(), since: request.since.toISOString(), verdict, routes: verdicts };
}

/** What the report opens with: each route's verdict and the criteria that failed or could not say. */
export interface ReadinessSummary {
  verdict: Verdict;
  since: string;
  routes: Array<{
    routeId: string;
    verdict: Verdict;
    failed: Array<{ id: string; status: string; value: number | null; comparison: string; threshold: number }>;
    /** The advisory criteria (the seed's targets: 30% faster, decreased CPU and memory), shown as met or not. */
    advisory: Array<{ id: string; title: string; status: string; value: number | null; comparison: string; threshold: number; detail: string }>;
  }>;
}

export function readinessSummary(report: GateReport): ReadinessSummary {
  return {
    verdict: report.verdict,
    since: report.since,
    routes: report.routes.map((route) => ({
      routeId: route.routeId,
      verdict: route.verdict,
      failed: route.criteria.filter((criterion) => route.failed.includes(criterion.id)).map(({ id, status, value, comparison, threshold }) => ({ id, status, value, comparison, threshold })),
      advisory: route.criteria.filter((criterion) => !criterion.gating).map(({ id, title, status, value, comparison, threshold, detail }) => ({ id, title, status, value, comparison, threshold, detail })),
    })),
  };
}
