/**
 * A progressive rollout of one route (Flagger's stepped canary, Argo Rollouts' analysis): the
 * canary share rises one step when the step's analysis passes, holds while it is inconclusive,
 * and goes back to `shadow` when a budget is breached for N consecutive checks; after the last
 * step the route ends at `reimpl`. Pure here: what a check decides; rollout/controller.ts acts.
 */
import type { RouteEvidence } from '../gate/route-evidence.js';
import { ratioOf } from '../gate/statistics/percentile.js';
import { wilsonInterval } from '../gate/statistics/wilson.js';

export type RolloutState = 'running' | 'paused' | 'completed' | 'rolled-back' | 'aborted';

export interface Rollout {
  id: number;
  routeId: string;
  /** Canary percentages, rising, the last usually 100. */
  steps: number[];
  stepIndex: number;
  stepDurationMs: number;
  /** Consecutive breached checks that roll back. */
  checks: number;
  state: RolloutState;
  stepStartedAt: Date;
  /** Consecutive checks that breached a budget so far. */
  breaches: number;
  reason: string;
  actor: string;
  createdAt: Date;
  updatedAt: Date;
  lastAnalysis: StepAnalysis | null;
}

export interface RolloutBudgets {
  /** Most mismatched / compared a step may show. */
  mismatchRate: number;
  /** Most the reimplementation's error rate (5xx, timeouts, connection failures) may be. */
  errorRate: number;
  /** Most reimpl p99 / legacy p99 may be. */
  latencyRatio: number;
}

export interface StepAnalysis {
  at: string;
  percent: number;
  observations: number;
  mismatchRate: number | null;
  errorRate: number | null;
  latencyRatio: number | null;
  /** Budgets breached, each significantly (its lower bound over the budget), or the latency ratio over its budget with enough samples. */
  breached: string[];
  /** pass: the step may rise; hold: not yet (too few samples, too early, within noise); breach: a budget is breached. */
  result: 'pass' | 'hold' | 'breach';
  why: string;
}

export interface AnalysisOptions {
  budgets: RolloutBudgets;
  /** Observations a step needs before it may pass (and before latency can breach). */
  minSamples: number;
  confidence: number;
  /** Whether the step has lasted its duration. */
  elapsed: boolean;
  percent: number;
  now: Date;
}

const fixed = (value: number | null) => (value === null ? 'n/a' : value.toFixed(4));

/** Judges one check of a step from the evidence gathered since the step began. */
export function analyseStep(evidence: RouteEvidence, options: AnalysisOptions): StepAnalysis {
  const { budgets, confidence } = options;
  const reimpl = evidence.sides.reimpl;
  const mismatch = wilsonInterval(evidence.mismatched, evidence.compared, confidence);
  const errors = wilsonInterval(reimpl.errors, reimpl.trials, confidence);
  const enoughLatency = evidence.latency.legacy.count >= options.minSamples && evidence.latency.reimpl.count >= options.minSamples;
  const latencyRatio = ratioOf(evidence.latency.reimpl.p99, evidence.latency.legacy.p99);
  const breached: string[] = [];
  if (evidence.compared > 0 && mismatch.lower > budgets.mismatchRate) breached.push('mismatch-rate');
  if (reimpl.trials > 0 && errors.lower > budgets.errorRate) breached.push('error-rate');
  if (enoughLatency && latencyRatio !== null && latencyRatio > budgets.latencyRatio) breached.push('latency-ratio');
  const base = {
    at: options.now.toISOString(),
    percent: options.percent,
    observations: evidence.observations,
    mismatchRate: mismatch.estimate,
    errorRate: errors.estimate,
    latencyRatio,
    breached,
  };
  const measured = `mismatch ${fixed(mismatch.estimate)} (budget ${budgets.mismatchRate}), reimpl errors ${fixed(errors.estimate)} (budget ${budgets.errorRate}), p99 ratio ${fixed(latencyRatio)} (budget ${budgets.latencyRatio}), ${evidence.observations} observations`;
  if (breached.length) return { ...base, result: 'breach', why: `breached ${breached.join(', ')}: ${measured}` };
  const withinBudgets = (mismatch.estimate ?? 0) <= budgets.mismatchRate && (errors.estimate ?? 0) <= budgets.errorRate && (latencyRatio ?? 0) <= budgets.latencyRatio;
  if (evidence.observations < options.minSamples) return { ...base, result: 'hold', why: `${evidence.observations} of ${options.minSamples} observations this step: ${measured}` };
  if (!options.elapsed) return { ...base, result: 'hold', why: `step not over yet: ${measured}` };
  if (!withinBudgets) return { ...base, result: 'hold', why: `over a budget, not yet significantly: ${measured}` };
  return { ...base, result: 'pass', why: `within budgets: ${measured}` };
}

export type RolloutAction =
  | { kind: 'advance'; percent: number }
  | { kind: 'complete' }
  | { kind: 'hold'; breaches: number }
  | { kind: 'rollback' };

/** What the controller does after a check: the consecutive breaches decide a rollback, a pass the next step. */
export function decide(rollout: Pick<Rollout, 'steps' | 'stepIndex' | 'checks' | 'breaches'>, analysis: StepAnalysis): RolloutAction {
  if (analysis.result === 'breach') {
    const breaches = rollout.breaches + 1;
    return breaches >= rollout.checks ? { kind: 'rollback' } : { kind: 'hold', breaches };
  }
  if (analysis.result === 'hold') return { kind: 'hold', breaches: 0 };
  const next = rollout.stepIndex + 1;
  return next < rollout.steps.length ? { kind: 'advance', percent: rollout.steps[next]! } : { kind: 'complete' };
}

/** Validates a step list: percentages 1..100, strictly rising. */
export function validSteps(steps: readonly number[]): boolean {
  return steps.length > 0 && steps.every((step, index) => Number.isInteger(step) && step >= 1 && step <= 100 && (index === 0 || step > steps[index - 1]!));
}
