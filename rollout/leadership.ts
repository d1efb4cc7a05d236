/**
 * One rollout controller across all proxy instances: the one holding a PostgreSQL advisory
 * lock acts, the others wait. The lock lives on a session of its own; when its holder dies
 * (process or connection), PostgreSQL releases it and the next instance to try takes over.
 */
import pg from 'pg';

export interface Leadership {
  /** Whether this instance leads now, taking the lead when it is free. */
  acquire(): Promise<boolean>;
  /** Gives the lead up (the lock, and its session). */
  release(): Promise<void>;
}

/** The advisory lock key of the rollout controller. */
export const rolloutLockKey = 727276;

export function advisoryLeadership(databaseUrl: string, key = rolloutLockKey): Leadership {
  let client: pg.Client | undefined;
  let held = false;
  const drop = () => {
    held = false;
    client = undefined;
  };
  return {
    async acquire() {
      if (held && client) return true;
      try {
        if (!client) {
          const fresh = new pg.Client({ connectionString: databaseUrl });
          // A lost session loses the lock with it: forget both and try again next time.
          fresh.on('error', drop);
          fresh.on('end', drop);
          await fresh.connect();
          client = fresh;
        }
        const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key]);
        held = result.rows[0]!.locked;
        return held;
      } catch {
        const stale = client;
        drop();
        await stale?.end().catch(() => undefined);
        return false;
      }
    },
    async release() {
      const current = client;
      drop();
      if (!current) return;
      await current.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      await current.end().catch(() => undefined);
    },
  };
}

/** A leadership that always leads: one process, or tests. */
export const soleLeadership: Leadership = { acquire: async () => true, release: async () => undefined };
