import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgUnknownTrafficStore } from '../../src/report/unknown-traffic.js';
import { migrateHarness } from '../../src/db/migrate.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';

describe('the PostgreSQL unknown traffic store', () => {
  let database: IsolatedDatabase;
  let store: PgUnknownTrafficStore;
  beforeAll(async () => {
    database = await createIsolatedDatabase('unknown_traffic');
    await migrateHarness(database.url);
    store = new PgUnknownTrafficStore(database.url);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('sums requests per service, method and path across batches and hours, query strings left out', async () => {
    const at = new Date('2026-05-15T10:15:00Z');
    await store.record([
      { service: 'sync', method: 'GET', path: '/debug?a=1', at, count: 2 },
      { service: 'sync', method: 'GET', path: '/debug?a=2', at, count: 1 },
      { service: 'gateway', method: 'POST', path: '/old-login', at, count: 1 },
    ]);
    await store.record([{ service: 'sync', method: 'GET', path: '/debug', at: new Date('2026-05-15T12:05:00Z'), count: 4 }]);
    expect((await store.list()).map(({ service, method, path, count }) => [service, method, path, count])).toEqual([
      ['sync', 'GET', '/debug', 7],
      ['gateway', 'POST', '/old-login', 1],
    ]);
    const recent = await store.list({ since: new Date('2026-05-15T12:30:00Z') });
    expect(recent).toMatchObject([{ path: '/debug', count: 4, lastSeen: new Date('2026-05-15T12:05:00Z') }]);
  });
});
