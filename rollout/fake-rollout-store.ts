/** The in-memory RolloutStore for tests. */
import { CutoverError } from '../src/errors.js';
import type { Rollout } from './rollout.js';
import type { NewRollout, RolloutStore, RolloutUpdate } from './rollout-store.js';

const isActive = (rollout: Rollout) => rollout.state === 'running' || rollout.state === 'paused';

export class FakeRolloutStore implements RolloutStore {
  private readonly rows: Rollout[] = [];

  async create(rollout: NewRollout): Promise<Rollout> {
    if (this.rows.some((row) => row.routeId === rollout.routeId && isActive(row))) {
      throw new CutoverError('CUTOVER_ERR_ROLLOUT_INVALID', `${rollout.routeId} already has a rollout in progress`);
    }
    const row: Rollout = {
      id: this.rows.length + 1,
      routeId: rollout.routeId,
      steps: [...rollout.steps],
      stepIndex: 0,
      stepDurationMs: rollout.stepDurationMs,
      checks: rollout.checks,
      state: 'running',
      stepStartedAt: rollout.startedAt,
      breaches: 0,
      reason: rollout.reason,
      actor: rollout.actor,
      createdAt: rollout.startedAt,
      updatedAt: rollout.startedAt,
      lastAnalysis: null,
    };
    this.rows.push(row);
    return structuredClone(row);
  }

  async active(): Promise<Rollout[]> {
    return this.rows.filter(isActive).map((row) => structuredClone(row));
  }

  async list(routeId?: string): Promise<Rollout[]> {
    return this.rows.filter((row) => routeId === undefined || row.routeId === routeId).reverse().map((row) => structuredClone(row));
  }

  async update(id: number, change: RolloutUpdate, at: Date): Promise<Rollout> {
    const row = this.rows.find((candidate) => candidate.id === id);
    if (!row) throw new CutoverError('CUTOVER_ERR_ROLLOUT_INVALID', `no rollout ${id}`);
    Object.assign(row, Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined)), { updatedAt: at });
    return structuredClone(row);
  }

  async close(): Promise<void> {}
}
