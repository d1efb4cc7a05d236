/** The PostgreSQL RolloutStore: table cutover.rollouts (src/db/migrations/cutover/030_rollouts.sql). */
import pg from 'pg';
import { CutoverError } from '../src/errors.js';
import type { Rollout, StepAnalysis } from './rollout.js';
import type { NewRollout, RolloutStore, RolloutUpdate } from './rollout-store.js';

interface Row {
  id: string;
  route_id: string;
  steps: number[];
  step_index: number;
  step_duration_ms: string;
  checks: number;
  state: Rollout['state'];
  step_started_at: Date;
  breaches: number;
  reason: string;
  actor: string;
  created_at: Date;
  updated_at: Date;
  last_analysis: StepAnalysis | null;
}

const fromRow = (row: Row): Rollout => ({
  id: Number(row.id),
  routeId: row.route_id,
  steps: row.steps,
  stepIndex: row.step_index,
  stepDurationMs: Number(row.step_duration_ms),
  checks: row.checks,
  state: row.state,
  stepStartedAt: row.step_started_at,
  breaches: row.breaches,
  reason: row.reason,
  actor: row.actor,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  lastAnalysis: row.last_analysis,
});

export class PgRolloutStore implements RolloutStore {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    this.pool.on('error', () => undefined);
  }

  async create(rollout: NewRollout): Promise<Rollout> {
    try {
      const result = await this.pool.query<Row>(
        `INSERT INTO cutover.rollouts (route_id, steps, step_duration_ms, checks, state, step_started_at, reason, actor, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $5, $5) RETURNING *`,
        [rollout.routeId, rollout.steps, rollout.stepDurationMs, rollout.checks, rollout.startedAt, rollout.reason, rollout.actor],
      );
      return fromRow(result.rows[0]!);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new CutoverError('CUTOVER_ERR_ROLLOUT_INVALID', `${rollout.routeId} already has a rollout in progress`);
      throw error;
    }
  }

  async active(): Promise<Rollout[]> {
    const result = await this.pool.query<Row>(`SELECT * FROM cutover.rollouts WHERE state IN ('running', 'paused') ORDER BY id`);
    return result.rows.map(fromRow);
  }

  async list(routeId?: string): Promise<Rollout[]> {
    const result = await this.pool.query<Row>(`SELECT * FROM cutover.rollouts WHERE $1::text IS NULL OR route_id = $1 ORDER BY id DESC LIMIT 200`, [routeId ?? null]);
    return result.rows.map(fromRow);
  }

  async update(id: number, change: RolloutUpdate, at: Date): Promise<Rollout> {
    const result = await this.pool.query<Row>(
      `UPDATE cutover.rollouts SET
         step_index = COALESCE($2, step_index), state = COALESCE($3, state), step_started_at = COALESCE($4, step_started_at),
         breaches = COALESCE($5, breaches), last_analysis = COALESCE($6::jsonb, last_analysis), updated_at = $7
       WHERE id = $1 RETURNING *`,
      [id, change.stepIndex ?? null, change.state ?? null, change.stepStartedAt ?? null, change.breaches ?? null, change.lastAnalysis ? JSON.stringify(change.lastAnalysis) : null, at],
    );
    if (!result.rows[0]) throw new CutoverError('CUTOVER_ERR_ROLLOUT_INVALID', `no rollout ${id}`);
    return fromRow(result.rows[0]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
