/**
 * What a route flag is: the mode a route is in, and the snapshot of all flags the proxy
 * decides with. Shared vocabulary of flags/ (the store) and proxy/ (the decision).
 */

/**
 * The life of a route, in order: `legacy` serves (the default for every route), `shadow`
 * (legacy serves, the reimplementation gets a copy), `canary` (a sticky `percent` share is
 * served by the reimplementation, the rest by legacy, the other side shadowed), `reimpl`
 * (the reimplementation serves, legacy shadowed for reverse comparison), `retired` (the
 * reimplementation only; the end state, so no flag lives forever).
 */
export type FlagMode = 'legacy' | 'shadow' | 'canary' | 'reimpl' | 'retired';

export const flagModes: readonly FlagMode[] = ['legacy', 'shadow', 'canary', 'reimpl', 'retired'];

export function isFlagMode(value: unknown): value is FlagMode {
  return typeof value === 'string' && (flagModes as readonly string[]).includes(value);
}

export interface RouteFlag {
  routeId: string;
  mode: FlagMode;
  /** Canary share served by the reimplementation, 0..100; meaningful in `canary` mode only. */
  percent: number;
}

export interface FlagSnapshot {
  /** Flags by route id. A route missing here is in `legacy` mode. */
  flags: ReadonlyMap<string, RouteFlag>;
  /** When on, every route is served by legacy whatever its flag says. */
  killSwitch: boolean;
  /**
   * `live`: in step with the store. `stale`: the store is unreachable, these are the last
   * flags known. `unavailable`: never loaded, so `flags` is empty and everything is legacy.
   */
  state: 'live' | 'stale' | 'unavailable';
  loadedAt: Date;
}

export interface FlagSource {
  /** The current snapshot; synchronous because the proxy never awaits the store on the request path. */
  current(): FlagSnapshot;
}

/** The flag that applies to a route in a snapshot: its own, or `legacy` when it has none. */
export function flagFor(snapshot: FlagSnapshot, routeId: string): RouteFlag {
  return snapshot.flags.get(routeId) ?? { routeId, mode: 'legacy', percent: 0 };
}

/** The snapshot everything starts from: no flags, so every route is legacy. */
export function emptySnapshot(state: FlagSnapshot['state'] = 'unavailable'): FlagSnapshot {
  return { flags: new Map(), killSwitch: false, state, loadedAt: new Date(0) };
}

/** A FlagSource that always answers the same snapshot (tests, and a proxy run without a store). */
export function staticFlagSource(snapshot: FlagSnapshot): FlagSource {
  return { current: () => snapshot };
}
