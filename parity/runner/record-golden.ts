/**
 * The golden set's platform and its recording. A golden fixture only replays the same where
 * the data is the same, so recording and replay both run against a "golden platform": a fresh
 * database seeded with the golden county (same generator seed, same size), Ollama's stand-in,
 * and legacy or the reimplementation on ephemeral ports. `recordGoldenSet` records the
 * representative traffic (record-traffic.ts) from legacy through the recording proxy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteCatalogue } from '../../flags/route-catalogue.js';
import { loadConfig } from '../../src/config/load.js';
import type { CutoverConfig } from '../../src/config/schema.js';
import { dropDatabase, ensureDatabase, openDatabaseServer } from '../../src/db/server.js';
import { startPlatform, type Platform } from '../../src/platform/platform.js';
import { freePort } from '../../src/platform/ports.js';
import type { ReplayTarget } from './replay.js';
import { startRecording } from './record.js';
import { driveRepresentativeTraffic } from './record-traffic.js';
import type { RecordTapCounts } from './record-tap.js';
import { targetDataset, writeDataset } from './dataset.js';

/** The data the golden set was recorded on; replay must run on the same. */
export const goldenCounties = [{ countyId: 'test_county', parcels: 300 }] as const;

export interface GoldenPlatform {
  config: CutoverConfig;
  platform: Platform;
  target: ReplayTarget;
  stop(): Promise<void>;
}

/** A fresh, seeded platform of legacy or the reimplementation on ephemeral ports, with its own database. */
export async function startGoldenPlatform(side: 'legacy' | 'reimpl', log: (line: string) => void = () => undefined): Promise<GoldenPlatform> {
  const host = '127.0.0.1';
  const config = loadConfig({ overrides: { ollama: { url: `http://${host}:${await freePort()}` } } });
  const server = await openDatabaseServer(config, log);
  const name = `cutover_golden_${side}_${process.pid}_${Date.now().toString(36)}`;
  const scratch = mkdtempSync(join(tmpdir(), `cutover-golden-${side}-`));
  const cleanup = async () => {
    await dropDatabase(server, name).catch((error) => log(`dropping ${name}: ${String(error)}`));
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const databaseUrl = await ensureDatabase(server, name);
    const ports = { sync: { host, port: await freePort() }, gateway: { host, port: await freePort() }, narrator: { host, port: await freePort() } };
    const platform = await startPlatform({
      config,
      databaseUrl,
      ports,
      exportDir: join(scratch, 'exports'),
      logDir: join(scratch, 'logs'),
      seed: goldenCounties,
      sync: side,
      edge: side,
      log,
    });
    return {
      config: loadConfig({ overrides: { ollama: { url: config.ollama.url }, legacy: ports, proxy: { gateway: { port: 0 }, sync: { port: 0 }, narrator: { port: 0 } } } }),
      platform,
      target: { name: side, urls: { gateway: platform.gatewayUrl, sync: platform.syncUrl, narrator: platform.narratorUrl } },
      stop: async () => {
        await platform.stop();
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Records the representative traffic from a fresh legacy golden platform into `dir`. */
export async function recordGoldenSet(dir: string, catalogue: RouteCatalogue, log: (line: string) => void): Promise<RecordTapCounts & { sent: number }> {
  const golden = await startGoldenPlatform('legacy', log);
  try {
    const recording = await startRecording({ config: golden.config, catalogue, dir });
    try {
      const urls = recording.proxy.urls;
      const sent = await driveRepresentativeTraffic({
        proxy: { gateway: urls.gateway!, sync: urls.sync!, narrator: urls.narrator! },
        directSync: golden.platform.syncUrl,
        databaseUrl: golden.platform.databaseUrl,
        log,
      });
      const counts = await recording.stop();
      // The set says what it was recorded on, read from the platform as replay will read its target.
      writeDataset(dir, await targetDataset(golden.platform.syncUrl, [...goldenCounties], golden.config.seed.seed));
      return { ...counts, sent };
    } catch (error) {
      await recording.stop();
      throw error;
    }
  } finally {
    await golden.stop();
  }
}
