/** Shared by the fuzz tests: an isolated, seeded database with one legacy and one reimplemented sync beside it. */
import { loadRouteCatalogue, type RouteCatalogue } from '../../../flags/route-catalogue.js';
import { loadInputSpace, type InputSpace } from '../../../parity/runner/fuzz-arbitraries.js';
import { startSides, type Sides } from '../../../parity/runner/fuzz-sides.js';
import { loadConfig } from '../../../src/config/load.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../../setup/isolated-database.js';

export interface FuzzBench {
  database: IsolatedDatabase;
  sides: Sides;
  catalogue: RouteCatalogue;
  space: InputSpace;
  stop(): Promise<void>;
}

export async function startFuzzBench(label: string, options: { legacyInstances?: number; reimpl?: boolean } = {}): Promise<FuzzBench> {
  const database = await createIsolatedDatabase(label);
  const sides = await startSides({
    config: loadConfig(),
    databaseUrl: database.url,
    legacyInstances: options.legacyInstances ?? 1,
    reimpl: options.reimpl ?? true,
    seed: [{ countyId: 'test_county', parcels: 200 }],
  });
  return {
    database,
    sides,
    catalogue: loadRouteCatalogue(),
    space: await loadInputSpace(database.url, 20),
    stop: async () => {
      await sides.stop();
      await database.drop();
    },
  };
}
