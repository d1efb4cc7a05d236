/** Where rollouts live: PostgreSQL (pg-rollout-store.ts) or in memory (fake-rollout-store.ts), the same contract tests for both. */
import type { Rollout, RolloutState, StepAnalysis } from './rollout.js';

export interface NewRollout {
  routeId: string;
  steps: number[];
  stepDurationMs: number;
  checks: number;
  reason: string;
  actor: string;
  startedAt: Date;
}

export interface RolloutUpdate {
  stepIndex?: number;
  state?: RolloutState;
  stepStartedAt?: Date;
  breaches?: number;
  lastAnalysis?: StepAnalysis;
}

export interface RolloutStore {
  /** Creates a running rollout; CUTOVER_ERR_ROLLOUT_INVALID when the route already has an active one. */
  create(rollout: NewRollout): Promise<Rollout>;
  /** Running and paused rollouts, oldest first. */
  active(): Promise<Rollout[]>;
  /** Every rollout, newest first; of one route when given. */
  list(routeId?: string): Promise<Rollout[]>;
  update(id: number, change: RolloutUpdate, at: Date): Promise<Rollout>;
  close(): Promise<void>;
}
