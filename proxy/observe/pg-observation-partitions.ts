/**
 * The day partitions of cutover.observations (src/db/migrations/cutover/040_observations_by_day.sql):
 * created ahead and on demand through the migration's ensure_observation_partitions(), dropped
 * whole once a day is past retention. A partition is named by its UTC day, observations_pYYYYMMDD.
 */
import type pg from 'pg';

export interface DroppedPartition {
  name: string;
  /** The UTC day it held, YYYY-MM-DD. */
  day: string;
  observations: number;
}

const dayMs = 86_400_000;
const partitionName = /^observations_p(\d{4})(\d{2})(\d{2})$/;

/** The UTC day of an instant, YYYY-MM-DD. */
export const dayOf = (at: Date): string => at.toISOString().slice(0, 10);

/** Whether a failed insert failed because no partition takes one of its rows (SQLSTATE 23514 on a partitioned table). */
export function missingPartition(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === '23514' && typeof message === 'string' && message.includes('no partition of relation');
}

/** Creates the missing partitions of the UTC days `first`..`last` (YYYY-MM-DD, inclusive); answers how many. */
export async function createPartitions(pool: pg.Pool, first: string, last: string): Promise<number> {
  const result = await pool.query<{ created: number }>('SELECT cutover.ensure_observation_partitions($1::date, $2::date) AS created', [first, last]);
  return result.rows[0]!.created;
}

/** Every day partition, oldest first. */
export async function listPartitions(pool: pg.Pool): Promise<Array<{ name: string; day: string }>> {
  const result = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'cutover.observations'::regclass ORDER BY c.relname`,
  );
  return result.rows.flatMap(({ name }) => {
    const match = partitionName.exec(name);
    return match ? [{ name, day: `${match[1]}-${match[2]}-${match[3]}` }] : [];
  });
}

/**
 * Drops the partitions whose whole day ends at or before `before`: retention keeps a day until
 * all of it is past, and never deletes row by row. Each is counted, then dropped in its own
 * transaction; a short lock timeout keeps a busy table from stalling the proxies' inserts
 * behind the drop (the next round tries again).
 */
export async function dropPartitions(pool: pg.Pool, before: Date): Promise<DroppedPartition[]> {
  const expired = (await listPartitions(pool)).filter(({ day }) => Date.parse(`${day}T00:00:00Z`) + dayMs <= before.getTime());
  const dropped: DroppedPartition[] = [];
  for (const { name, day } of expired) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SET LOCAL lock_timeout = '5s'");
      const counted = await client.query<{ count: string }>(`SELECT count(*) AS count FROM cutover."${name}"`);
      await client.query(`DROP TABLE cutover."${name}"`);
      await client.query('COMMIT');
      dropped.push({ name, day, observations: Number(counted.rows[0]!.count) });
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
  return dropped;
}
