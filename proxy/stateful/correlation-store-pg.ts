/**
 * The PostgreSQL CorrelationStore: table cutover.correlations (src/db/migrations/cutover/
 * 011_correlations.sql, applied by migrateHarness). Shared by a proxy cluster's workers and
 * kept across restarts; expired pairs are never answered and are pruned.
 */
import pg from 'pg';
import type { Correlation } from './correlation.js';
import type { CorrelationStore } from './correlation-store.js';
import type { Side } from '../serving/decide.js';

interface Row {
  serving_side: Side;
  serving_id: string;
  shadow_id: string;
  name: string;
  route_id: string;
  asked_at: Date | null;
}

export class PgCorrelationStore implements CorrelationStore {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    // An idle client losing its server must not crash the proxy; the next query reports it.
    this.pool.on('error', () => undefined);
  }

  async put(correlations: readonly Correlation[], expiresAt: Date): Promise<void> {
    if (correlations.length === 0) return;
    const records = correlations.map((c) => ({
      serving_side: c.servingSide,
      serving_id: c.servingId,
      shadow_id: c.shadowId,
      name: c.name,
      route_id: c.routeId,
      asked_at: c.askedAt === undefined ? null : new Date(c.askedAt).toISOString(),
    }));
    await this.pool.query(
      `INSERT INTO cutover.correlations (serving_side, serving_id, shadow_id, name, route_id, asked_at, expires_at)
       SELECT serving_side, serving_id, shadow_id, name, route_id, asked_at, $2
         FROM jsonb_to_recordset($1::jsonb) AS r(serving_side text, serving_id text, shadow_id text, name text, route_id text, asked_at timestamptz)
       ON CONFLICT (serving_side, serving_id) DO UPDATE
         SET shadow_id = EXCLUDED.shadow_id, name = EXCLUDED.name, route_id = EXCLUDED.route_id, asked_at = EXCLUDED.asked_at,
             created_at = now(), expires_at = EXCLUDED.expires_at`,
      [JSON.stringify(records), expiresAt],
    );
  }

  async get(servingSide: Side, servingId: string): Promise<Correlation | undefined> {
    const result = await this.pool.query<Row>(
      `SELECT serving_side, serving_id, shadow_id, name, route_id, asked_at FROM cutover.correlations
        WHERE serving_side = $1 AND serving_id = $2 AND expires_at > now()`,
      [servingSide, servingId],
    );
    const row = result.rows[0];
    return row && { name: row.name, routeId: row.route_id, servingSide: row.serving_side, servingId: row.serving_id, shadowId: row.shadow_id, ...(row.asked_at ? { askedAt: row.asked_at.getTime() } : {}) };
  }

  async prune(now = new Date()): Promise<number> {
    const result = await this.pool.query('DELETE FROM cutover.correlations WHERE expires_at <= $1', [now]);
    return result.rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
