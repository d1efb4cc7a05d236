/** The ObservationStore contract: the same sentences run against PostgreSQL and the in-memory fake. */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Observation, ObservationStore } from '../../proxy/observe/observation.js';

export function observation(overrides: Partial<Observation> = {}): Observation {
  return {
    observedAt: new Date('2026-01-01T10:00:00.000Z'),
    routeId: 'sync.health',
    service: 'sync',
    method: 'GET',
    path: '/health?x=1',
    mode: 'shadow',
    serving: { side: 'legacy', status: 200, latencyMs: 1.25, error: null, body: null },
    shadow: { side: 'reimpl', status: 200, latencyMs: 2.5, error: null, body: null },
    verdict: 'matched',
    ignoredBy: [],
    erroredSide: null,
    differences: [],
    ...overrides,
  };
}

export function observationStoreContract(name: string, open: () => Promise<ObservationStore>, cleanup: () => Promise<void> = async () => undefined): void {
  describe(`${name} observation store`, () => {
    let store: ObservationStore;
    beforeEach(async () => {
      store = await open();
      return () => store.close();
    });
    afterAll(cleanup);

    it('gives back what it was given, with an id', async () => {
      const mismatch = observation({
        verdict: 'mismatched',
        differences: [{ path: '$.n', serving: '1.0', shadow: '1' }, { path: '$.gone', serving: '"x"' }],
        serving: { side: 'legacy', status: 200, latencyMs: 1.5, error: null, body: '{"n":1.0}' },
        shadow: { side: 'reimpl', status: 500, latencyMs: 3, error: null, body: 'oops' },
      });
      await store.append([mismatch]);
      const [found] = await store.list();
      expect(found!.id).toEqual(expect.any(Number));
      const { id: _id, ...rest } = found!;
      expect(rest).toEqual(mismatch);
    });

    it('keeps ignored with its rules and errored with its side apart from matched', async () => {
      await store.append([
        observation({ verdict: 'ignored', ignoredBy: ['$.created_at'], differences: [{ path: '$.created_at', serving: '"a"', shadow: '"b"', ignoredBy: '$.created_at' }] }),
        observation({ verdict: 'errored', erroredSide: 'shadow', shadow: { side: 'reimpl', status: null, latencyMs: 1000, error: 'CUTOVER_ERR_UPSTREAM_TIMEOUT', body: null } }),
        observation(),
      ]);
      expect((await store.list({ verdict: 'matched' })).length).toBe(1);
      expect((await store.list({ verdict: 'ignored' }))[0]!.ignoredBy).toEqual(['$.created_at']);
      expect((await store.list({ verdict: 'errored' }))[0]).toMatchObject({ erroredSide: 'shadow', shadow: { status: null, error: 'CUTOVER_ERR_UPSTREAM_TIMEOUT' } });
    });

    it('filters by route and time and lists newest first, up to the limit', async () => {
      await store.append([
        observation({ observedAt: new Date('2026-01-01T10:00:00Z') }),
        observation({ observedAt: new Date('2026-01-01T12:00:00Z') }),
        observation({ observedAt: new Date('2026-01-01T11:00:00Z'), routeId: 'sync.other' }),
      ]);
      expect((await store.list({ routeId: 'sync.health' })).map((row) => row.observedAt.toISOString())).toEqual([
        '2026-01-01T12:00:00.000Z',
        '2026-01-01T10:00:00.000Z',
      ]);
      expect((await store.list({ since: new Date('2026-01-01T11:00:00Z') })).length).toBe(2);
      expect((await store.list({ limit: 1 }))[0]!.observedAt.toISOString()).toBe('2026-01-01T12:00:00.000Z');
    });

    it('prunes what is older than the retention bound and says how many', async () => {
      await store.append([observation({ observedAt: new Date('2025-12-01T00:00:00Z') }), observation()]);
      expect(await store.prune(new Date('2025-12-31T00:00:00Z'))).toBe(1);
      expect((await store.list()).length).toBe(1);
    });

    it('drops whole UTC days only: the day holding the bound is kept', async () => {
      await store.append([observation({ observedAt: new Date('2026-01-01T01:00:00Z') }), observation({ observedAt: new Date('2026-01-01T23:00:00Z') }), observation({ observedAt: new Date('2026-01-02T00:00:00Z') })]);
      expect(await store.prune(new Date('2026-01-01T23:30:00Z'))).toBe(0);
      expect(await store.prune(new Date('2026-01-02T00:00:00Z'))).toBe(2);
      expect((await store.list()).map((row) => row.observedAt.toISOString())).toEqual(['2026-01-02T00:00:00.000Z']);
    });

    it('stores a body with bytes PostgreSQL text cannot hold', async () => {
      await store.append([observation({ verdict: 'mismatched', shadow: { side: 'reimpl', status: 200, latencyMs: 1, error: null, body: 'a\u0000b' } })]);
      expect((await store.list())[0]!.shadow.body).toMatch(/^a.b$/);
    });

    it('gives the gate every outcome of the named routes in the window, oldest first, without bodies, with the accepted ids', async () => {
      await store.append([
        observation({ observedAt: new Date('2026-01-01T12:00:00Z'), serving: { side: 'legacy', status: 200, latencyMs: 4, error: null, body: 'kept?' } }),
        observation({
          observedAt: new Date('2026-01-01T11:00:00Z'),
          differences: [
            { path: '$.a', serving: '1', shadow: '2', disposition: { as: 'accepted', id: 'sync.rounding' } },
            { path: '$.b', serving: '1', shadow: '2', disposition: { as: 'accepted', id: 'sync.rounding' } },
          ],
        }),
        observation({ observedAt: new Date('2026-01-01T11:30:00Z'), routeId: 'sync.other' }),
        observation({ observedAt: new Date('2025-12-31T00:00:00Z') }),
      ]);
      const outcomes = await store.outcomes({ routeIds: ['sync.health'], since: new Date('2026-01-01T00:00:00Z') });
      expect(outcomes.map((outcome) => outcome.observedAt.toISOString())).toEqual(['2026-01-01T11:00:00.000Z', '2026-01-01T12:00:00.000Z']);
      expect(outcomes[0]!.accepted).toEqual(['sync.rounding']);
      expect(outcomes[1]).toEqual({
        observedAt: new Date('2026-01-01T12:00:00Z'),
        routeId: 'sync.health',
        mode: 'shadow',
        verdict: 'matched',
        erroredSide: null,
        serving: { side: 'legacy', status: 200, latencyMs: 4, error: null },
        shadow: { side: 'reimpl', status: 200, latencyMs: 2.5, error: null },
        accepted: [],
      });
      expect((await store.outcomes()).length).toBe(4);
    });

    it('takes an empty batch', async () => {
      await store.append([]);
      expect(await store.list()).toEqual([]);
    });
  });
}
