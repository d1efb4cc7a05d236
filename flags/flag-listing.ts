/** The flags as people read them (CLI list, admin API): every catalogued route, with its flag or `legacy`. */
import type { StoredFlag } from './flag-store.js';
import type { RouteCatalogue } from './route-catalogue.js';

export interface FlagRow {
  routeId: string;
  service: string;
  method: string;
  path: string;
  owner: string;
  mode: StoredFlag['mode'];
  percent: number;
  updatedAt: string | null;
  updatedBy: string | null;
}

/** Every catalogued route with its flag (legacy when none is stored). */
export function flagRows(catalogue: RouteCatalogue, stored: readonly StoredFlag[]): FlagRow[] {
  const byId = new Map(stored.map((flag) => [flag.routeId, flag]));
  return catalogue.routes.map((route) => {
    const flag = byId.get(route.id);
    return {
      routeId: route.id,
      service: route.service,
      method: route.method,
      path: route.path,
      owner: flag?.owner ?? route.owner,
      mode: flag?.mode ?? 'legacy',
      percent: flag?.percent ?? 0,
      updatedAt: flag?.updatedAt.toISOString() ?? null,
      updatedBy: flag?.updatedBy ?? null,
    };
  });
}

