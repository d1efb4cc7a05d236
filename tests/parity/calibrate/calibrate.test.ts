import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrateRoute, calibrationRequests } from '../../../parity/runner/calibrate.js';
import { toNoiseProfile, type LearnedRoute } from '../../../parity/runner/calibrate-learn.js';
import { PgNoiseStore } from '../../../parity/runner/noise-store.js';
import { startFuzzBench, type FuzzBench } from '../fuzz/fuzz-sides.js';

let bench: FuzzBench;
let store: PgNoiseStore;

beforeAll(async () => {
  bench = await startFuzzBench('calibrate', { legacyInstances: 2, reimpl: false });
  store = new PgNoiseStore(bench.database.url);
}, 180_000);
afterAll(async () => {
  await store?.close();
  await bench?.stop();
});

const pathOf = (learned: LearnedRoute[], routeId: string, path: string) => learned.find((entry) => entry.routeId === routeId)?.paths.find((entry) => entry.path === path);

describe('cutover calibrate against two real legacy sync instances on one database', () => {
  it('learns that a GIS export job_id and created_at always differ (a uuid, a naive microsecond timestamp) while the record count is stable', async () => {
    const route = bench.catalogue.byId('sync.gis-export.run')!;
    const learned = await calibrateRoute({
      route, catalogue: bench.catalogue, legacy: [bench.sides.legacy[0]!, bench.sides.legacy[1]!],
      requests: calibrationRequests('sync.gis-export.run', bench.space, 5, 3), samples: 5, store,
    });
    expect(learned.map((entry) => entry.routeId)).toEqual(['sync.gis-export.run', 'sync.gis-export.status', 'sync.gis-export.results']);
    expect(pathOf(learned, 'sync.gis-export.run', '$.job_id')).toMatchObject({ varies: 'always', rate: 1, kind: 'uuid' });
    // The two instances are asked at the same moment and stamp utcnow() to the microsecond; under
    // load a pair has been seen to stamp the same one, and then the learner rightly says
    // `sometimes`. `never` would be a bug.
    expect(pathOf(learned, 'sync.gis-export.run', '$.created_at')).toMatchObject({ varies: expect.stringMatching(/^(always|sometimes)$/), kind: 'timestamp', format: '9999-99-99T99:99:99.999999' });
    expect(pathOf(learned, 'sync.gis-export.run', '$.created_at')!.rate).toBeGreaterThan(0);
    expect(pathOf(learned, 'sync.gis-export.run', '$.status')).toMatchObject({ varies: 'never', differed: 0 });
    const count = pathOf(learned, 'sync.gis-export.results', '$.result.record_count');
    expect(count).toMatchObject({ varies: 'never', kind: 'integer' });
    expect(count!.samples).toBeGreaterThan(0);
    // What the engine receives: only the noisy paths.
    const profile = toNoiseProfile(learned[0]!);
    expect(Object.keys(profile.paths).sort()).toEqual(['$.created_at', '$.job_id', '$.updated_at']);
  }, 180_000);

  it('stores what it learned in PostgreSQL, and a pinned path survives the next calibration', async () => {
    const stored = await store.load('sync.valuation.run');
    expect(stored).toBeUndefined();
    const route = bench.catalogue.byId('sync.valuation.run')!;
    const calibrate = (samples: number) => calibrateRoute({
      route, catalogue: bench.catalogue, legacy: [bench.sides.legacy[0]!, bench.sides.legacy[1]!],
      requests: calibrationRequests('sync.valuation.run', bench.space, samples, 4), samples, store,
    });
    await calibrate(3);
    const first = await store.load('sync.valuation.run');
    expect(first).toMatchObject({ routeId: 'sync.valuation.run', samples: 3 });
    expect(first!.paths.find((path) => path.path === '$.job_id')).toMatchObject({ varies: 'always', kind: 'uuid', samples: 3 });
    expect(await store.pin('sync.valuation.run', '$.job_id', true)).toBe(true);
    await calibrate(2);
    const second = await store.load('sync.valuation.run');
    expect(second!.samples).toBe(2);
    expect(second!.paths.find((path) => path.path === '$.job_id')).toMatchObject({ pinned: true, samples: 3 });
    expect(second!.paths.find((path) => path.path === '$.created_at')).toMatchObject({ samples: 2 });
    expect((await store.list()).map((entry) => entry.routeId)).toContain('sync.gis-export.results');
  }, 180_000);
});
