/**
 * The legacy gateway and the TypeScript one side by side on ephemeral ports, sharing their keys
 * (JWT_SECRET_KEY, SECRET_KEY) and upstreams, started through the Supervisor as the harness
 * starts them. For the tests that hand a token or a cookie from one to the other.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { legacyServiceSpecs } from '../../src/platform/legacy-services.js';
import { freePort } from '../../src/platform/ports.js';
import { reimplEdgeServiceSpecs } from '../../src/platform/reimpl-services.js';
import { Supervisor } from '../../src/platform/supervisor.js';

export interface GatewayPair {
  legacyUrl: string;
  reimplUrl: string;
  jwtSecretKey: string;
  stop(): Promise<void>;
}

export async function startGatewayPair(upstreams: { syncServiceUrl: string; narratorUrl: string; databaseUrl: string }): Promise<GatewayPair> {
  const config = loadConfig();
  const host = '127.0.0.1';
  const scratch = mkdtempSync(join(tmpdir(), 'gateway-pair-'));
  const env = { ...upstreams, exportDir: scratch, ollamaUrl: '' };
  const legacy = legacyServiceSpecs(config, env, { sync: { host, port: 0 }, narrator: { host, port: 0 }, gateway: { host, port: await freePort() } }, 'pair-legacy').find(
    (spec) => spec.id === 'pair-legacy.gateway',
  )!;
  const [reimpl] = reimplEdgeServiceSpecs(config, env, { narrator: { host, port: 0 }, gateway: { host, port: await freePort() } }, { idPrefix: 'pair-reimpl', only: ['gateway'] });
  const supervisor = new Supervisor(join(scratch, 'logs'));
  const stop = async () => {
    await supervisor.stopAll();
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const [a, b] = await Promise.all([supervisor.start(legacy), supervisor.start(reimpl!)]);
    return { legacyUrl: a.url, reimplUrl: b.url, jwtSecretKey: config.auth.jwtSecretKey, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
