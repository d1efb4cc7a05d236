import { join } from 'node:path';
import { routesMatching } from '../../../flags/flag-change.js';
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { loadInputSpace } from '../../../parity/runner/fuzz-arbitraries.js';
import { fuzzCatalogue } from '../../../parity/runner/fuzz-catalogue-run.js';
import { runDatabase, sideTargets, startSides } from '../../../parity/runner/fuzz-sides.js';
import { JobRows } from '../../../parity/runner/fuzz-rows.js';
import { PgNoiseStore } from '../../../parity/runner/noise-store.js';
import { routeNoise } from '../../../parity/runner/calibrate-learn.js';
import { RunProgress } from '../../../parity/runner/progress.js';
import { loadConfig } from '../../config/load.js';
import { ensureDatabase, openDatabaseServer } from '../../db/server.js';
import { CutoverError } from '../../errors.js';
import { repoRoot } from '../../platform/paths.js';
import { parseOptions, type Command } from '../command.js';
import type { NoiseProfile } from '../../../parity/compare/engine.js';

function positiveInteger(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new CutoverError('CUTOVER_ERR_USAGE', `--${name} must be a non-negative integer, got '${raw}'`);
  return value;
}

export const fuzzCommand: Command = {
  name: 'fuzz',
  summary: 'Differential fuzzing of any catalogued route: generated valid and invalid requests (bodies, path and query parameters, logins) sent to legacy and the reimplementation, compared; counterexamples shrunk and saved as fixtures.',
  usage: 'cutover fuzz --route <route id|glob> [--runs N] [--seed S] [--valid-only] [--fixtures DIR] [--json FILE|-] [--isolated] [--shrink-budget N]',
  async run(argv) {
    const { values } = parseOptions(argv, {
      route: { type: 'string' }, runs: { type: 'string' }, seed: { type: 'string' }, 'valid-only': { type: 'boolean' },
      fixtures: { type: 'string' }, json: { type: 'string' }, isolated: { type: 'boolean' }, 'shrink-budget': { type: 'string' },
    });
    if (!values.route) throw new CutoverError('CUTOVER_ERR_USAGE', 'fuzz needs --route <route id or glob>');
    const catalogue = loadRouteCatalogue();
    const routes = routesMatching(catalogue.routes, values.route);
    if (routes.length === 0) throw new CutoverError('CUTOVER_ERR_FUZZ_ROUTE_UNSUPPORTED', `'${values.route}' names no catalogued route (flags/routes.yaml)`);
    const runs = positiveInteger('runs', values.runs, 100);
    const seed = positiveInteger('seed', values.seed, Date.now() % 2 ** 31);
    const shrinkBudget = positiveInteger('shrink-budget', values['shrink-budget'], 200);
    const config = loadConfig();
    const server = await openDatabaseServer(config, console.error);
    const progress = new RunProgress({ title: `fuzz ${values.route} (seed ${seed})`, total: runs * routes.length, json: values.json });
    const noise = new Map<string, NoiseProfile>();
    let sides: Awaited<ReturnType<typeof startSides>> | undefined;
    let database: Awaited<ReturnType<typeof runDatabase>> | undefined;
    try {
      database = await runDatabase(config, server, values.isolated ?? false);
      const databaseUrl = database.url;
      // Gateway routes are fuzzed through a gateway per side, each calling its own side's sync.
      const gateways = routes.some((route) => route.service === 'gateway');
      // Narrator routes through a narrator per side, each with its own side's sync and Ollama stand-in.
      const narrators = routes.some((route) => route.service === 'narrator');
      sides = await startSides({ config, databaseUrl, ...(database.seed ? { seed: database.seed } : {}), legacyInstances: 1, reimpl: true, gateways, narrators, log: (line) => progress.note(line) });
      // Calibrated noise, when there is any: differences within legacy-vs-legacy spread are not mismatches.
      // Calibrations live in the configured database, also when the sides run on an isolated one.
      const store = new PgNoiseStore(values.isolated ? config.database.url ?? (await ensureDatabase(server, config.database.name)) : databaseUrl);
      const calibrated = new Map((await store.list().catch(() => [])).map((learned) => [learned.routeId, learned]));
      // Every route's noise: its calibration, as its rules pin or overrule it (a pinned path applies without one).
      for (const route of catalogue.routes) {
        const profile = routeNoise(route.id, calibrated.get(route.id), route.compare);
        if (profile) noise.set(route.id, profile);
      }
      await store.close();
      const space = await loadInputSpace(databaseUrl);
      const rows = new JobRows(databaseUrl);
      const targets = sideTargets(sides, config.fixtures.replayPasswords);
      const { results, skipped } = await fuzzCatalogue({
        catalogue, routes: routes.map((route) => route.id), runs, seed, legacy: targets.legacy, reimpl: targets.reimpl, space,
        invalid: !values['valid-only'], fixturesDir: values.fixtures ?? join(repoRoot, 'parity/fixtures/fuzz'),
        sources: { noise: (id) => noise.get(id) }, rows, progress, shrinkBudget, passwords: config.fixtures.replayPasswords,
      }).finally(() => rows.close());
      for (const entry of skipped) progress.note(`${entry.routeId}: not fuzzed (${entry.reason})`);
      for (const result of results) {
        const explained = Object.entries(result.explainedBy).map(([rule, count]) => `${rule} ×${count}`).join(', ');
        progress.note(`${result.routeId}: ${result.runs} runs ${JSON.stringify(result.counts)}${explained ? `; explained by ${explained}` : ''}`);
      }
      for (const result of results) {
        for (const found of result.counterexamples) {
          progress.note(`counterexample ${found.routeId} (${found.family}, ${found.shrinkSteps} shrink steps)${found.fixtureFile ? ` saved to ${found.fixtureFile}` : ''}\n  request: ${found.request.body?.slice(0, 500)}\n  ${found.mismatches.slice(0, 5).join('\n  ')}`);
        }
      }
      const summary = progress.finish({ seed, runs, routes: results.map(({ routeId, runs: made, counts, explainedBy, inputs }) => ({ routeId, runs: made, counts, explainedBy, inputs })), skipped, counterexamples: results.flatMap((result) => result.counterexamples) });
      return results.some((result) => result.counterexamples.length > 0) ? 1 : summary.exitCode;
    } finally {
      progress.finish();
      await sides?.stop();
      await database?.drop();
      await server.stop();
    }
  },
};
