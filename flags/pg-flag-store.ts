/**
 * The flag store in PostgreSQL (schema `cutover`, migration 001_flags.sql). Every change runs
 * in one transaction: rows, audit entries and the NOTIFY that live flag sources reload on.
 */
import pg from 'pg';
import { CutoverError } from '../src/errors.js';
import type { FlagSnapshot, RouteFlag } from './flag.js';
import { checkAuthor, planFlagChange } from './flag-change.js';
import { killSwitchRouteId, type AuditEntry, type ChangeAuthor, type FlagChange, type FlagStore, type StoredFlag } from './flag-store.js';
import type { RouteCatalogue } from './route-catalogue.js';

/** The channel every change is announced on; the payload is informative only, listeners reload. */
export const flagChannel = 'cutover_flags';

// Serialises writers so two globs touching the same route cannot interleave their audit entries.
const writerLock = 727275;

interface FlagRow {
  route_id: string;
  mode: RouteFlag['mode'];
  percent: number;
  owner: string;
  updated_at: Date;
  updated_by: string;
}

const toStoredFlag = (row: FlagRow): StoredFlag => ({
  routeId: row.route_id,
  mode: row.mode,
  percent: row.percent,
  owner: row.owner,
  updatedAt: row.updated_at,
  updatedBy: row.updated_by,
});

type Queryable = Pick<pg.ClientBase, 'query'>;

/** Reads every flag and the kill switch in one statement, so the snapshot is consistent. */
export async function readFlagSnapshot(db: Queryable): Promise<FlagSnapshot> {
  const result = await db.query<{ flags: Array<{ route_id: string; mode: RouteFlag['mode']; percent: number }> | null; engaged: boolean }>(
    `SELECT (SELECT json_agg(json_build_object('route_id', route_id, 'mode', mode, 'percent', percent)) FROM cutover.route_flags) AS flags,
            (SELECT engaged FROM cutover.kill_switch) AS engaged`,
  );
  const row = result.rows[0]!;
  const flags = new Map<string, RouteFlag>();
  for (const flag of row.flags ?? []) flags.set(flag.route_id, { routeId: flag.route_id, mode: flag.mode, percent: flag.percent });
  return { flags, killSwitch: row.engaged === true, state: 'live', loadedAt: new Date() };
}

function unavailable(error: unknown): CutoverError {
  return new CutoverError('CUTOVER_ERR_FLAG_STORE_UNAVAILABLE', `flag store: ${(error as Error).message}`, { cause: error });
}

// Errors of the connection (refused, reset, admin shutdown...) become FLAG_STORE_UNAVAILABLE; others pass through.
function translate(error: unknown): unknown {
  if (error instanceof CutoverError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (/^(ECONN|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|57P0|08)/.test(code) || /terminat|Connection/i.test((error as Error).message)) return unavailable(error);
  return error;
}

export interface PgFlagStoreOptions {
  url: string;
  catalogue: RouteCatalogue;
}

/** Opens the PostgreSQL flag store; the schema must have been migrated (migrateHarness). */
export function createPgFlagStore({ url, catalogue }: PgFlagStoreOptions): FlagStore {
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 3000 });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => undefined);

  async function run<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw unavailable(error);
    }
    try {
      return await work(client);
    } catch (error) {
      throw translate(error);
    } finally {
      client.release();
    }
  }

  async function transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return run(async (client) => {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [writerLock]);
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  return {
    snapshot: () => run(readFlagSnapshot),

    list: () =>
      run(async (client) => (await client.query<FlagRow>('SELECT * FROM cutover.route_flags ORDER BY route_id')).rows.map(toStoredFlag)),

    async set(change: FlagChange) {
      // Validate before touching the database, so a bad request never needs a connection.
      checkAuthor(change);
      return transaction(async (client) => {
        const current = await readFlagSnapshot(client);
        const planned = planFlagChange(catalogue.routes, current.flags, change);
        const author = checkAuthor(change);
        const changed: StoredFlag[] = [];
        for (const step of planned) {
          const row = await client.query<FlagRow>(
            `INSERT INTO cutover.route_flags (route_id, mode, percent, owner, updated_at, updated_by) VALUES ($1, $2, $3, $4, now(), $5)
             ON CONFLICT (route_id) DO UPDATE SET mode = EXCLUDED.mode, percent = EXCLUDED.percent, owner = EXCLUDED.owner,
               updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
             RETURNING *`,
            [step.routeId, step.mode, step.percent, step.owner, author.actor],
          );
          await client.query('INSERT INTO cutover.flag_audit (actor, route_id, from_state, to_state, reason) VALUES ($1, $2, $3, $4, $5)', [
            author.actor, step.routeId, step.from, step.to, author.reason,
          ]);
          changed.push(toStoredFlag(row.rows[0]!));
        }
        if (changed.length) await client.query('SELECT pg_notify($1, $2)', [flagChannel, JSON.stringify({ routes: changed.map((flag) => flag.routeId) })]);
        return changed;
      });
    },

    async setKillSwitch(engaged, author: ChangeAuthor) {
      const who = checkAuthor(author);
      return transaction(async (client) => {
        const before = (await client.query<{ engaged: boolean }>('SELECT engaged FROM cutover.kill_switch FOR UPDATE')).rows[0]!.engaged;
        if (before === engaged) return false;
        await client.query('UPDATE cutover.kill_switch SET engaged = $1, updated_at = now(), updated_by = $2', [engaged, who.actor]);
        await client.query('INSERT INTO cutover.flag_audit (actor, route_id, from_state, to_state, reason) VALUES ($1, $2, $3, $4, $5)', [
          who.actor, killSwitchRouteId, before ? 'on' : 'off', engaged ? 'on' : 'off', who.reason,
        ]);
        await client.query('SELECT pg_notify($1, $2)', [flagChannel, JSON.stringify({ killSwitch: engaged })]);
        return true;
      });
    },

    history: ({ routeId, limit = 100 } = {}) =>
      run(async (client) => {
        const rows = await client.query<{ id: string; at: Date; actor: string; route_id: string; from_state: string; to_state: string; reason: string }>(
          `SELECT * FROM cutover.flag_audit WHERE ($1::text IS NULL OR route_id = $1) ORDER BY id DESC LIMIT $2`,
          [routeId ?? null, limit],
        );
        return rows.rows.map((row): AuditEntry => ({
          id: Number(row.id),
          at: row.at,
          actor: row.actor,
          routeId: row.route_id,
          from: row.from_state,
          to: row.to_state,
          reason: row.reason,
        }));
      }),

    close: () => pool.end(),
  };
}
