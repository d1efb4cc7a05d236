/**
 * The reliability run's differential part (issue 10 item 6): every catalogued sync and gateway
 * route fuzzed against real legacy and reimplemented services (an isolated, seeded database; a
 * gateway per side, each calling its own side's sync; real logins), `--catalogue-runs` runs a
 * route, bounded by `--catalogue-minutes`. Its figures: per route the runs, verdicts, the rules
 * that ignored or settled differences, and every counterexample left, shrunk.
 */
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import { loadInputSpace } from '../../parity/runner/fuzz-arbitraries.js';
import { fuzzCatalogue } from '../../parity/runner/fuzz-catalogue-run.js';
import { sideTargets, startSides } from '../../parity/runner/fuzz-sides.js';
import { loadConfig } from '../../src/config/load.js';
import { createIsolatedDatabase } from '../setup/isolated-database.js';

export interface CatalogueFuzzFigures {
  runsPerRoute: number;
  seed: number;
  seconds: number;
  routes: Array<{ routeId: string; runs: number; counts: Record<string, number>; explainedBy: Record<string, number> }>;
  skipped: Array<{ routeId: string; reason: string }>;
  cases: number;
  counterexamples: Array<{ routeId: string; request: string; mismatches: string[] }>;
  failures: string[];
}

export async function runCatalogueFuzz(options: { runs: number; seed: number; minutes: number }): Promise<CatalogueFuzzFigures> {
  const started = Date.now();
  const config = loadConfig();
  const catalogue = loadRouteCatalogue();
  const database = await createIsolatedDatabase('reliability_fuzz');
  const sides = await startSides({ config, databaseUrl: database.url, legacyInstances: 1, reimpl: true, gateways: true, narrators: true, seed: [{ countyId: 'test_county', parcels: 300 }] });
  try {
    const { legacy, reimpl } = sideTargets(sides, config.fixtures.replayPasswords);
    const run = await fuzzCatalogue({
      catalogue, runs: options.runs, seed: options.seed, legacy, reimpl, space: await loadInputSpace(database.url, 40),
      passwords: config.fixtures.replayPasswords, maxCounterexamples: 3, shrinkBudget: 40, deadline: started + options.minutes * 60_000,
    });
    const counterexamples = run.results.flatMap((result) => result.counterexamples.map((found) => ({
      routeId: result.routeId,
      request: `${found.request.method} ${found.request.path} as ${found.request.as ?? 'nobody'} ${found.request.body?.slice(0, 300) ?? ''}`,
      mismatches: found.mismatches,
    })));
    const unreached = run.skipped;
    return {
      runsPerRoute: options.runs,
      seed: options.seed,
      seconds: (Date.now() - started) / 1000,
      routes: run.results.map(({ routeId, runs, counts, explainedBy }) => ({ routeId, runs, counts, explainedBy })),
      skipped: run.skipped,
      cases: run.results.reduce((sum, result) => sum + result.runs, 0),
      counterexamples,
      failures: [
        ...counterexamples.map((found) => `${found.routeId}: ${found.request}: ${found.mismatches.slice(0, 3).join('; ')}`),
        ...unreached.map((entry) => `${entry.routeId} not fuzzed: ${entry.reason}`),
      ],
    };
  } finally {
    await sides.stop();
    await database.drop();
  }
}
