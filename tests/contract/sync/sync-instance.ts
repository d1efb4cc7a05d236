/**
 * A sync service of the target under test started on its own, on the platform's database,
 * with an environment the shared platform does not have (ENV for the seed route's guard, a
 * shadow instance's DB_SCHEMA). Legacy and the reimplementation get the same environment, so
 * a test using it runs against both targets unchanged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { legacyServiceSpecs } from '../../../src/platform/legacy-services.js';
import { freePort } from '../../../src/platform/ports.js';
import { reimplServiceSpecs } from '../../../src/platform/reimpl-services.js';
import { Supervisor } from '../../../src/platform/supervisor.js';
import type { PlatformUnderTest } from '../../setup/platform-under-test.js';

export interface SyncInstance {
  url: string;
  stop(): Promise<void>;
}

/** Starts a sync with the harness's environment plus `env`; a variable given as null is removed. */
export async function startSync(platform: PlatformUnderTest, env: Record<string, string | null>): Promise<SyncInstance> {
  const config = loadConfig();
  const host = '127.0.0.1';
  const port = await freePort();
  const scratch = mkdtempSync(join(tmpdir(), 'sync-instance-'));
  const ports = { sync: { host, port }, gateway: { host, port: 0 }, narrator: { host, port: 0 } };
  const environment = { databaseUrl: platform.databaseUrl, exportDir: scratch, ollamaUrl: platform.ollamaUrl, syncServiceUrl: '', narratorUrl: '' };
  const legacySpec = legacyServiceSpecs(config, environment, ports, 'sync-test').find((spec) => spec.id.endsWith('.sync'))!;
  const spec =
    platform.target === 'reimpl'
      ? reimplServiceSpecs(config, { databaseUrl: platform.databaseUrl, exportDir: scratch, mountGisExport: false }, { sync: ports.sync, gisExport: ports.sync }, { idPrefix: 'sync-test', only: ['sync'] })[0]!
      : legacySpec;
  // The supervisor lays the spec's env over its own process's: an undefined value is not passed on.
  const overrides = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value ?? undefined])) as Record<string, string>;
  const supervisor = new Supervisor(join(scratch, 'logs'));
  const stop = async () => {
    await supervisor.stopAll();
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const service = await supervisor.start({ ...spec, env: { ...spec.env, ...overrides } });
    return { url: service.url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
