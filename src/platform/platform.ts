/**
 * The legacy TerraFusion platform, brought up for real: schema migrated, counties seeded when
 * empty, Ollama (real or the stand-in) answering, and the three Python services healthy.
 * Used by `cutover up`, the main job and the test harness alike.
 */
import { mkdirSync } from 'node:fs';
import type { CutoverConfig } from '../config/schema.js';
import { migrate, migrateHarness } from '../db/migrate.js';
import { ensureOllama } from '../ollama/ensure.js';
import { isCountySeeded, seedCounty } from '../seed/index.js';
import { legacyServiceSpecs, type LegacyPorts } from './legacy-services.js';
import { countyConfigsDir } from './paths.js';
import { reimplEdgeServiceSpecs, reimplServiceSpecs } from './reimpl-services.js';
import { Supervisor, type RunningService } from './supervisor.js';

export interface PlatformOptions {
  config: CutoverConfig;
  databaseUrl: string;
  ports: LegacyPorts;
  exportDir: string;
  logDir: string;
  /** Counties seeded when they hold no parcels yet. */
  seed: ReadonlyArray<{ countyId: string; parcels: number }>;
  /** Where the gateway and narrator reach sync and narrator; defaults to the services themselves. */
  syncServiceUrl?: string;
  narratorUrl?: string;
  /** Which sync serves `ports.sync`: legacy Python, or the TypeScript reimplementation (with the GIS export mounted). */
  sync?: 'legacy' | 'reimpl';
  /** Which gateway and narrator serve `ports.gateway` / `ports.narrator`: legacy Python, or the TypeScript ones (same env, same ports). */
  edge?: 'legacy' | 'reimpl';
  log?: (line: string) => void;
}

export interface Platform {
  databaseUrl: string;
  gatewayUrl: string;
  syncUrl: string;
  narratorUrl: string;
  ollamaUrl: string;
  ollamaKind: 'real' | 'standin';
  exportDir: string;
  services: readonly RunningService[];
  stop(): Promise<void>;
}

const url = (endpoint: { host: string; port: number }) => `http://${endpoint.host}:${endpoint.port}`;

/** Starts the legacy platform; on any failure, stops what it had started and rethrows. */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const log = options.log ?? (() => undefined);
  const { config, databaseUrl, ports } = options;
  mkdirSync(options.exportDir, { recursive: true });

  await migrate(databaseUrl);
  await migrateHarness(databaseUrl);
  for (const county of options.seed) {
    if (await isCountySeeded(databaseUrl, county.countyId)) continue;
    const summary = await seedCounty(databaseUrl, { ...county, seed: config.seed.seed, countyConfigsDir });
    log(`seeded ${county.countyId}: ${county.parcels} parcels in ${summary.elapsedMs} ms`);
  }

  const ollama = await ensureOllama(config, log);
  const supervisor = new Supervisor(options.logDir);
  const stop = async () => {
    await supervisor.stopAll();
    await ollama.close();
  };
  try {
    const legacyEnv = {
      databaseUrl,
      exportDir: options.exportDir,
      ollamaUrl: ollama.url,
      syncServiceUrl: options.syncServiceUrl ?? url(ports.sync),
      narratorUrl: options.narratorUrl ?? url(ports.narrator),
    };
    const specs = legacyServiceSpecs(config, legacyEnv, ports);
    if (options.sync === 'reimpl') {
      // Same port, same env contract: the gateway and narrator stay legacy and call the reimplemented sync.
      const [reimplSync] = reimplServiceSpecs(config, { databaseUrl, exportDir: options.exportDir, mountGisExport: true },
        { sync: ports.sync, gisExport: ports.sync }, { only: ['sync'] });
      specs.splice(specs.findIndex((spec) => spec.id === 'legacy.sync'), 1, reimplSync!);
    }
    if (options.edge === 'reimpl') {
      // The same environment the legacy gateway and narrator get, on the same ports.
      for (const reimpl of reimplEdgeServiceSpecs(config, legacyEnv, ports)) {
        specs.splice(specs.findIndex((spec) => spec.id === reimpl.id.replace('reimpl.', 'legacy.')), 1, reimpl);
      }
    }
    for (const spec of specs) {
      const service = await supervisor.start(spec);
      log(`${spec.id} healthy at ${service.url} (pid ${service.pid})`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    databaseUrl,
    gatewayUrl: url(ports.gateway),
    syncUrl: url(ports.sync),
    narratorUrl: url(ports.narrator),
    ollamaUrl: ollama.url,
    ollamaKind: ollama.kind,
    exportDir: options.exportDir,
    services: supervisor.services,
    stop,
  };
}
