/**
 * Guarded promotion: a flag change that moves a route toward the reimplementation (into canary,
 * a larger canary share, reimpl or retired) asks the readiness gate first and is refused with
 * CUTOVER_ERR_GATE_NOT_PASSED, naming the failed criteria, unless forced with a reason; the
 * audit log then records it as forced. A change toward legacy is never guarded. The gate
 * itself is given (gate/promotion-guard.ts), so flags/ does not stand on the observations.
 */
import { CutoverError } from '../src/errors.js';
import { flagModes, type FlagMode } from './flag.js';
import { planFlagChange, type PlannedFlagChange } from './flag-change.js';
import type { FlagChange, FlagStore, StoredFlag } from './flag-store.js';
import type { Route } from './route-catalogue.js';

/** What the gate said of one route it would not let through. */
export interface GateRefusal {
  routeId: string;
  verdict: string;
  /** Ids of the criteria that failed or could not say. */
  failed: string[];
}

export interface PromotionGuard {
  /** The routes of these that the gate does not call READY now; empty when every one may be promoted. */
  refusals(routeIds: readonly string[]): Promise<GateRefusal[]>;
}

const rank = (mode: FlagMode) => flagModes.indexOf(mode);

export interface GuardedChange {
  changed: StoredFlag[];
  /** What the gate said of the routes the change was forced past it for; empty when nothing was forced. */
  forced: GateRefusal[];
}

/** Whether a planned change moves its route toward the reimplementation. */
export function isPromotion(change: Pick<PlannedFlagChange, 'from' | 'mode' | 'percent'>): boolean {
  const [fromMode, fromPercent] = change.from.split(':') as [FlagMode, string | undefined];
  if (change.mode === 'canary' && fromMode === 'canary') return change.percent > Number(fromPercent ?? 0);
  return rank(change.mode) > rank(fromMode) && rank(change.mode) >= rank('canary');
}

/** How a forced promotion's reason reads in the audit log. */
export function forcedReason(reason: string, refusals: readonly GateRefusal[]): string {
  const what = refusals.map((refusal) => `${refusal.routeId} ${refusal.verdict}: ${refusal.failed.join(', ')}`).join('; ');
  return `FORCED past the readiness gate (${what}): ${reason}`;
}

/**
 * Applies a flag change through the guard: promotions are put to the gate first. Refused
 * without `force`; with it, the change goes through and each audit entry says it was forced
 * and what the gate said.
 */
export async function setGuarded(store: FlagStore, routes: readonly Route[], guard: PromotionGuard, change: FlagChange): Promise<GuardedChange> {
  const snapshot = await store.snapshot();
  const promoted = planFlagChange(routes, snapshot.flags, change).filter(isPromotion);
  const refusals = promoted.length === 0 ? [] : await guard.refusals(promoted.map((planned) => planned.routeId));
  if (refusals.length === 0) return { changed: await store.set(change), forced: [] };
  if (!change.force) {
    const listing = refusals.map((refusal) => `${refusal.routeId} is ${refusal.verdict} (${refusal.failed.join(', ')})`).join('; ');
    throw new CutoverError('CUTOVER_ERR_GATE_NOT_PASSED', `promotion to ${change.mode} refused by the readiness gate: ${listing}`);
  }
  return { changed: await store.set({ ...change, reason: forcedReason(change.reason, refusals) }), forced: refusals };
}
