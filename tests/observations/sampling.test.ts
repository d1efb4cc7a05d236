/** Shadow sampling per route: validated in the catalogue, decided per request where the shadow is decided, counted, and read back by the report and the gate. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlagSnapshot } from '../../flags/flag.js';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import { runGate } from '../../gate/gate.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import type { ObservationStore } from '../../proxy/observe/observation.js';
import { PgObservationStore } from '../../proxy/observe/pg-observation-store.js';
import { decide } from '../../proxy/serving/decide.js';
import { sampledIn } from '../../proxy/serving/sampling.js';
import { configSchema } from '../../src/config/schema.js';
import { buildReport } from '../../src/report/report.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';
import { observation } from '../proxy/observation-store.contract.js';

const catalogueWith = (route: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'sampling-')), 'routes.yaml');
  writeFileSync(file, `version: 1\nroutes:\n  - { id: sync.health, service: sync, method: GET, path: /health, owner: team-sync, writes: false, compare: { ignore: [], headers: [] }${route} }\n`);
  return () => loadRouteCatalogue(file);
};
const shadowing: FlagSnapshot = { flags: new Map([['sync.health', { routeId: 'sync.health', mode: 'shadow', percent: 0 }]]), killSwitch: false, state: 'live', loadedAt: new Date() } as FlagSnapshot;
const noKey = () => ({ source: 'header' as const, value: 'k' });

describe('a sampled route', () => {
  it('takes a sample above 0 and at most 1, and none on a route whose job ids are correlated', () => {
    expect(catalogueWith(', sample: 0.1')().routes[0]!.sample).toBe(0.1);
    expect(catalogueWith(', sample: 1')().routes[0]!.sample).toBe(1);
    for (const bad of [', sample: 0', ', sample: 1.5', ', sample: -0.2', ', sample: 0.1, correlation: [{ id: job_id, in: query, at: job_id }]']) {
      expect(catalogueWith(bad)).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_ROUTES_INVALID' }));
    }
  });

  it('shadows a share of requests held to the sample, the same decision for the same request id every time', () => {
    const route = catalogueWith(', sample: 0.1')().routes[0]!;
    const ids = Array.from({ length: 20_000 }, (_, index) => `req-${index}`);
    const decisions = ids.map((id) => decide(route, shadowing, noKey, () => id));
    const shadowed = decisions.filter((decision) => decision.shadow === 'reimpl').length;
    expect(Math.abs(shadowed / ids.length - 0.1)).toBeLessThan(0.01);
    expect(decisions.filter((decision) => decision.sampledOut).length).toBe(ids.length - shadowed);
    // Deterministic: asked again (another instance, a retry), every request is decided alike.
    expect(ids.map((id) => decide(route, shadowing, noKey, () => id).shadow)).toEqual(decisions.map((decision) => decision.shadow));
    for (const sample of [0.01, 0.5, 0.9]) {
      const share = ids.filter((id) => sampledIn({ id: 'sync.health', sample }, id)).length / ids.length;
      expect(Math.abs(share - sample)).toBeLessThan(0.015);
    }
    // Serving is never sampled: a sampled-out request is served as its flag says, only without a copy.
    expect(decisions.every((decision) => decision.serving === 'legacy' && decision.mode === 'shadow')).toBe(true);
    expect(decide(catalogueWith('')().routes[0]!, shadowing, noKey, () => 'any').shadow).toBe('reimpl');
  });
});

let database: IsolatedDatabase;
beforeAll(async () => {
  database = await createIsolatedDatabase('sampling', { migrated: true });
});
afterAll(() => database.drop());

describe('sampled-out requests', () => {
  for (const [name, open] of [['in-memory', async () => new FakeObservationStore()], ['PostgreSQL', async () => new PgObservationStore(database.url)]] as Array<[string, () => Promise<ObservationStore>]>) {
    it(`are counted per route and hour by the ${name} store, shown in the report and in what the gate says is missing`, async () => {
      const store = await open();
      try {
        const at = new Date('2026-07-01T10:20:00Z');
        await store.append(Array.from({ length: 30 }, () => observation({ observedAt: at })));
        await store.addSampledOut([{ routeId: 'sync.health', requests: 200 }], at);
        await store.addSampledOut([{ routeId: 'sync.health', requests: 70 }], new Date('2026-07-01T10:50:00Z'));
        await store.addSampledOut([{ routeId: 'sync.health', requests: 5 }], new Date('2026-07-01T08:00:00Z'));
        const catalogue = catalogueWith(', sample: 0.1')();
        const since = new Date('2026-07-01T10:00:00Z');
        const report = buildReport({ tallies: await store.tallies({ since }), routes: catalogue.routes });
        expect(report.routes[0]).toMatchObject({ routeId: 'sync.health', observations: 30, sample: 0.1, sampledOut: 270 });
        const thresholds = { ...configSchema.parse({}).gate.thresholds, minCompared: 100 };
        const gate = await runGate({ observations: store, catalogue, thresholds }, { route: 'sync.health', since, now: new Date('2026-07-01T11:00:00Z') });
        const compared = gate.routes[0]!.criteria.find((criterion) => criterion.id === 'evidence.compared')!;
        expect(compared.needs).toMatchObject({ observations: 70, requests: 700 });
        expect(compared.detail).toContain('sampled at 0.1 (270 requests without a copy)');
      } finally {
        await store.close();
      }
    });
  }
});
