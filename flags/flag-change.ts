/**
 * The rules of a flag change, shared by every FlagStore implementation so they cannot drift:
 * which routes a pattern names, which modes and percents are valid, that a reason is given,
 * and that `retired` is an end state.
 */
import { CutoverError } from '../src/errors.js';
import { isFlagMode, type FlagMode, type RouteFlag } from './flag.js';
import type { ChangeAuthor, FlagChange } from './flag-store.js';
import type { Route } from './route-catalogue.js';

/** One route's planned change: the state it leaves and the one it enters. */
export interface PlannedFlagChange {
  routeId: string;
  owner: string;
  mode: FlagMode;
  percent: number;
  from: string;
  to: string;
}

/** How a flag reads in the audit log: the mode, with the share for canary (`canary:25`). */
export function describeFlagState(flag: Pick<RouteFlag, 'mode' | 'percent'>): string {
  return flag.mode === 'canary' ? `canary:${flag.percent}` : flag.mode;
}

/** The ids of the routes a route id or glob (`*` = any run of characters) names, in catalogue order. */
export function routesMatching(routes: readonly Route[], pattern: string): Route[] {
  if (!pattern.includes('*')) return routes.filter((route) => route.id === pattern);
  const parts = pattern.split('*');
  return routes.filter((route) => globMatches(parts, route.id));
}

function globMatches(parts: readonly string[], id: string): boolean {
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!id.startsWith(first) || id.length < first.length + last.length || !id.endsWith(last)) return false;
  let at = first.length;
  for (const middle of parts.slice(1, -1)) {
    const found = id.indexOf(middle, at);
    if (found === -1 || found + middle.length > id.length - last.length) return false;
    at = found + middle.length;
  }
  return true;
}

/** Refuses a change without an actor or a non-blank reason. */
export function checkAuthor(author: Partial<ChangeAuthor>): ChangeAuthor {
  const reason = typeof author.reason === 'string' ? author.reason.trim() : '';
  if (!reason) throw new CutoverError('CUTOVER_ERR_FLAG_REASON_REQUIRED', 'a flag change without a reason was refused');
  const actor = typeof author.actor === 'string' ? author.actor.trim() : '';
  if (!actor) throw new CutoverError('CUTOVER_ERR_FLAG_INVALID', 'a flag change needs an actor (who made it)');
  return { actor, reason };
}

/**
 * Validates a change against the catalogue and the current flags and lists what it does to
 * each route; routes already in the requested state are left out. Throws a named error for
 * anything wrong, before anything is written.
 */
export function planFlagChange(routes: readonly Route[], current: ReadonlyMap<string, RouteFlag>, change: FlagChange): PlannedFlagChange[] {
  checkAuthor(change);
  if (!isFlagMode(change.mode)) throw new CutoverError('CUTOVER_ERR_FLAG_INVALID', `unknown mode '${String(change.mode)}'`);
  const percent = change.percent ?? (change.mode === 'canary' ? undefined : 0);
  if (percent === undefined) throw new CutoverError('CUTOVER_ERR_FLAG_INVALID', 'canary mode needs a percent (0..100)');
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new CutoverError('CUTOVER_ERR_FLAG_INVALID', `percent must be an integer 0..100, got ${percent}`);
  if (change.mode !== 'canary' && percent !== 0) throw new CutoverError('CUTOVER_ERR_FLAG_INVALID', `a percent only applies to canary mode, not ${change.mode}`);
  const matched = routesMatching(routes, change.pattern);
  if (matched.length === 0) throw new CutoverError('CUTOVER_ERR_FLAG_ROUTE_UNKNOWN', `no route matches '${change.pattern}'`);
  const planned: PlannedFlagChange[] = [];
  const stuck: string[] = [];
  for (const route of matched) {
    const before = current.get(route.id) ?? { routeId: route.id, mode: 'legacy' as const, percent: 0 };
    if (before.mode === change.mode && before.percent === percent) continue;
    if (before.mode === 'retired' && !change.force) stuck.push(route.id);
    planned.push({ routeId: route.id, owner: route.owner, mode: change.mode, percent, from: describeFlagState(before), to: describeFlagState({ mode: change.mode, percent }) });
  }
  if (stuck.length) {
    throw new CutoverError('CUTOVER_ERR_FLAG_INVALID', `retired is the end state; ${stuck.join(', ')} would leave it (use force to override)`);
  }
  return planned;
}
