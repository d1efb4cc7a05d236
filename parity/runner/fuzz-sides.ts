/**
 * The sides a differential run talks to: legacy sync instance(s) and the reimplemented sync
 * (GIS export mounted), each on an ephemeral port, all against one database, started through
 * the Supervisor with the same env contract the platform uses. Fuzz starts one legacy and one
 * reimpl; calibrate starts two legacy instances and no reimpl. Gateways and narrators, when
 * asked, call their own side's sync; each side's narrator asks an Ollama stand-in of its own.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CutoverConfig } from '../../src/config/schema.js';
import { migrate, migrateHarness } from '../../src/db/migrate.js';
import { dropDatabase, ensureDatabase, type DatabaseServer } from '../../src/db/server.js';
import { legacyServiceSpecs } from '../../src/platform/legacy-services.js';
import { freePort } from '../../src/platform/ports.js';
import { reimplEdgeServiceSpecs, reimplServiceSpecs } from '../../src/platform/reimpl-services.js';
import { SideTarget } from './fuzz-exchange.js';
import { startOllamaStandin, type OllamaStandin } from '../../src/ollama/index.js';
import { Supervisor } from '../../src/platform/supervisor.js';
import { isCountySeeded, seedCounty } from '../../src/seed/index.js';
import { countyConfigsDir } from '../../src/platform/paths.js';

export interface Sides {
  /** Base URLs of the legacy sync instances (two for calibrate). */
  legacy: string[];
  /** Base URL of the reimplemented sync, when started. */
  reimpl?: string;
  /** Base URLs of the gateways, when started: each legacy instance's, calling its own sync, and the reimplementation's, calling the reimplemented sync. */
  legacyGateways: string[];
  reimplGateway?: string;
  /** Base URLs of the narrators, when started: legacy's (of the first legacy instance) and the reimplementation's. */
  legacyNarrator?: string;
  reimplNarrator?: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

export interface SidesOptions {
  config: CutoverConfig;
  databaseUrl: string;
  legacyInstances: number;
  reimpl: boolean;
  /** Start a gateway per side too (its routes fuzzed with real logins); each calls its own side's sync. */
  gateways?: boolean;
  /** Start a narrator per side too (legacy's beside the first legacy instance), each with its own Ollama stand-in and its side's sync. */
  narrators?: boolean;
  /** Counties seeded when they hold no parcels yet (small ones keep a run fast). */
  seed?: ReadonlyArray<{ countyId: string; parcels: number }>;
  log?: (line: string) => void;
}

/** Starts the sides; stops whatever it started when one of them fails to come up. */
export async function startSides(options: SidesOptions): Promise<Sides> {
  const { config, databaseUrl } = options;
  const log = options.log ?? (() => undefined);
  await migrate(databaseUrl);
  await migrateHarness(databaseUrl);
  for (const county of options.seed ?? []) {
    if (await isCountySeeded(databaseUrl, county.countyId)) continue;
    await seedCounty(databaseUrl, { ...county, seed: config.seed.seed, countyConfigsDir });
    log(`seeded ${county.countyId} with ${county.parcels} parcels`);
  }
  const work = mkdtempSync(join(tmpdir(), 'cutover-sides-'));
  const supervisor = new Supervisor(join(work, 'logs'));
  const host = '127.0.0.1';
  const standins: OllamaStandin[] = [];
  const stopAll = async () => {
    await supervisor.stopAll();
    await Promise.all(standins.map((standin) => standin.close()));
  };
  // A narrator of this side, asking a stand-in of its own: the two sides' narrators then count and log apart.
  const startNarrator = async (side: 'legacy' | 'reimpl', syncUrl: string, exportDir: string): Promise<string> => {
    const standin = await startOllamaStandin({ models: [config.ollama.model] });
    standins.push(standin);
    const endpoint = { host, port: await freePort(host) };
    const env = { databaseUrl, exportDir, ollamaUrl: standin.url, syncServiceUrl: syncUrl, narratorUrl: '' };
    const spec = side === 'legacy'
      ? legacyServiceSpecs(config, env, { sync: endpoint, gateway: endpoint, narrator: endpoint }, 'legacy-0').find((candidate) => candidate.id.endsWith('.narrator'))!
      : reimplEdgeServiceSpecs(config, env, { gateway: endpoint, narrator: endpoint }, { only: ['narrator'] })[0]!;
    const up = await supervisor.start(spec);
    log(`${spec.id} healthy at ${up.url} (Ollama stand-in ${standin.url})`);
    return up.url;
  };
  const sides: Sides = { legacy: [], legacyGateways: [], databaseUrl, stop: stopAll };
  try {
    for (let i = 0; i < options.legacyInstances; i++) {
      const port = await freePort(host);
      const endpoint = { host, port };
      // Each instance its own EXPORT_DIR: a file one side wrote can never satisfy the other's download.
      const [sync] = legacyServiceSpecs(config, {
        databaseUrl, exportDir: join(work, `legacy-${i}-exports`), ollamaUrl: 'http://127.0.0.1:9', syncServiceUrl: '', narratorUrl: '',
      }, { sync: endpoint, gateway: endpoint, narrator: endpoint }, `legacy-${i}`);
      const running = await supervisor.start(sync!);
      sides.legacy.push(running.url);
      log(`${sync!.id} healthy at ${running.url}`);
      if (options.gateways) {
        const gatewayEndpoint = { host, port: await freePort(host) };
        const gateway = legacyServiceSpecs(config, {
          databaseUrl, exportDir: join(work, `legacy-${i}-exports`), ollamaUrl: 'http://127.0.0.1:9', syncServiceUrl: running.url, narratorUrl: 'http://127.0.0.1:9',
        }, { sync: endpoint, gateway: gatewayEndpoint, narrator: endpoint }, `legacy-${i}`).find((spec) => spec.id.endsWith('.gateway'))!;
        const up = await supervisor.start(gateway);
        sides.legacyGateways.push(up.url);
        log(`${gateway.id} healthy at ${up.url}`);
      }
      if (options.narrators && i === 0) sides.legacyNarrator = await startNarrator('legacy', running.url, join(work, 'legacy-0-exports'));
    }
    if (options.reimpl) {
      const endpoint = { host, port: await freePort(host) };
      const [sync] = reimplServiceSpecs(config, { databaseUrl, exportDir: join(work, 'reimpl-exports'), mountGisExport: true },
        { sync: endpoint, gisExport: endpoint }, { only: ['sync'] });
      const running = await supervisor.start(sync!);
      sides.reimpl = running.url;
      log(`${sync!.id} healthy at ${running.url}`);
      if (options.gateways) {
        const gatewayEndpoint = { host, port: await freePort(host) };
        const [gateway] = reimplEdgeServiceSpecs(config, {
          databaseUrl, exportDir: join(work, 'reimpl-exports'), ollamaUrl: 'http://127.0.0.1:9', syncServiceUrl: running.url, narratorUrl: 'http://127.0.0.1:9',
        }, { gateway: gatewayEndpoint, narrator: gatewayEndpoint }, { only: ['gateway'] });
        const up = await supervisor.start(gateway!);
        sides.reimplGateway = up.url;
        log(`${gateway!.id} healthy at ${up.url}`);
      }
      if (options.narrators) sides.reimplNarrator = await startNarrator('reimpl', running.url, join(work, 'reimpl-exports'));
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return sides;
}

/** The two sides of a differential run as targets: a URL per service each, and the gateways' logins. */
export function sideTargets(sides: Sides, passwords: Readonly<Record<string, string>>): { legacy: SideTarget; reimpl: SideTarget } {
  const legacy: Record<string, string> = { sync: sides.legacy[0]! };
  const reimpl: Record<string, string> = { sync: sides.reimpl! };
  if (sides.legacyGateways[0]) legacy.gateway = sides.legacyGateways[0];
  if (sides.reimplGateway) reimpl.gateway = sides.reimplGateway;
  if (sides.legacyNarrator) legacy.narrator = sides.legacyNarrator;
  if (sides.reimplNarrator) reimpl.narrator = sides.reimplNarrator;
  return { legacy: new SideTarget(legacy, passwords), reimpl: new SideTarget(reimpl, passwords) };
}

/**
 * The database a fuzz or calibrate run uses: the configured one (its real counties), or with
 * `isolated` a throw-away database on the same server, seeded with small counties and dropped
 * after, so generated jobs never land in the configured database's job tables.
 */
export async function runDatabase(
  config: CutoverConfig,
  server: DatabaseServer,
  isolated: boolean,
): Promise<{ url: string; seed?: Array<{ countyId: string; parcels: number }>; drop(): Promise<void> }> {
  if (!isolated) return { url: config.database.url ?? (await ensureDatabase(server, config.database.name)), drop: async () => undefined };
  const name = `cutover_fuzz_${process.pid}_${Date.now().toString(36)}`;
  const url = await ensureDatabase(server, name);
  return {
    url,
    seed: [{ countyId: 'test_county', parcels: 300 }, { countyId: 'franklin_wa', parcels: 1000 }],
    drop: () => dropDatabase(server, name),
  };
}
