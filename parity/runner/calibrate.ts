/**
 * `cutover calibrate`: the same requests sent to two legacy instances at once, and what differs
 * between them learned per route and per JSON path (calibrate-learn.ts). A job route teaches
 * three routes: its immediate answer (`x.run`), the job's terminal status (`x.status`) and its
 * results (`x.results`). Requests come from the golden fixtures of the route when there are
 * any, else from the fuzz generators' valid requests.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadRouteCatalogue, type Route, type RouteCatalogue } from '../../flags/route-catalogue.js';
import { parseJsonText, type JsonValue } from '../compare/json-text.js';
import { NoiseLearner, type LearnedRoute } from './calibrate-learn.js';
import type { InputSpace } from './fuzz-arbitraries.js';
import { planRoute } from './fuzz-catalogue.js';
import { exchangeOnSide, type Exchange, type RunRequest, type SideTarget } from './fuzz-exchange.js';
import type { NoiseStore } from './noise-store.js';
import type { RunProgress } from './progress.js';

export interface CalibrateOptions {
  route: Route;
  catalogue: RouteCatalogue;
  /** Two legacy sides (base URLs, or targets with a gateway each), or the same one twice: legacy asked twice. */
  legacy: readonly [string | SideTarget, string | SideTarget];
  /** Requests to send; when absent, `samples` valid requests are generated from `space`. */
  requests?: readonly RunRequest[];
  space?: InputSpace;
  samples: number;
  seed?: number;
  store?: NoiseStore;
  progress?: RunProgress;
  jobDeadlineMs?: number;
}

function json(exchange: Exchange | undefined): JsonValue | undefined {
  if (!exchange || exchange.failure || exchange.body.length === 0) return undefined;
  try {
    return parseJsonText(exchange.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The requests a calibration sends: valid ones from the route's catalogue plan (deterministic for a seed). */
export function calibrationRequests(routeId: string, space: InputSpace, samples: number, seed = 1, catalogue: RouteCatalogue = loadRouteCatalogue()): RunRequest[] {
  const plan = planRoute(catalogue.byId(routeId)!, catalogue, space, { invalid: false });
  return fc.sample(plan.cases, { numRuns: samples, seed }).map((fuzzCase) => plan.request(fuzzCase));
}

/**
 * The requests of a route's golden fixtures (`<dir>/<route-id>/*.json`, engineer C's format:
 * `request.method`, `request.path`, `request.body` as `{json}`, `{text}` or null).
 */
export function fixtureRequests(dir: string, routeId: string): RunRequest[] {
  const routeDir = join(dir, routeId);
  if (!existsSync(routeDir)) return [];
  const out: RunRequest[] = [];
  for (const file of readdirSync(routeDir).filter((name) => name.endsWith('.json')).sort()) {
    try {
      const fixture = JSON.parse(readFileSync(join(routeDir, file), 'utf8')) as { request?: { method?: string; path?: string; body?: { json?: unknown; text?: string } | null } };
      const request = fixture.request;
      if (!request?.method || !request.path) continue;
      const body = request.body ? ('json' in request.body ? JSON.stringify(request.body.json) : request.body.text) : undefined;
      out.push({ method: request.method, path: request.path, ...(body === undefined ? {} : { body }) });
    } catch {
      // A fixture that does not parse is replay's to report, not calibrate's.
    }
  }
  return out;
}

/** Calibrates one route (and its status/results siblings for a job route); stores and returns what was learned. */
export async function calibrateRoute(options: CalibrateOptions): Promise<LearnedRoute[]> {
  const { route, catalogue } = options;
  const requests = options.requests ?? calibrationRequests(route.id, options.space!, options.samples, options.seed, catalogue);
  const sibling = (suffix: string) => (/\.(run|cancel)$/.test(route.id) ? catalogue.byId(route.id.replace(/\.(run|cancel)$/, `.${suffix}`)) : undefined);
  const learners = {
    answer: new NoiseLearner(route.id),
    terminal: sibling('status') ? new NoiseLearner(sibling('status')!.id) : undefined,
    results: sibling('results') ? new NoiseLearner(sibling('results')!.id) : undefined,
  };
  let index = 0;
  for (const request of requests) {
    index += 1;
    const [a, b] = await Promise.all(options.legacy.map((url) => exchangeOnSide(url, request, route, catalogue, options.jobDeadlineMs)));
    const pairs: Array<[NoiseLearner | undefined, Exchange | undefined, Exchange | undefined]> = [
      [learners.answer, a!.answer, b!.answer],
      [learners.terminal, a!.terminal, b!.terminal],
      [learners.results, a!.results, b!.results],
    ];
    let differed = false;
    for (const [learner, x, y] of pairs) {
      const left = json(x);
      const right = json(y);
      if (!learner || left === undefined || right === undefined) continue;
      if (learner.observe(left, right) > 0 || x!.status !== y!.status) differed = true;
    }
    options.progress?.item({ id: `${route.id} sample ${index}`, outcome: differed ? 'noisy' : 'stable' });
  }
  const learnedAt = new Date().toISOString();
  const learned = [learners.answer, learners.terminal, learners.results]
    .filter((learner): learner is NoiseLearner => learner !== undefined && learner.samples > 0)
    .map((learner) => learner.learned(learnedAt));
  for (const entry of learned) await options.store?.save(entry);
  return learned;
}

/** Report lines of one calibration: the noisy paths, then how many stayed stable. */
export function describeLearned(learned: LearnedRoute): string[] {
  const noisy = learned.paths.filter((path) => path.varies !== 'never');
  const lines = [`${learned.routeId}: ${learned.samples} sample pairs, ${noisy.length} noisy paths, ${learned.paths.length - noisy.length} stable`];
  for (const path of noisy) {
    const how = path.varies === 'always' ? 'always' : `sometimes (${(path.rate * 100).toFixed(0)}%)`;
    const kind = path.format ? `${path.kind} ${path.format}` : path.range ? `${path.kind} in [${path.range.min}, ${path.range.max}]` : path.kind;
    lines.push(`  ${path.path}: ${how}, ${kind}${path.maxDelta !== undefined ? `, Δ ≤ ${path.maxDelta}` : ''}${path.pinned ? ' (pinned)' : ''}`);
  }
  return lines;
}
