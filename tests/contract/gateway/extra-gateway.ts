/**
 * A second gateway of the target under test, wired to upstreams of the test's choosing (a
 * dead port, a broken server, a database that is down). Only for the cases the shared platform cannot show: the
 * harness's gateway always has a live sync.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { legacyServiceSpecs } from '../../../src/platform/legacy-services.js';
import { freePort } from '../../../src/platform/ports.js';
import { reimplEdgeServiceSpecs } from '../../../src/platform/reimpl-services.js';
import { Supervisor } from '../../../src/platform/supervisor.js';
import type { PlatformUnderTest } from '../../setup/platform-under-test.js';

export interface ExtraGateway {
  url: string;
  stop(): Promise<void>;
}

export async function startExtraGateway(
  platform: PlatformUnderTest,
  upstreams: { syncServiceUrl: string; narratorUrl: string; databaseUrl?: string },
): Promise<ExtraGateway> {
  const config = loadConfig();
  const host = '127.0.0.1';
  const ports = {
    sync: { host, port: 1 },
    narrator: { host, port: 1 },
    gateway: { host, port: await freePort() },
  };
  const specs = legacyServiceSpecs(
    config,
    {
      exportDir: platform.exportDir,
      ollamaUrl: platform.ollamaUrl,
      ...upstreams,
      databaseUrl: upstreams.databaseUrl ?? platform.databaseUrl,
    },
    ports,
    'extra',
  );
  const legacyGateway = specs.find((spec) => spec.id === 'extra.gateway')!;
  // The reimplementation is started with exactly the legacy gateway's environment.
  const gateway =
    platform.target === 'reimpl'
      ? { ...reimplEdgeServiceSpecs(config, { databaseUrl: '', exportDir: '', ollamaUrl: '', syncServiceUrl: '', narratorUrl: '' }, { gateway: ports.gateway, narrator: ports.narrator }, { idPrefix: 'extra', only: ['gateway'] })[0]!, env: legacyGateway.env }
      : legacyGateway;
  // The same keys as the platform's gateway, so tokens from either work on both.
  gateway.env = { ...gateway.env, JWT_SECRET_KEY: platform.jwtSecretKey };
  const supervisor = new Supervisor(mkdtempSync(join(tmpdir(), 'cutover-extra-gateway-')));
  try {
    const running = await supervisor.start(gateway);
    return { url: running.url, stop: () => supervisor.stopAll() };
  } catch (error) {
    await supervisor.stopAll();
    throw error;
  }
}
