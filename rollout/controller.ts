/**
 * The rollout controller: every check interval, if it leads (rollout/leadership.ts), it analyses
 * each running rollout's current step over that step's window and acts on the route's flag:
 * up one step, to `reimpl` after the last, or back to `shadow` when a budget was breached for N
 * consecutive checks. Every change is audited with actor `rollout-controller` and the measured
 * reason; metrics show the step, each analysis and each rollback.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { FlagStore } from '../flags/flag-store.js';
import { flagFor } from '../flags/flag.js';
import type { RouteCatalogue } from '../flags/route-catalogue.js';
import { routeEvidence, stateRouteId } from '../gate/route-evidence.js';
import type { ObservationStore } from '../proxy/observe/observation.js';
import type { CutoverConfig } from '../src/config/schema.js';
import type { Leadership } from './leadership.js';
import { analyseStep, decide, type Rollout } from './rollout.js';
import type { RolloutStore } from './rollout-store.js';

export const controllerActor = 'rollout-controller';

export interface RolloutControllerOptions {
  rollouts: RolloutStore;
  flags: FlagStore;
  observations: Pick<ObservationStore, 'tallies'>;
  catalogue: RouteCatalogue;
  leadership: Leadership;
  config: Pick<CutoverConfig, 'rollout' | 'gate'>;
  registry?: Registry;
  clock?: () => Date;
  log?: (line: string) => void;
}

export interface RolloutController {
  /** One check of every running rollout (when leading); resolves with whether it led. */
  tick(): Promise<boolean>;
  /** Checks every config.rollout.checkIntervalMs until stopped. */
  start(): void;
  stop(): Promise<void>;
}

function rolloutMetrics(registry: Registry | undefined) {
  const registers = registry ? [registry] : [];
  return {
    step: new Gauge({ name: 'cutover_rollout_step_percent', help: 'Canary percent of each route under a running rollout.', labelNames: ['route'] as const, registers }),
    analyses: new Counter({ name: 'cutover_rollout_analyses_total', help: 'Step analyses of the rollout controller by route and result (pass, hold, breach).', labelNames: ['route', 'result'] as const, registers }),
    rollbacks: new Counter({ name: 'cutover_rollout_rollbacks_total', help: 'Rollouts rolled back to shadow by the controller, by route.', labelNames: ['route'] as const, registers }),
    leader: new Gauge({ name: 'cutover_rollout_leader', help: '1 when this instance holds the rollout controller lock.', registers }),
  };
}

export function createRolloutController(options: RolloutControllerOptions): RolloutController {
  const { rollouts, flags, observations, catalogue, leadership, config } = options;
  const clock = options.clock ?? (() => new Date());
  const log = options.log ?? (() => undefined);
  const metrics = rolloutMetrics(options.registry);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;

  const setFlag = (rollout: Rollout, mode: 'canary' | 'reimpl' | 'shadow', percent: number | undefined, reason: string) =>
    flags.set({ pattern: rollout.routeId, mode, ...(percent === undefined ? {} : { percent }), actor: controllerActor, reason });

  async function check(rollout: Rollout, now: Date): Promise<void> {
    const percent = rollout.steps[rollout.stepIndex]!;
    const flag = flagFor(await flags.snapshot(), rollout.routeId);
    // Someone moved the flag (or the kill switch went on): the controller does not fight a human.
    if (flag.mode !== 'canary' || flag.percent !== percent) {
      await rollouts.update(rollout.id, { state: 'aborted' }, now);
      log(`rollout of ${rollout.routeId} aborted: its flag is ${flag.mode}${flag.mode === 'canary' ? `:${flag.percent}` : ''}, not canary:${percent}`);
      return;
    }
    const route = catalogue.byId(rollout.routeId);
    const routeIds = route?.writes ? [rollout.routeId, stateRouteId(rollout.routeId)] : [rollout.routeId];
    const tallies = await observations.tallies({ routeIds, since: rollout.stepStartedAt });
    const evidence = routeEvidence(rollout.routeId, tallies.routes, { since: rollout.stepStartedAt, now }, config.rollout.minSamplesPerStep);
    const analysis = analyseStep(evidence, {
      budgets: config.rollout.budgets,
      minSamples: config.rollout.minSamplesPerStep,
      confidence: config.gate.thresholds.confidence,
      elapsed: now.getTime() - rollout.stepStartedAt.getTime() >= rollout.stepDurationMs,
      percent,
      now,
    });
    metrics.analyses.labels(rollout.routeId, analysis.result).inc();
    const action = decide(rollout, analysis);
    const stepText = `step ${rollout.stepIndex + 1}/${rollout.steps.length}`;
    switch (action.kind) {
      case 'hold':
        await rollouts.update(rollout.id, { breaches: action.breaches, lastAnalysis: analysis }, now);
        return;
      case 'advance':
        await setFlag(rollout, 'canary', action.percent, `rollout ${stepText} passed, canary:${percent} → canary:${action.percent}: ${analysis.why}`);
        await rollouts.update(rollout.id, { stepIndex: rollout.stepIndex + 1, stepStartedAt: now, breaches: 0, lastAnalysis: analysis }, now);
        metrics.step.labels(rollout.routeId).set(action.percent);
        log(`rollout of ${rollout.routeId}: canary:${action.percent}`);
        return;
      case 'complete':
        await setFlag(rollout, 'reimpl', undefined, `rollout ${stepText} passed, the last: canary:${percent} → reimpl: ${analysis.why}`);
        await rollouts.update(rollout.id, { state: 'completed', breaches: 0, lastAnalysis: analysis }, now);
        metrics.step.labels(rollout.routeId).set(100);
        log(`rollout of ${rollout.routeId}: reimpl`);
        return;
      case 'rollback':
        await setFlag(rollout, 'shadow', undefined, `rollout rolled back at ${stepText} (canary:${percent}) after ${rollout.checks} breached check(s): ${analysis.why}`);
        await rollouts.update(rollout.id, { state: 'rolled-back', breaches: rollout.breaches + 1, lastAnalysis: analysis }, now);
        metrics.rollbacks.labels(rollout.routeId).inc();
        metrics.step.labels(rollout.routeId).set(0);
        log(`rollout of ${rollout.routeId} rolled back to shadow: ${analysis.why}`);
        return;
    }
  }

  async function tickOnce(): Promise<boolean> {
    const leads = await leadership.acquire();
    metrics.leader.set(leads ? 1 : 0);
    if (!leads) return false;
    const now = clock();
    for (const rollout of await rollouts.active()) {
      if (rollout.state !== 'running') continue;
      try {
        await check(rollout, now);
      } catch (error) {
        // One route's trouble (its flag store write refused, say) must not stop the others' checks.
        log(`rollout of ${rollout.routeId}: check failed: ${(error as Error).message}`);
      }
    }
    return true;
  }

  return {
    tick() {
      // Ticks never overlap: a slow check is waited for, not doubled.
      running ??= tickOnce().finally(() => {
        running = undefined;
      });
      return running;
    },
    start() {
      timer ??= setInterval(() => void this.tick().catch((error: Error) => log(`rollout controller: ${error.message}`)), config.rollout.checkIntervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
      await leadership.release();
    },
  };
}
