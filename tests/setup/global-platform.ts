/**
 * Global setup of the contract suite: an isolated database (created here, dropped after),
 * migrated and seeded with small counties, Ollama's stand-in, and the platform under test on
 * ephemeral ports. CUTOVER_TARGET chooses legacy (default) or the reimplementation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config/load.js';
import { dropDatabase, ensureDatabase, openDatabaseServer } from '../../src/db/server.js';
import { startPlatform } from '../../src/platform/platform.js';
import { freePort } from '../../src/platform/ports.js';
import type { PlatformUnderTest, Target } from './platform-under-test.js';

/** Test counties are small so the suite stays fast; their sizes are part of the contract tests' expectations. */
export const testCounties = [
  { countyId: 'benton_wa', parcels: 1500 },
  { countyId: 'franklin_wa', parcels: 400 },
  { countyId: 'test_county', parcels: 300 },
] as const;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const target = (process.env.CUTOVER_TARGET ?? 'legacy') as Target;
  if (target !== 'legacy' && target !== 'reimpl') throw new Error(`CUTOVER_TARGET must be legacy or reimpl, not ${target}`);
  const scratch = mkdtempSync(join(tmpdir(), 'cutover-contract-'));
  const ollamaPort = await freePort();
  const config = loadConfig({
    overrides: { ollama: { url: process.env.CUTOVER_TEST_OLLAMA_URL ?? `http://127.0.0.1:${ollamaPort}` } },
  });
  const server = await openDatabaseServer(config, (line) => console.error(line));
  const databaseName = `cutover_test_${process.pid}_${Date.now().toString(36)}`;
  const databaseUrl = await ensureDatabase(server, databaseName);
  const host = '127.0.0.1';
  const ports = {
    sync: { host, port: await freePort() },
    gateway: { host, port: await freePort() },
    narrator: { host, port: await freePort() },
  };
  const cleanup = async () => {
    await dropDatabase(server, databaseName).catch((error) => console.error(`dropping ${databaseName}: ${String(error)}`));
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
  let platform;
  try {
    platform = await startPlatform({
      config,
      databaseUrl,
      ports,
      exportDir: join(scratch, 'exports'),
      logDir: join(scratch, 'logs'),
      seed: testCounties,
      sync: target,
      edge: target,
    });
  } catch (error) {
    await cleanup();
    throw error;
  }
  const provided: PlatformUnderTest = {
    target,
    databaseUrl,
    gatewayUrl: platform.gatewayUrl,
    syncUrl: platform.syncUrl,
    narratorUrl: platform.narratorUrl,
    ollamaUrl: platform.ollamaUrl,
    exportDir: platform.exportDir,
    jwtSecretKey: config.auth.jwtSecretKey,
  };
  project.provide('platform', provided);
  return async () => {
    await platform.stop();
    await cleanup();
  };
}
