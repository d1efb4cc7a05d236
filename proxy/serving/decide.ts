/**
 * Where a request is decided: which side serves it and which side, if any, gets a shadow
 * copy. Pure: the route, the flag snapshot and (for a canary) the sticky key in, a Decision out.
 */
import { flagFor, type FlagMode, type FlagSnapshot } from '../../flags/flag.js';
import type { Route } from '../../flags/route-catalogue.js';
import { inCanary, type StickyKey } from './canary.js';
import { sampledIn } from './sampling.js';

export type Side = 'legacy' | 'reimpl';

export interface Decision {
  /** The route's flag mode, or `legacy` for unknown routes and under the kill switch. */
  mode: FlagMode;
  serving: Side;
  /** The side that gets a copy to compare, or undefined when nothing is shadowed. */
  shadow: Side | undefined;
  /** Why: a known route's flag, no route matched (fail-safe legacy), or the kill switch. */
  reason: 'flag' | 'unknown-route' | 'kill-switch';
  /** The flag would shadow this request, but the route's `sample` left it out (counted, never silent). */
  sampledOut?: true;
}

const unknownRoute: Decision = Object.freeze({ mode: 'legacy', serving: 'legacy', shadow: undefined, reason: 'unknown-route' });
const killed: Decision = Object.freeze({ mode: 'legacy', serving: 'legacy', shadow: undefined, reason: 'kill-switch' });
const byMode: Record<Exclude<FlagMode, 'canary'>, Decision> = {
  legacy: Object.freeze({ mode: 'legacy', serving: 'legacy', shadow: undefined, reason: 'flag' }),
  shadow: Object.freeze({ mode: 'shadow', serving: 'legacy', shadow: 'reimpl', reason: 'flag' }),
  reimpl: Object.freeze({ mode: 'reimpl', serving: 'reimpl', shadow: 'legacy', reason: 'flag' }),
  retired: Object.freeze({ mode: 'retired', serving: 'reimpl', shadow: undefined, reason: 'flag' }),
};
const canaryIn: Decision = Object.freeze({ mode: 'canary', serving: 'reimpl', shadow: 'legacy', reason: 'flag' });
const canaryOut: Decision = Object.freeze({ mode: 'canary', serving: 'legacy', shadow: 'reimpl', reason: 'flag' });

/** True when deciding needs the request body (a canary may key on county_id in the JSON body) or a shadow copy will need it. */
export function needsBody(route: Route | undefined, snapshot: FlagSnapshot): boolean {
  if (!route || snapshot.killSwitch) return false;
  const mode = flagFor(snapshot, route.id).mode;
  return mode === 'shadow' || mode === 'canary' || mode === 'reimpl';
}

/**
 * The decision for one request. `key` is only called for canary routes; `requestId` only for a
 * sampled route (`sample:`) whose flag would shadow it: the shadow is decided here, sample included.
 */
export function decide(route: Route | undefined, snapshot: FlagSnapshot, key: () => StickyKey, requestId?: () => string): Decision {
  if (!route) return unknownRoute;
  if (snapshot.killSwitch) return killed;
  const decision = byFlag(route, snapshot, key);
  if (decision.shadow === undefined || route.sample === undefined || requestId === undefined || sampledIn(route, requestId())) return decision;
  return { ...decision, shadow: undefined, sampledOut: true };
}

function byFlag(route: Route, snapshot: FlagSnapshot, key: () => StickyKey): Decision {
  const flag = flagFor(snapshot, route.id);
  if (flag.mode !== 'canary') return byMode[flag.mode];
  if (flag.percent <= 0) return canaryOut;
  if (flag.percent >= 100) return canaryIn;
  return inCanary(key().value, flag.percent) ? canaryIn : canaryOut;
}
