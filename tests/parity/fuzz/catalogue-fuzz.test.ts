import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { loadInputSpace, type InputSpace } from '../../../parity/runner/fuzz-arbitraries.js';
import { calibrateRoute, calibrationRequests } from '../../../parity/runner/calibrate.js';
import { toNoiseProfile } from '../../../parity/runner/calibrate-learn.js';
import { fuzzCatalogue, type CatalogueFuzzResult } from '../../../parity/runner/fuzz-catalogue-run.js';
import { sideTargets, startSides, type Sides } from '../../../parity/runner/fuzz-sides.js';
import { loadConfig } from '../../../src/config/load.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../../setup/isolated-database.js';

const catalogue = loadRouteCatalogue();
const config = loadConfig();
let database: IsolatedDatabase;
let sides: Sides;
let run: CatalogueFuzzResult;
let space: InputSpace;
let targets: ReturnType<typeof sideTargets>;
const runsPerRoute = 3;

beforeAll(async () => {
  database = await createIsolatedDatabase('fuzz_catalogue');
  sides = await startSides({ config, databaseUrl: database.url, legacyInstances: 1, reimpl: true, gateways: true, narrators: true, seed: [{ countyId: 'test_county', parcels: 200 }] });
  targets = sideTargets(sides, config.fixtures.replayPasswords);
  const { legacy, reimpl } = targets;
  space = await loadInputSpace(database.url, 20);
  run = await fuzzCatalogue({
    catalogue, runs: runsPerRoute, seed: 11, legacy, reimpl, space,
    passwords: config.fixtures.replayPasswords, maxCounterexamples: 1, shrinkBudget: 10,
  });
}, 240_000);
afterAll(async () => {
  await sides?.stop();
  await database?.drop();
});

describe('cutover fuzz over the whole catalogue, against real legacy and reimplemented sync, gateways and narrators', () => {
  it('fuzzes every catalogued route, the narrator’s through a narrator and an Ollama stand-in per side', () => {
    expect(run.results.map((result) => result.routeId)).toEqual(catalogue.routes.map((route) => route.id));
    expect(run.skipped).toEqual([]);
    for (const result of run.results) expect(result.runs, result.routeId).toBe(runsPerRoute);
  });

  it('analyses a GIS job each side’s sync made first, the ids correlated, and matches the narrations', () => {
    const analysis = run.results.find((result) => result.routeId === 'narrator.analyze.gis-export')!;
    expect(analysis.inputs).toContain('body job_id (setup sync.gis-export.run)');
    expect(analysis.counts.ignored ?? 0).toBe(0);
    expect(analysis.counts.matched ?? 0).toBe(runsPerRoute);
  });

  it('finds no difference that no rule, race or accepted difference explains', () => {
    const found = run.results.flatMap((result) => result.counterexamples.map((counterexample) => ({
      route: result.routeId, request: `${counterexample.request.method} ${counterexample.request.path} as ${counterexample.request.as ?? 'nobody'} ${counterexample.request.body?.slice(0, 120) ?? ''}`, mismatches: counterexample.mismatches,
    })));
    expect(found).toEqual([]);
  });

  it('counts ignored apart from matched, and ignores only what a route declares it ignores', () => {
    for (const result of run.results) {
      const route = catalogue.byId(result.routeId)!;
      const total = Object.values(result.counts).reduce((sum, count) => sum + count, 0);
      expect(total, result.routeId).toBe(result.runs);
      // A uuid without a correlation, a timestamp without a window: missing evidence, which must not occur.
      const ignoredBy = Object.keys(result.explainedBy).filter((rule) => rule.startsWith('ignored ')).map((rule) => rule.slice('ignored '.length));
      expect(ignoredBy.filter((rule) => !route.compare.ignore.includes(rule)), result.routeId).toEqual([]);
    }
    // The creates: their ids correlated, so compared and matched, not ignored.
    for (const id of ['sync.reporting.reports.create', 'gateway.reporting.reports.create', 'sync.gis-export.run', 'gateway.gis-export.run']) {
      const result = run.results.find((entry) => entry.routeId === id)!;
      expect(result.counts.ignored ?? 0, id).toBe(0);
      expect(result.counts.matched ?? 0, id).toBeGreaterThan(0);
    }
  });

  it('calibrates a gateway route from its plan, logged in on each legacy side, and learns the job id as uuid noise', async () => {
    const route = catalogue.byId('gateway.valuation.run')!;
    // As an assessor, who may run valuations: every request reaches the job.
    const requests = calibrationRequests(route.id, space, 3, 4, catalogue).map((request) => ({ ...request, as: 'assessor' }));
    expect(requests.every((request) => request.service === 'gateway' && request.path === '/api/v1/valuation/run')).toBe(true);
    const learned = await calibrateRoute({ route, catalogue, legacy: [targets.legacy, targets.legacy], requests, samples: 3 });
    const answer = learned.find((entry) => entry.routeId === 'gateway.valuation.run')!;
    expect(answer.samples).toBe(3);
    expect(toNoiseProfile(answer).paths['$.job_id']).toMatchObject({ varies: 'always', kind: 'uuid' });
    // Its status and results were learned through the same gateway, the job followed to its end.
    expect(learned.map((entry) => entry.routeId).sort()).toEqual(['gateway.valuation.results', 'gateway.valuation.run', 'gateway.valuation.status']);
  }, 60_000);
});
