/** Opens the configured flag store: the harness database (DATABASE_URL or the embedded one), migrated, with the route catalogue. */
import type { CutoverConfig } from '../src/config/schema.js';
import { migrateHarness } from '../src/db/migrate.js';
import { ensureDatabase, openDatabaseServer } from '../src/db/server.js';
import type { FlagStore } from './flag-store.js';
import { createPgFlagStore } from './pg-flag-store.js';
import { loadRouteCatalogue, type RouteCatalogue } from './route-catalogue.js';

export interface OpenedFlagStore {
  store: FlagStore;
  catalogue: RouteCatalogue;
  /** The database the flags live in (for a LiveFlagSource on the same flags). */
  url: string;
  /** Closes the store and stops the embedded PostgreSQL when this call started it. */
  close(): Promise<void>;
}

export async function openFlagStore(config: CutoverConfig, options: { catalogue?: RouteCatalogue; log?: (line: string) => void } = {}): Promise<OpenedFlagStore> {
  const catalogue = options.catalogue ?? loadRouteCatalogue(config.routesFile);
  const server = await openDatabaseServer(config, options.log);
  try {
    const url = config.database.url ?? (await ensureDatabase(server, config.database.name));
    await migrateHarness(url);
    const store = createPgFlagStore({ url, catalogue });
    return {
      store,
      catalogue,
      url,
      async close() {
        await store.close();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
