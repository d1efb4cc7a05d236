import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzRoute } from '../../../parity/runner/fuzz.js';
import { JobRows } from '../../../parity/runner/fuzz-rows.js';
import { calibrateRoute, calibrationRequests } from '../../../parity/runner/calibrate.js';
import { toNoiseProfile } from '../../../parity/runner/calibrate-learn.js';
import { startFuzzBench, type FuzzBench } from './fuzz-sides.js';

let bench: FuzzBench;
let rows: JobRows;

beforeAll(async () => {
  bench = await startFuzzBench('fuzz_routes');
  rows = new JobRows(bench.database.url);
}, 180_000);
afterAll(async () => {
  await rows?.close();
  await bench?.stop();
});

describe('cutover fuzz against real legacy and reimplemented sync', () => {
  it('finds no unexplained difference in 30 runs of the GIS export run route (seed 5)', async () => {
    const result = await fuzzRoute({
      routeId: 'sync.gis-export.run', runs: 30, seed: 5, legacyUrl: bench.sides.legacy[0]!, reimplUrl: bench.sides.reimpl!,
      catalogue: bench.catalogue, space: bench.space, rows,
    });
    expect(result.counterexamples.map((found) => [found.request.body, found.mismatches])).toEqual([]);
    expect(result.runs).toBe(30);
  }, 240_000);

  it('finds no unexplained difference in 30 runs of the valuation run route (seed 5)', async () => {
    const result = await fuzzRoute({
      routeId: 'sync.valuation.run', runs: 30, seed: 5, legacyUrl: bench.sides.legacy[0]!, reimplUrl: bench.sides.reimpl!,
      catalogue: bench.catalogue, space: bench.space, rows,
    });
    expect(result.counterexamples.map((found) => [found.request.body, found.mismatches])).toEqual([]);
    expect(result.runs).toBe(30);
  }, 240_000);

  it('finds no unexplained difference in 30 runs each of reporting job creation and status updates (seed 5)', async () => {
    for (const routeId of ['sync.reporting.reports.create', 'sync.reporting.reports.update'] as const) {
      const result = await fuzzRoute({
        routeId, runs: 30, seed: 5, legacyUrl: bench.sides.legacy[0]!, reimplUrl: bench.sides.reimpl!,
        catalogue: bench.catalogue, space: bench.space,
      });
      expect(result.counterexamples.map((found) => [found.request.body, found.mismatches])).toEqual([]);
      expect(result.runs).toBe(30);
      // A job's id is each side's own: the ids each side's create (or the update's setup) made are
      // correlated, as the proxy correlates them, so the job is compared and matched, never ignored.
      expect(result.counts.ignored ?? 0).toBe(0);
      expect(result.counts.matched ?? 0).toBeGreaterThan(0);
    }
  }, 240_000);

  it('finds no unexplained difference in 30 runs of /plugins/market-analysis/run, jobs followed to their end and rows compared (seed 5)', async () => {
    const result = await fuzzRoute({
      routeId: 'sync.market-analysis.plugin.run', runs: 30, seed: 5, legacyUrl: bench.sides.legacy[0]!, reimplUrl: bench.sides.reimpl!,
      catalogue: bench.catalogue, space: bench.space, rows,
    });
    expect(result.counterexamples.map((found) => [found.request.body, found.mismatches])).toEqual([]);
    expect(result.runs).toBe(30);
  }, 240_000);

  it('finds no unexplained difference in 40 cancels of jobs that do not exist, ids of any script and length (seed 5)', async () => {
    const result = await fuzzRoute({
      routeId: 'sync.market-analysis.plugin.cancel', runs: 40, seed: 5, legacyUrl: bench.sides.legacy[0]!, reimplUrl: bench.sides.reimpl!,
      catalogue: bench.catalogue, space: bench.space,
    });
    expect(result.counterexamples.map((found) => [found.request.path, found.mismatches])).toEqual([]);
    expect(result.runs).toBe(40);
  }, 240_000);

  it('finds no unexplained difference in 25 runs each of the v1 reporting and market-analysis job routes, jobs followed to their end (seed 5)', async () => {
    for (const routeId of ['sync.reporting.run', 'sync.market-analysis.run'] as const) {
      const result = await fuzzRoute({
        routeId, runs: 25, seed: 5, legacyUrl: bench.sides.legacy[0]!, reimplUrl: bench.sides.reimpl!,
        catalogue: bench.catalogue, space: bench.space,
      });
      expect(result.counterexamples.map((found) => [found.request.body, found.mismatches]), routeId).toEqual([]);
      expect(result.runs).toBe(25);
      // Job timestamps are held to each side's window: a job's status and results compare as matched, not ignored.
      expect(result.counts.matched ?? 0, routeId).toBeGreaterThan(0);
    }
  }, 300_000);

  it('finds no unexplained difference with the noise calibrated from legacy asked twice applied by the engine', async () => {
    const legacy = bench.sides.legacy[0]!;
    const learned = await calibrateRoute({
      route: bench.catalogue.byId('sync.valuation.run')!, catalogue: bench.catalogue, legacy: [legacy, legacy],
      requests: calibrationRequests('sync.valuation.run', bench.space, 4, 9), samples: 4,
    });
    const profiles = new Map(learned.map((entry) => [entry.routeId, toNoiseProfile(entry)]));
    expect(profiles.get('sync.valuation.run')!.paths['$.job_id']).toMatchObject({ varies: 'always', kind: 'uuid' });
    const result = await fuzzRoute({
      routeId: 'sync.valuation.run', runs: 20, seed: 7, legacyUrl: legacy, reimplUrl: bench.sides.reimpl!,
      catalogue: bench.catalogue, space: bench.space, sources: { noise: (id) => profiles.get(id) },
    });
    expect(result.counterexamples.map((found) => [found.request.body, found.mismatches])).toEqual([]);
  }, 240_000);
});
