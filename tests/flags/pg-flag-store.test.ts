import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateHarness } from '../../src/db/migrate.js';
import { createPgFlagStore } from '../../flags/pg-flag-store.js';
import { contractCatalogue, flagStoreContract } from './flag-store.contract.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

let contractDatabase: IsolatedDatabase | undefined;
flagStoreContract(
  'PostgreSQL',
  async () => {
    contractDatabase ??= await createIsolatedDatabase('flags_store');
    // The audit log refuses DELETE and TRUNCATE, so each test's clean slate is a re-created schema.
    await sql(contractDatabase.url, 'DROP SCHEMA IF EXISTS cutover CASCADE');
    await migrateHarness(contractDatabase.url);
    return createPgFlagStore({ url: contractDatabase.url, catalogue: contractCatalogue });
  },
  async () => contractDatabase?.drop(),
);

describe('the PostgreSQL audit log', () => {
  let database: IsolatedDatabase;
  beforeAll(async () => {
    database = await createIsolatedDatabase('flags_audit');
    await migrateHarness(database.url);
    const store = createPgFlagStore({ url: database.url, catalogue: contractCatalogue });
    await store.set({ pattern: 'sync.health', mode: 'shadow', actor: 'ana', reason: 'seed an entry' });
    await store.close();
  });
  afterAll(() => database?.drop());

  it('refuses UPDATE, DELETE and TRUNCATE: it is append-only', async () => {
    for (const statement of ["UPDATE cutover.flag_audit SET reason = 'rewritten'", 'DELETE FROM cutover.flag_audit', 'TRUNCATE cutover.flag_audit']) {
      await expect(sql(database.url, statement)).rejects.toThrow(/append-only/);
    }
  });

  it('refuses a blank reason even from plain SQL', async () => {
    await expect(sql(database.url, "INSERT INTO cutover.flag_audit (actor, route_id, from_state, to_state, reason) VALUES ('x', 'sync.health', 'legacy', 'shadow', ' ')")).rejects.toThrow(/check constraint/);
  });

  it('answers FLAG_STORE_UNAVAILABLE when PostgreSQL cannot be reached', async () => {
    const store = createPgFlagStore({ url: 'postgres://postgres@127.0.0.1:1/none', catalogue: contractCatalogue });
    await expect(store.snapshot()).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_STORE_UNAVAILABLE' });
    await store.close();
  });
});
