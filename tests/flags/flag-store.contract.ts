/** The contract every FlagStore keeps; run against the PostgreSQL store and the fake alike. */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlagStore } from '../../flags/flag-store.js';
import { loadRouteCatalogue, type RouteCatalogue } from '../../flags/route-catalogue.js';

export const contractCatalogue: RouteCatalogue = loadRouteCatalogue();

const who = { actor: 'ana@laptop', reason: 'shadow the GIS export before the canary' };

/** `fresh` gives an empty store before each test (closed after it); `teardown` runs once at the end. */
export function flagStoreContract(name: string, fresh: () => Promise<FlagStore>, teardown: () => Promise<void> = async () => undefined) {
  describe(`the ${name} flag store`, () => {
    let store: FlagStore;
    let opened: FlagStore | undefined;

    beforeEach(async () => {
      store = opened = await fresh();
    });
    afterEach(async () => {
      await opened?.close();
      opened = undefined;
    });
    afterAll(teardown);

    it('starts with no flags and the kill switch released, so every route is legacy', async () => {
      const snapshot = await store.snapshot();
      expect(snapshot.flags.size).toBe(0);
      expect(snapshot.killSwitch).toBe(false);
      expect(snapshot.state).toBe('live');
      expect(await store.list()).toEqual([]);
    });

    it('sets a route to shadow with its catalogue owner and shows it in the snapshot', async () => {
      const changed = await store.set({ pattern: 'sync.gis-export.run', mode: 'shadow', ...who });
      expect(changed).toMatchObject([{ routeId: 'sync.gis-export.run', mode: 'shadow', percent: 0, owner: 'team-gis', updatedBy: 'ana@laptop' }]);
      expect((await store.snapshot()).flags.get('sync.gis-export.run')).toEqual({ routeId: 'sync.gis-export.run', mode: 'shadow', percent: 0 });
    });

    it('sets every route a glob names, in one change with one audit entry per route', async () => {
      const changed = await store.set({ pattern: 'sync.gis-export.*', mode: 'canary', percent: 25, ...who });
      const expected = contractCatalogue.routes.filter((route) => route.id.startsWith('sync.gis-export.')).map((route) => route.id);
      expect(changed.map((flag) => flag.routeId).sort()).toEqual(expected.sort());
      expect(changed.every((flag) => flag.mode === 'canary' && flag.percent === 25)).toBe(true);
      const history = await store.history();
      expect(history).toHaveLength(expected.length);
      expect(history.every((entry) => entry.from === 'legacy' && entry.to === 'canary:25' && entry.reason === who.reason)).toBe(true);
    });

    it('records who, when, route, from, to and why, newest first, per route on request', async () => {
      const before = Date.now();
      await store.set({ pattern: 'sync.health', mode: 'shadow', actor: 'ana', reason: 'first' });
      await store.set({ pattern: 'sync.health', mode: 'canary', percent: 10, actor: 'bo', reason: 'second' });
      await store.set({ pattern: 'sync.metrics', mode: 'shadow', actor: 'bo', reason: 'other route' });
      const history = await store.history({ routeId: 'sync.health' });
      expect(history.map(({ actor, routeId, from, to, reason }) => ({ actor, routeId, from, to, reason }))).toEqual([
        { actor: 'bo', routeId: 'sync.health', from: 'shadow', to: 'canary:10', reason: 'second' },
        { actor: 'ana', routeId: 'sync.health', from: 'legacy', to: 'shadow', reason: 'first' },
      ]);
      expect(history[0]!.at.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(history[0]!.id).toBeGreaterThan(history[1]!.id);
      expect(await store.history({ limit: 1 })).toMatchObject([{ routeId: 'sync.metrics' }]);
    });

    it('refuses a change without a reason, and writes nothing', async () => {
      for (const reason of ['', '   ', undefined]) {
        await expect(store.set({ pattern: 'sync.health', mode: 'shadow', actor: 'ana', reason: reason as string })).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_REASON_REQUIRED' });
      }
      await expect(store.setKillSwitch(true, { actor: 'ana', reason: '' })).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_REASON_REQUIRED' });
      expect(await store.list()).toEqual([]);
      expect(await store.history()).toEqual([]);
    });

    it('refuses an unknown route or glob, an unknown mode and a bad percent', async () => {
      await expect(store.set({ pattern: 'sync.nothing.*', mode: 'shadow', ...who })).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_ROUTE_UNKNOWN' });
      await expect(store.set({ pattern: 'sync.health', mode: 'sideways' as never, ...who })).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_INVALID' });
      await expect(store.set({ pattern: 'sync.health', mode: 'canary', ...who })).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_INVALID' });
      await expect(store.set({ pattern: 'sync.health', mode: 'canary', percent: 101, ...who })).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_INVALID' });
      await expect(store.set({ pattern: 'sync.health', mode: 'canary', percent: 2.5, ...who })).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_INVALID' });
      await expect(store.set({ pattern: 'sync.health', mode: 'shadow', percent: 30, ...who })).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_INVALID' });
      expect(await store.history()).toEqual([]);
    });

    it('treats retired as the end state: leaving it needs force', async () => {
      await store.set({ pattern: 'sync.health', mode: 'retired', ...who });
      await expect(store.set({ pattern: 'sync.health', mode: 'legacy', ...who })).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_INVALID' });
      await expect(store.set({ pattern: 'sync.*', mode: 'shadow', ...who })).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_INVALID' });
      expect((await store.snapshot()).flags.get('sync.metrics')).toBeUndefined();
      await store.set({ pattern: 'sync.health', mode: 'legacy', force: true, ...who });
      expect((await store.snapshot()).flags.get('sync.health')?.mode).toBe('legacy');
    });

    it('audits nothing when a route is already in the requested state', async () => {
      await store.set({ pattern: 'sync.health', mode: 'shadow', ...who });
      expect(await store.set({ pattern: 'sync.health', mode: 'shadow', ...who })).toEqual([]);
      expect(await store.set({ pattern: 'sync.metrics', mode: 'legacy', ...who })).toEqual([]);
      expect(await store.history()).toHaveLength(1);
    });

    it('engages and releases the kill switch, auditing each move as route *', async () => {
      expect(await store.setKillSwitch(true, { actor: 'ops', reason: 'parity collapsed' })).toBe(true);
      expect((await store.snapshot()).killSwitch).toBe(true);
      expect(await store.setKillSwitch(true, { actor: 'ops', reason: 'again' })).toBe(false);
      expect(await store.setKillSwitch(false, { actor: 'ops', reason: 'fixed' })).toBe(true);
      expect((await store.snapshot()).killSwitch).toBe(false);
      expect((await store.history({ routeId: '*' })).map(({ from, to, reason }) => ({ from, to, reason }))).toEqual([
        { from: 'on', to: 'off', reason: 'fixed' },
        { from: 'off', to: 'on', reason: 'parity collapsed' },
      ]);
    });
  });
}
