import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLiveFlagSource, type LiveFlagSource } from '../../flags/live-flag-source.js';
import { createPgFlagStore } from '../../flags/pg-flag-store.js';
import type { FlagStore } from '../../flags/flag-store.js';
import { migrateHarness } from '../../src/db/migrate.js';
import { withDatabase } from '../../src/db/server.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';
import { contractCatalogue } from './flag-store.contract.js';

/** Polls `check` until it returns true or the deadline passes; returns the milliseconds it took. */
async function within(deadlineMs: number, check: () => boolean): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > deadlineMs) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

async function asAdmin(database: IsolatedDatabase, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(database.url, 'postgres') });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const who = { actor: 'test', reason: 'live propagation test' };

describe('a live flag source', () => {
  let database: IsolatedDatabase;
  let store: FlagStore;
  const sources: LiveFlagSource[] = [];
  const open = (url = database.url) => {
    const source = createLiveFlagSource({ url, backoff: { initialMs: 20, maxMs: 200 }, refreshIntervalMs: 60_000 });
    sources.push(source);
    return source;
  };

  beforeAll(async () => {
    database = await createIsolatedDatabase('flag_source');
    await migrateHarness(database.url);
    store = createPgFlagStore({ url: database.url, catalogue: contractCatalogue });
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((source) => source.close()));
  });
  afterAll(async () => {
    await store?.close();
    await asAdmin(database, `ALTER DATABASE "${database.name}" ALLOW_CONNECTIONS true`).catch(() => undefined);
    await database?.drop();
  });

  it('loads the stored flags and reports itself live', async () => {
    await store.set({ pattern: 'narrator.health', mode: 'shadow', ...who });
    const source = open();
    await source.ready();
    expect(source.current().state).toBe('live');
    expect(source.current().flags.get('narrator.health')?.mode).toBe('shadow');
    expect(source.status()).toMatchObject({ state: 'live', connected: true });
  });

  it('sees a change made through another connection within one second, in every instance', async () => {
    const first = open();
    const second = open();
    await Promise.all([first.ready(), second.ready()]);
    const changes: string[] = [];
    second.onChange((snapshot) => changes.push(snapshot.flags.get('sync.gis-export.status')?.mode ?? 'legacy'));
    await store.set({ pattern: 'sync.gis-export.status', mode: 'canary', percent: 40, ...who });
    const took = await within(1000, () => [first, second].every((s) => s.current().flags.get('sync.gis-export.status')?.percent === 40));
    expect(took).toBeLessThan(1000);
    expect(changes).toContain('canary');
    await store.setKillSwitch(true, who);
    await within(1000, () => second.current().killSwitch);
    await store.setKillSwitch(false, who);
    await within(1000, () => !second.current().killSwitch);
  });

  it('never having loaded, it is unavailable with no flags, so every route stays legacy', async () => {
    const source = open('postgres://postgres@127.0.0.1:1/nowhere');
    await source.ready();
    expect(source.current()).toMatchObject({ state: 'unavailable', killSwitch: false });
    expect(source.current().flags.size).toBe(0);
    expect(source.status().lastError).toBeTruthy();
    await within(2000, () => source.status().reconnects >= 2);
  });

  it('keeps serving the last flags while PostgreSQL is unreachable, says stale, and recovers live', async () => {
    await store.set({ pattern: 'gateway.auth.login', mode: 'reimpl', ...who });
    const source = open();
    await source.ready();
    expect(source.current().flags.get('gateway.auth.login')?.mode).toBe('reimpl');

    // The database refuses new connections and its sessions are cut: as good as down for this source.
    await asAdmin(database, `ALTER DATABASE "${database.name}" ALLOW_CONNECTIONS false`);
    await asAdmin(database, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database.name}' AND pid <> pg_backend_pid()`);
    await within(2000, () => source.current().state === 'stale');
    expect(source.current().flags.get('gateway.auth.login')?.mode).toBe('reimpl');
    expect(source.status()).toMatchObject({ connected: false });
    const reconnectsWhileDown = source.status().reconnects;
    await within(3000, () => source.status().reconnects > reconnectsWhileDown + 1);
    expect(source.current().state).toBe('stale');

    await asAdmin(database, `ALTER DATABASE "${database.name}" ALLOW_CONNECTIONS true`);
    await within(3000, () => source.current().state === 'live');
    await store.set({ pattern: 'gateway.auth.login', mode: 'retired', ...who });
    await within(1000, () => source.current().flags.get('gateway.auth.login')?.mode === 'retired');
  });
});
