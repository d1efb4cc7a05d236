/** An isolated database for one test file, on the run's server, dropped afterwards. */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/load.js';
import { dropDatabase, ensureDatabase, openDatabaseServer, type DatabaseServer } from '../../src/db/server.js';
import { migrate, migrateHarness } from '../../src/db/migrate.js';

export interface IsolatedDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates `cutover_t_<label>_<random>`; with `migrated`, the legacy and harness schemas are applied. */
export async function createIsolatedDatabase(label: string, options: { migrated?: boolean } = {}): Promise<IsolatedDatabase> {
  const server: DatabaseServer = await openDatabaseServer(loadConfig());
  const name = `cutover_t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const url = await ensureDatabase(server, name);
  if (options.migrated) {
    await migrate(url);
    await migrateHarness(url);
  }
  return {
    url,
    name,
    drop: async () => {
      await dropDatabase(server, name);
      await server.stop();
    },
  };
}
