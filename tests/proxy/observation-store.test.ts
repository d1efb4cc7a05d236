import pg from 'pg';
import { migrateHarness } from '../../src/db/migrate.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { PgObservationStore } from '../../proxy/observe/pg-observation-store.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';
import { observationStoreContract } from './observation-store.contract.js';

observationStoreContract('in-memory', async () => new FakeObservationStore());

let database: IsolatedDatabase | undefined;
observationStoreContract(
  'PostgreSQL',
  async () => {
    if (!database) {
      database = await createIsolatedDatabase('observations');
      await migrateHarness(database.url);
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('TRUNCATE cutover.observations');
    await client.end();
    return new PgObservationStore(database.url);
  },
  async () => database?.drop(),
);
