import { join } from 'node:path';
import { routesMatching } from '../../../flags/flag-change.js';
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { calibrateRoute, calibrationRequests, describeLearned, fixtureRequests } from '../../../parity/runner/calibrate.js';
import { loadInputSpace } from '../../../parity/runner/fuzz-arbitraries.js';
import { SideTarget } from '../../../parity/runner/fuzz-exchange.js';
import { runDatabase, startSides } from '../../../parity/runner/fuzz-sides.js';
import { PgNoiseStore } from '../../../parity/runner/noise-store.js';
import { RunProgress } from '../../../parity/runner/progress.js';
import { loadConfig } from '../../config/load.js';
import { ensureDatabase, openDatabaseServer } from '../../db/server.js';
import { CutoverError } from '../../errors.js';
import { repoRoot } from '../../platform/paths.js';
import { parseOptions, type Command } from '../command.js';

/** `--pin route path` / `--unpin route path` on the configured database's noise store. */
async function pinPath(routeId: string, path: string | undefined, pinned: boolean): Promise<number> {
  if (!path) throw new CutoverError('CUTOVER_ERR_USAGE', `--${pinned ? 'pin' : 'unpin'} needs a route id and a JSON path, e.g. --pin sync.valuation.run '$.job_id'`);
  const config = loadConfig();
  const server = await openDatabaseServer(config, console.error);
  try {
    const store = new PgNoiseStore(config.database.url ?? (await ensureDatabase(server, config.database.name)));
    try {
      if (!(await store.pin(routeId, path, pinned))) {
        throw new CutoverError('CUTOVER_ERR_USAGE', `${routeId} has no calibrated path ${path}; run cutover calibrate --route ${routeId} first`);
      }
      console.log(`${routeId} ${path}: ${pinned ? 'pinned (later calibrations keep it as it is)' : 'unpinned'}`);
      return 0;
    } finally {
      await store.close();
    }
  } finally {
    await server.stop();
  }
}

export const calibrateCommand: Command = {
  name: 'calibrate',
  summary: 'Learn noise: send the same requests to two legacy instances and store, per route and JSON path, what differs by nature (and how).',
  usage: 'cutover calibrate [--route <route id|glob>] [--samples N] [--seed S] [--fixtures DIR] [--json FILE|-] [--isolated]\n' +
    '       cutover calibrate --pin <route-id> <json-path> | --unpin <route-id> <json-path>   (a pinned path is kept by later calibrations)',
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      route: { type: 'string' }, samples: { type: 'string' }, seed: { type: 'string' }, fixtures: { type: 'string' }, json: { type: 'string' }, isolated: { type: 'boolean' },
      pin: { type: 'string' }, unpin: { type: 'string' },
    }, true);
    if (values.pin !== undefined || values.unpin !== undefined) return pinPath(values.pin ?? values.unpin!, positionals[0], values.pin !== undefined);
    const catalogue = loadRouteCatalogue();
    // Narrator answers need a model; every other catalogued route is calibrated from its plan.
    const routes = routesMatching(catalogue.routes, values.route ?? '*').filter((route) => route.service !== 'narrator');
    if (routes.length === 0) throw new CutoverError('CUTOVER_ERR_FUZZ_ROUTE_UNSUPPORTED', `'${values.route}' names no catalogued sync or gateway route (flags/routes.yaml)`);
    const samples = Number(values.samples ?? 10);
    if (!Number.isInteger(samples) || samples < 1) throw new CutoverError('CUTOVER_ERR_USAGE', `--samples must be a positive integer, got '${values.samples}'`);
    const seed = Number(values.seed ?? 1);
    const fixturesDir = values.fixtures ?? join(repoRoot, 'parity/fixtures');
    const config = loadConfig();
    const server = await openDatabaseServer(config, console.error);
    const progress = new RunProgress({ title: `calibrate ${values.route ?? 'every sync and gateway route'}`, json: values.json, failOn: ['errored'] });
    let sides: Awaited<ReturnType<typeof startSides>> | undefined;
    let database: Awaited<ReturnType<typeof runDatabase>> | undefined;
    try {
      database = await runDatabase(config, server, values.isolated ?? false);
      const databaseUrl = database.url;
      const gateways = routes.some((route) => route.service === 'gateway');
      sides = await startSides({ config, databaseUrl, ...(database.seed ? { seed: database.seed } : {}), legacyInstances: 2, reimpl: false, gateways, log: (line) => progress.note(line) });
      const legacyTwice = [0, 1].map((i) => new SideTarget({ sync: sides!.legacy[i]!, ...(gateways ? { gateway: sides!.legacyGateways[i]! } : {}) }, config.fixtures.replayPasswords)) as [SideTarget, SideTarget];
      const space = await loadInputSpace(databaseUrl);
      // The learned noise always goes to the configured database, even when the sides ran on an isolated one.
      const store = new PgNoiseStore(values.isolated ? config.database.url ?? (await ensureDatabase(server, config.database.name)) : databaseUrl);
      const learned = [];
      try {
        for (const route of routes) {
          const fromFixtures = fixtureRequests(fixturesDir, route.id);
          // Golden fixtures are real traffic; generated valid requests fill up to --samples.
          const requests = [...fromFixtures, ...calibrationRequests(route.id, space, Math.max(samples - fromFixtures.length, 0), seed, catalogue)].slice(0, Math.max(samples, fromFixtures.length));
          progress.note(`${route.id}: ${fromFixtures.length} requests from fixtures, ${requests.length - fromFixtures.length} generated`);
          learned.push(...(await calibrateRoute({ route, catalogue, legacy: legacyTwice, requests, samples, store, progress })));
        }
      } finally {
        await store.close();
      }
      for (const entry of learned) progress.note(describeLearned(entry).join('\n'));
      return progress.finish({ learned }).exitCode;
    } finally {
      progress.finish();
      await sides?.stop();
      await database?.drop();
      await server.stop();
    }
  },
};
