/** The in-memory FlagStore for tests: same rules (flag-change.ts) and contract as the PostgreSQL one. */
import type { FlagSnapshot, FlagSource, RouteFlag } from './flag.js';
import { checkAuthor, planFlagChange } from './flag-change.js';
import { killSwitchRouteId, type AuditEntry, type ChangeAuthor, type FlagChange, type FlagStore, type StoredFlag } from './flag-store.js';
import type { RouteCatalogue } from './route-catalogue.js';

export interface FakeFlagStore extends FlagStore {
  /** A synchronous FlagSource over this store, always live: what a proxy test needs. */
  source(): FlagSource;
}

export function createFakeFlagStore({ catalogue }: { catalogue: RouteCatalogue }): FakeFlagStore {
  const flags = new Map<string, StoredFlag>();
  const audit: AuditEntry[] = [];
  let killSwitch = false;

  const snapshotNow = (): FlagSnapshot => ({
    flags: new Map<string, RouteFlag>([...flags].map(([id, flag]) => [id, { routeId: id, mode: flag.mode, percent: flag.percent }])),
    killSwitch,
    state: 'live',
    loadedAt: new Date(),
  });

  const record = (author: ChangeAuthor, routeId: string, from: string, to: string) =>
    audit.push({ id: audit.length + 1, at: new Date(), actor: author.actor, routeId, from, to, reason: author.reason });

  return {
    snapshot: async () => snapshotNow(),
    list: async () => [...flags.values()].sort((a, b) => a.routeId.localeCompare(b.routeId)).map((flag) => ({ ...flag })),
    async set(change: FlagChange) {
      const planned = planFlagChange(catalogue.routes, snapshotNow().flags, change);
      const author = checkAuthor(change);
      return planned.map((step) => {
        const flag: StoredFlag = { routeId: step.routeId, mode: step.mode, percent: step.percent, owner: step.owner, updatedAt: new Date(), updatedBy: author.actor };
        flags.set(step.routeId, flag);
        record(author, step.routeId, step.from, step.to);
        return { ...flag };
      });
    },
    async setKillSwitch(engaged, author) {
      const who = checkAuthor(author);
      if (killSwitch === engaged) return false;
      record(who, killSwitchRouteId, killSwitch ? 'on' : 'off', engaged ? 'on' : 'off');
      killSwitch = engaged;
      return true;
    },
    history: async ({ routeId, limit = 100 } = {}) =>
      audit.filter((entry) => routeId === undefined || entry.routeId === routeId).reverse().slice(0, limit).map((entry) => ({ ...entry })),
    close: async () => undefined,
    source: () => ({ current: snapshotNow }),
  };
}
