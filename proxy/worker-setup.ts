/**
 * The parts a proxy worker builds for itself: the route catalogue (flags/routes.yaml), a
 * LiveFlagSource on the harness database (every worker listens, so all see a change within
 * a second) and the PostgreSQL observation and unknown-traffic stores (all workers write to
 * the same cutover tables).
 */
import type { FlagSource } from '../flags/flag.js';
import { createLiveFlagSource } from '../flags/live-flag-source.js';
import { loadRouteCatalogue, type RouteCatalogue } from '../flags/route-catalogue.js';
import type { CutoverConfig } from '../src/config/schema.js';
import { migrateHarness } from '../src/db/migrate.js';
import { ensureDatabase, openDatabaseServer } from '../src/db/server.js';
import { PgUnknownTrafficStore, type UnknownTrafficStore } from '../src/report/unknown-traffic.js';
import type { ObservationStore } from './observe/observation.js';
import { PgObservationStore } from './observe/pg-observation-store.js';
import { PgCorrelationStore } from './stateful/correlation-store-pg.js';
import type { StartProxyOptions } from './start.js';

export interface ProxyWorkerParts {
  catalogue: RouteCatalogue;
  flagSource: FlagSource;
  observationStore: ObservationStore;
  unknownTrafficStore?: UnknownTrafficStore;
  /** Job-id correlations shared by every worker (cutover.correlations) and job-row state parity. */
  stateful?: StartProxyOptions['stateful'];
  /** Releases what setup opened (after the proxy has flushed). */
  close(): Promise<void>;
}

export type ProxyWorkerSetup = (config: CutoverConfig) => Promise<ProxyWorkerParts>;

export const setupProxyWorker: ProxyWorkerSetup = async (config) => {
  // The embedded server, when used, is already running (`cutover up` started it); this only connects.
  const server = await openDatabaseServer(config);
  const url = config.database.url ?? (await ensureDatabase(server, config.database.name));
  await migrateHarness(url);
  const flags = createLiveFlagSource({ url });
  await flags.ready();
  const store = new PgObservationStore(url);
  const unknownTraffic = new PgUnknownTrafficStore(url);
  const correlations = new PgCorrelationStore(url);
  return {
    catalogue: loadRouteCatalogue(),
    flagSource: flags,
    observationStore: store,
    unknownTrafficStore: unknownTraffic,
    stateful: { correlationStore: correlations, stateParity: { databaseUrl: url } },
    close: async () => {
      await correlations.close();
      await store.close();
      await unknownTraffic.close();
      await flags.close();
    },
  };
};
