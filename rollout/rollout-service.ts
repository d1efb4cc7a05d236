/**
 * What a person does to rollouts (`cutover rollout`): start one per route a glob names (the
 * first step is a promotion, so the readiness gate guards it), pause, resume and abort (back
 * to `shadow`, toward legacy, never guarded). The controller does the rest.
 */
import { routesMatching } from '../flags/flag-change.js';
import type { FlagStore } from '../flags/flag-store.js';
import { setGuarded, type GateRefusal, type PromotionGuard } from '../flags/promotion-guard.js';
import type { RouteCatalogue } from '../flags/route-catalogue.js';
import { CutoverError } from '../src/errors.js';
import { validSteps, type Rollout } from './rollout.js';
import type { RolloutStore } from './rollout-store.js';

export interface RolloutParts {
  rollouts: RolloutStore;
  flags: FlagStore;
  catalogue: RouteCatalogue;
  guard: PromotionGuard;
}

export interface RolloutStart {
  pattern: string;
  steps: number[];
  stepDurationMs: number;
  checks: number;
  reason: string;
  actor: string;
  force?: boolean;
  now: Date;
}

function routeIdsOf(catalogue: RouteCatalogue, pattern: string): string[] {
  const ids = routesMatching(catalogue.routes, pattern).map((route) => route.id);
  if (ids.length === 0) throw new CutoverError('CUTOVER_ERR_FLAG_ROUTE_UNKNOWN', `no route matches '${pattern}'`);
  return ids;
}

/** Starts a rollout on every route the pattern names: canary at the first step, then the controller. */
export async function startRollout(parts: RolloutParts, start: RolloutStart): Promise<{ started: Rollout[]; forced: GateRefusal[] }> {
  if (!validSteps(start.steps)) throw new CutoverError('CUTOVER_ERR_ROLLOUT_INVALID', `steps must be rising whole percentages 1..100, got ${start.steps.join(',')}`);
  if (!(start.stepDurationMs > 0) || !Number.isInteger(start.checks) || start.checks < 1) throw new CutoverError('CUTOVER_ERR_ROLLOUT_INVALID', 'a rollout needs a positive step duration and at least one check');
  if (!start.reason.trim()) throw new CutoverError('CUTOVER_ERR_FLAG_REASON_REQUIRED', 'rollout start was refused: no --reason given');
  const ids = routeIdsOf(parts.catalogue, start.pattern);
  const busy = (await parts.rollouts.active()).filter((rollout) => ids.includes(rollout.routeId));
  if (busy.length) throw new CutoverError('CUTOVER_ERR_ROLLOUT_INVALID', `a rollout is already in progress on ${busy.map((rollout) => rollout.routeId).join(', ')}`);
  const reason = `rollout start (steps ${start.steps.join(',')}): ${start.reason}`;
  const { forced } = await setGuarded(parts.flags, parts.catalogue.routes, parts.guard, { pattern: start.pattern, mode: 'canary', percent: start.steps[0]!, force: start.force, actor: start.actor, reason });
  const started: Rollout[] = [];
  for (const routeId of ids) started.push(await parts.rollouts.create({ routeId, steps: start.steps, stepDurationMs: start.stepDurationMs, checks: start.checks, reason: start.reason, actor: start.actor, startedAt: start.now }));
  return { started, forced };
}

async function activeOn(parts: RolloutParts, pattern: string, state: Rollout['state']): Promise<Rollout[]> {
  const ids = routeIdsOf(parts.catalogue, pattern);
  const found = (await parts.rollouts.active()).filter((rollout) => ids.includes(rollout.routeId) && rollout.state === state);
  if (found.length === 0) throw new CutoverError('CUTOVER_ERR_ROLLOUT_INVALID', `no ${state} rollout on '${pattern}'`);
  return found;
}

/** Pauses running rollouts: the controller leaves them, the flag stays where it is. */
export async function pauseRollout(parts: RolloutParts, pattern: string, now: Date): Promise<Rollout[]> {
  return Promise.all((await activeOn(parts, pattern, 'running')).map((rollout) => parts.rollouts.update(rollout.id, { state: 'paused' }, now)));
}

/** Resumes paused rollouts; the current step's window starts again now. */
export async function resumeRollout(parts: RolloutParts, pattern: string, now: Date): Promise<Rollout[]> {
  return Promise.all((await activeOn(parts, pattern, 'paused')).map((rollout) => parts.rollouts.update(rollout.id, { state: 'running', stepStartedAt: now, breaches: 0 }, now)));
}

/** Aborts rollouts in progress and puts their routes back to shadow. */
export async function abortRollout(parts: RolloutParts, pattern: string, author: { actor: string; reason: string }, now: Date): Promise<Rollout[]> {
  const ids = routeIdsOf(parts.catalogue, pattern);
  const found = (await parts.rollouts.active()).filter((rollout) => ids.includes(rollout.routeId));
  if (found.length === 0) throw new CutoverError('CUTOVER_ERR_ROLLOUT_INVALID', `no rollout in progress on '${pattern}'`);
  const aborted: Rollout[] = [];
  for (const rollout of found) {
    aborted.push(await parts.rollouts.update(rollout.id, { state: 'aborted' }, now));
    await parts.flags.set({ pattern: rollout.routeId, mode: 'shadow', actor: author.actor, reason: `rollout aborted: ${author.reason}` });
  }
  return aborted;
}
