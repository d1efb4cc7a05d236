/** The report's and the gate's numbers in SQL equal those computed directly from the same observations, over a small varied set in real PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import { runGate } from '../../gate/gate.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import type { Observation } from '../../proxy/observe/observation.js';
import { sharedTallies, talliesOf } from '../../proxy/observe/observation-tallies.js';
import { PgObservationStore } from '../../proxy/observe/pg-observation-store.js';
import { configSchema } from '../../src/config/schema.js';
import { buildReport } from '../../src/report/report.js';
import { collectReport } from '../../src/report/write-report.js';
import { Prng } from '../../src/seed/prng.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';
import { observation } from '../proxy/observation-store.contract.js';

const start = Date.parse('2026-06-01T08:00:00Z');
const routes = ['sync.health', 'sync.gis-export.status', 'sync.gis-export.run', 'sync.gis-export.run.state', 'sync.retired-long-ago'];

function varied(count: number): Observation[] {
  const prng = new Prng(11);
  const random = () => prng.next();
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  return Array.from({ length: count }, (_, index) => {
    const routeId = pick(routes);
    // One route never in canary: its latencies have no 'split' basis at all, a case of its own in SQL.
    const drawn = pick(['shadow', 'shadow', 'canary', 'reimpl'] as const);
    const mode = routeId === 'sync.gis-export.status' && drawn === 'canary' ? 'shadow' : drawn;
    const servingSide = mode === 'shadow' || (mode === 'canary' && random() < 0.5) ? 'legacy' : 'reimpl';
    const shadowSide = servingSide === 'legacy' ? 'reimpl' : 'legacy';
    // Whole and half milliseconds: ties in the ranks, and at the bucket bounds.
    const latency = () => pick([0.5, 1, 2, 2, 5, 7.5, 10, 50, 5000, 6000, Math.round(random() * 400) / 2]);
    const failure = pick([null, null, null, null, { status: 503, error: null }, { status: null, error: 'CUTOVER_ERR_UPSTREAM_TIMEOUT' }, { status: null, error: 'CUTOVER_ERR_CLIENT_ABORTED' }, { status: 200, error: 'CUTOVER_ERR_UPSTREAM_TIMEOUT' }] as const);
    const verdict = failure ? 'errored' : pick(['matched', 'matched', 'matched', 'mismatched', 'ignored'] as const);
    const differences: Observation['differences'] = [];
    if (verdict === 'mismatched') {
      differences.push({ path: `$.items[${index % 3}].value`, serving: String(index), shadow: String(index + 1), disposition: { as: 'mismatch' } });
      if (random() < 0.5) differences.push({ path: '$.total', serving: '1', shadow: '2' });
      if (random() < 0.3) differences.push({ path: '$.items[7].value', serving: '"x"', shadow: '"y"' });
      if (random() < 0.3) differences.push({ path: '$.noise', serving: '1', shadow: '2', disposition: { as: 'noise', id: 'learned' } as never });
      if (random() < 0.3) differences.push({ path: '$.at', serving: '1', shadow: '2', ignoredBy: '$.at' });
    }
    if (random() < 0.2) differences.push({ path: `$.rows[${index % 4}].area`, serving: '1.0', shadow: '1', disposition: { as: 'accepted', id: pick(['sync.rounding', 'sync.area']) } });
    return observation({
      observedAt: new Date(start + Math.floor(random() * 5 * 3_600_000)),
      routeId,
      service: routeId === 'sync.retired-long-ago' ? 'sync' : 'sync',
      method: pick(['GET', 'POST']),
      path: `/p/${index}?q=${index % 5}`,
      mode,
      serving: { side: servingSide, status: failure && random() < 0.5 ? failure.status : 200, latencyMs: latency(), error: failure && random() < 0.5 ? failure.error : null, body: null },
      shadow: { side: shadowSide, status: failure ? failure.status : 200, latencyMs: latency(), error: failure ? failure.error : null, body: null },
      verdict,
      ignoredBy: verdict === 'ignored' ? [pick(['$.created_at', 'compare.max-body']), ...(random() < 0.3 ? ['eventual-state'] : [])] : [],
      erroredSide: verdict === 'errored' ? pick(['serving', 'shadow', 'both'] as const) : null,
      differences,
    });
  });
}

let database: IsolatedDatabase;
let pgStore: PgObservationStore;
const fake = new FakeObservationStore();
const observations = varied(1500);
const catalogue = loadRouteCatalogue();
const thresholds = { ...configSchema.parse({}).gate.thresholds, minCompared: 50, minLatencySamples: 5 };

beforeAll(async () => {
  database = await createIsolatedDatabase('tallies', { migrated: true });
  pgStore = new PgObservationStore(database.url);
  // In batches, as the recorder writes them; the fake gets the same ids in the same order.
  for (let at = 0; at < observations.length; at += 200) {
    await pgStore.append(observations.slice(at, at + 200));
    await fake.append(observations.slice(at, at + 200));
  }
});
afterAll(async () => {
  await pgStore.close();
  await database.drop();
});

describe('tallies in SQL', () => {
  it('equal the direct computation, for the whole set and for a window of some routes', async () => {
    const stored = await pgStore.list({ limit: 10_000 });
    expect(stored).toHaveLength(observations.length);
    expect(await pgStore.tallies()).toEqual(talliesOf(stored));
    const query = { since: new Date(start + 2 * 3_600_000), routeIds: ['sync.health', 'sync.gis-export.run', 'sync.gis-export.run.state'] };
    const windowed = await pgStore.tallies(query);
    expect(windowed).toEqual(talliesOf(stored, query));
    expect(windowed.routes.map((route) => route.routeId)).toEqual(query.routeIds.slice().sort());
    // The set reaches every branch it should: otherwise equality would prove little.
    const health = windowed.routes.find((route) => route.routeId === 'sync.health')!;
    expect(health.mismatchPaths.map((entry) => entry.path)).toEqual(expect.arrayContaining(['$.items[*].value', '$.total']));
    expect(health.mismatchPaths.map((entry) => entry.path)).not.toContain('$.noise');
    expect(health.accepted.map((entry) => entry.id)).toEqual(['sync.area', 'sync.rounding']);
    expect(health.latency.copies.tieTerm).toBeGreaterThan(0);
    expect(health.latency.split.reimpl.count).toBeGreaterThan(0);
    expect(health.sides.some((answer) => answer.error === 'CUTOVER_ERR_CLIENT_ABORTED')).toBe(true);
    const neverCanary = (await pgStore.tallies()).routes.find((route) => route.routeId === 'sync.gis-export.status')!;
    expect(neverCanary.latency.copies.legacy.count).toBeGreaterThan(0);
    expect(neverCanary.latency.split).toEqual({ legacy: { count: 0, p50: null, p95: null, p99: null }, reimpl: { count: 0, p50: null, p95: null, p99: null }, reimplRankSum: 0, tieTerm: 0 });
  });

  it('give the same report as the observations read into memory', async () => {
    const now = new Date('2026-06-02T00:00:00Z');
    const fromSql = await collectReport({ observations: pgStore, catalogue }, { now, include: 'all' });
    const direct = buildReport({ observations: await pgStore.list({ limit: 10_000 }), routes: catalogue.routes, generatedAt: now, include: 'all' });
    expect(fromSql).toEqual(direct);
    expect(fromSql.totals.observations).toBe(observations.length);
    expect(fromSql.routes.find((route) => route.routeId === 'sync.retired-long-ago')).toMatchObject({ path: '(not in the catalogue)' });
  });

  it('give the gate the same verdicts, criteria and values as the in-memory store', async () => {
    const request = { since: new Date(start), now: new Date('2026-06-02T00:00:00Z') };
    const fromSql = await runGate({ observations: pgStore, catalogue, thresholds }, request);
    const direct = await runGate({ observations: fake, catalogue, thresholds }, request);
    expect(fromSql).toEqual(direct);
    expect(fromSql.routes.map((route) => route.routeId)).toEqual(expect.arrayContaining(['sync.health', 'sync.gis-export.run']));
    // As `cutover report` asks: the report's tallies of the window, and the gate's answered from them.
    const shared = sharedTallies(pgStore);
    const [, fromShared] = await Promise.all([shared.tallies({ since: request.since }), runGate({ observations: shared, catalogue, thresholds }, request)]);
    expect(fromShared).toEqual(direct);
    const run = fromSql.routes.find((route) => route.routeId === 'sync.gis-export.run')!;
    expect(run.evidence.stateObservations).toBeGreaterThan(0);
  });
});
