/**
 * Fuzzes every route of a catalogue (or those a glob picks) on the sides that were started:
 * the one loop `cutover fuzz`, its tests and `npm run reliability` share. A route whose
 * service has no side here (the narrator, when only sync and gateway run) is listed as
 * skipped with the reason, never passed silently.
 */
import { routesMatching } from '../../flags/flag-change.js';
import type { RouteCatalogue } from '../../flags/route-catalogue.js';
import type { InputSpace } from './fuzz-arbitraries.js';
import type { CompareSources } from './fuzz-compare.js';
import type { SideTarget } from './fuzz-exchange.js';
import { fuzzRoute, type FuzzResult } from './fuzz.js';
import type { JobRows } from './fuzz-rows.js';
import type { RunProgress } from './progress.js';

export interface CatalogueFuzzOptions {
  catalogue: RouteCatalogue;
  /** Route ids or globs (`sync.*`); default every route. */
  routes?: string | readonly string[];
  runs: number;
  seed: number;
  legacy: SideTarget;
  reimpl: SideTarget;
  space: InputSpace;
  invalid?: boolean;
  sources?: CompareSources;
  rows?: JobRows;
  fixturesDir?: string;
  shrinkBudget?: number;
  maxCounterexamples?: number;
  passwords?: Readonly<Record<string, string>>;
  progress?: RunProgress;
  /** Stop starting routes after this instant (ms since epoch); the routes not reached are listed as skipped. */
  deadline?: number;
}

export interface CatalogueFuzzResult {
  results: FuzzResult[];
  skipped: Array<{ routeId: string; reason: string }>;
}

export async function fuzzCatalogue(options: CatalogueFuzzOptions): Promise<CatalogueFuzzResult> {
  const globs = options.routes === undefined ? undefined : typeof options.routes === 'string' ? [options.routes] : options.routes;
  const routes = globs ? options.catalogue.routes.filter((route) => globs.some((glob) => routesMatching([route], glob).length > 0)) : options.catalogue.routes;
  const results: FuzzResult[] = [];
  const skipped: CatalogueFuzzResult['skipped'] = [];
  for (const route of routes) {
    if (!options.legacy.urls[route.service] || !options.reimpl.urls[route.service]) {
      skipped.push({ routeId: route.id, reason: `no ${route.service} service on both sides` });
      continue;
    }
    if (options.deadline !== undefined && Date.now() > options.deadline) {
      skipped.push({ routeId: route.id, reason: 'the run reached its time bound' });
      continue;
    }
    results.push(await fuzzRoute({
      routeId: route.id, runs: options.runs, seed: options.seed, legacyUrl: options.legacy, reimplUrl: options.reimpl,
      catalogue: options.catalogue, space: options.space,
      ...(options.invalid === undefined ? {} : { invalid: options.invalid }),
      ...(options.sources ? { sources: options.sources } : {}),
      ...(options.rows ? { rows: options.rows } : {}),
      ...(options.fixturesDir ? { fixturesDir: options.fixturesDir } : {}),
      ...(options.shrinkBudget === undefined ? {} : { shrinkBudget: options.shrinkBudget }),
      ...(options.maxCounterexamples === undefined ? {} : { maxCounterexamples: options.maxCounterexamples }),
      ...(options.passwords ? { passwords: options.passwords } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
    }));
  }
  return { results, skipped };
}
