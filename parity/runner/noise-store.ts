/**
 * Where calibrated noise lives: the NoiseStore interface, its PostgreSQL implementation
 * (schema `cutover`, migration 010_noise.sql) and an in-memory fake the same contract tests
 * run against. Saving a route's calibration replaces its learned paths but keeps pinned ones:
 * what a person pinned or overruled is never overwritten by a new calibration.
 */
import pg from 'pg';
import { CutoverError } from '../../src/errors.js';
import type { LearnedPath, LearnedRoute } from './calibrate-learn.js';

export interface NoiseStore {
  /** Stores a route's calibration; pinned paths already stored win over learned ones. */
  save(learned: LearnedRoute): Promise<void>;
  /** Marks a path pinned (kept as is by later calibrations), or unpins it. */
  pin(routeId: string, path: string, pinned: boolean): Promise<boolean>;
  load(routeId: string): Promise<LearnedRoute | undefined>;
  list(): Promise<LearnedRoute[]>;
  close(): Promise<void>;
}

function merge(stored: LearnedRoute | undefined, learned: LearnedRoute): LearnedRoute {
  const pinned = new Map((stored?.paths ?? []).filter((path) => path.pinned).map((path) => [path.path, path]));
  const paths = learned.paths.filter((path) => !pinned.has(path.path)).concat([...pinned.values()]);
  return { ...learned, paths: paths.sort((a, b) => (a.path < b.path ? -1 : 1)) };
}

export class FakeNoiseStore implements NoiseStore {
  private readonly routes = new Map<string, LearnedRoute>();
  async save(learned: LearnedRoute) {
    this.routes.set(learned.routeId, structuredClone(merge(this.routes.get(learned.routeId), learned)));
  }
  async pin(routeId: string, path: string, pinned: boolean) {
    const entry = this.routes.get(routeId)?.paths.find((candidate) => candidate.path === path);
    if (!entry) return false;
    entry.pinned = pinned;
    return true;
  }
  async load(routeId: string) {
    const stored = this.routes.get(routeId);
    return stored ? structuredClone(stored) : undefined;
  }
  async list() {
    return [...this.routes.values()].sort((a, b) => (a.routeId < b.routeId ? -1 : 1)).map((route) => structuredClone(route));
  }
  async close() {}
}

interface PathRow {
  route_id: string;
  path: string;
  samples: number;
  differed: number;
  varies: LearnedPath['varies'];
  kind: LearnedPath['kind'];
  format: string | null;
  range_min: number | null;
  range_max: number | null;
  max_delta: number | null;
  pinned: boolean;
}

function fromRow(row: PathRow): LearnedPath {
  return {
    path: row.path,
    samples: row.samples,
    differed: row.differed,
    rate: row.samples === 0 ? 0 : row.differed / row.samples,
    varies: row.varies,
    kind: row.kind,
    ...(row.format !== null ? { format: row.format } : {}),
    ...(row.range_min !== null && row.range_max !== null ? { range: { min: row.range_min, max: row.range_max } } : {}),
    ...(row.max_delta !== null ? { maxDelta: row.max_delta } : {}),
    ...(row.pinned ? { pinned: true } : {}),
  };
}

export class PgNoiseStore implements NoiseStore {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    this.pool.on('error', () => undefined);
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (error) {
      throw new CutoverError('CUTOVER_ERR_NOISE_STORE_UNAVAILABLE', `noise store: ${(error as Error).message}`);
    }
  }

  async save(learned: LearnedRoute) {
    const rows = learned.paths.map((path) => ({
      path: path.path, samples: path.samples, differed: path.differed, varies: path.varies, kind: path.kind,
      format: path.format ?? null, range_min: path.range?.min ?? null, range_max: path.range?.max ?? null, max_delta: path.maxDelta ?? null,
    }));
    // One transaction: a reader sees the old calibration or the new one, never half of it.
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new CutoverError('CUTOVER_ERR_NOISE_STORE_UNAVAILABLE', `noise store: ${(error as Error).message}`);
    }
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO cutover.noise_calibrations (route_id, samples, learned_at) VALUES ($1, $2, $3)
         ON CONFLICT (route_id) DO UPDATE SET samples = EXCLUDED.samples, learned_at = EXCLUDED.learned_at`,
        [learned.routeId, learned.samples, learned.learnedAt],
      );
      await client.query('DELETE FROM cutover.noise_paths WHERE route_id = $1 AND NOT pinned', [learned.routeId]);
      await client.query(
        `INSERT INTO cutover.noise_paths (route_id, path, samples, differed, varies, kind, format, range_min, range_max, max_delta)
         SELECT $1, r.path, r.samples, r.differed, r.varies, r.kind, r.format, r.range_min, r.range_max, r.max_delta
           FROM jsonb_to_recordset($2::jsonb) AS r(path text, samples int, differed int, varies text, kind text, format text,
                                                   range_min float8, range_max float8, max_delta float8)
         ON CONFLICT (route_id, path) DO NOTHING`,
        [learned.routeId, JSON.stringify(rows)],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new CutoverError('CUTOVER_ERR_NOISE_STORE_UNAVAILABLE', `noise store: ${(error as Error).message}`);
    } finally {
      client.release();
    }
  }
  async pin(routeId: string, path: string, pinned: boolean) {
    const result = await this.query('UPDATE cutover.noise_paths SET pinned = $3 WHERE route_id = $1 AND path = $2', [routeId, path, pinned]);
    return result.rowCount === 1;
  }

  async load(routeId: string) {
    return (await this.read(routeId))[0];
  }

  list() {
    return this.read(undefined);
  }

  private async read(routeId: string | undefined): Promise<LearnedRoute[]> {
    const calibrations = await this.query<{ route_id: string; samples: number; learned_at: Date }>(
      'SELECT route_id, samples, learned_at FROM cutover.noise_calibrations WHERE $1::text IS NULL OR route_id = $1 ORDER BY route_id', [routeId ?? null]);
    const paths = await this.query<PathRow>(
      'SELECT * FROM cutover.noise_paths WHERE $1::text IS NULL OR route_id = $1 ORDER BY route_id, path', [routeId ?? null]);
    return calibrations.rows.map((row) => ({
      routeId: row.route_id,
      samples: row.samples,
      learnedAt: row.learned_at.toISOString(),
      paths: paths.rows.filter((path) => path.route_id === row.route_id).map(fromRow),
    }));
  }

  close() {
    return this.pool.end();
  }
}
