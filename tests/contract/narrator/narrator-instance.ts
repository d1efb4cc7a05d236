/**
 * A narrator of the target under test started on its own, with an environment the shared
 * platform does not have (cloud fallback on, templates off, a tiny timeout, another sync).
 * Legacy and the reimplementation get the same environment; every test using it runs against
 * both targets unchanged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { legacyServiceSpecs } from '../../../src/platform/legacy-services.js';
import { freePort } from '../../../src/platform/ports.js';
import { reimplEdgeServiceSpecs } from '../../../src/platform/reimpl-services.js';
import { Supervisor } from '../../../src/platform/supervisor.js';
import type { Target } from '../../setup/platform-under-test.js';

export interface NarratorInstance {
  url: string;
  stop(): Promise<void>;
}

export const canStartNarrator = (target: Target) => target === 'legacy' || target === 'reimpl';

/** Starts a narrator with the harness's usual environment plus `env` (which wins). */
export async function startNarrator(target: Target, env: Record<string, string>): Promise<NarratorInstance> {
  if (!canStartNarrator(target)) throw new Error(`no narrator launcher for target ${target} yet`);
  const config = loadConfig();
  const host = '127.0.0.1';
  const port = await freePort();
  const scratch = mkdtempSync(join(tmpdir(), 'narrator-instance-'));
  const specs = legacyServiceSpecs(
    config,
    { databaseUrl: '', exportDir: scratch, ollamaUrl: env.OLLAMA_URL ?? config.ollama.url, syncServiceUrl: env.SYNC_SERVICE_URL ?? '', narratorUrl: '' },
    { sync: { host, port: 0 }, gateway: { host, port: 0 }, narrator: { host, port } },
    'narrator-test',
  );
  const legacySpec = specs.find((candidate) => candidate.id.endsWith('.narrator'))!;
  const spec =
    target === 'reimpl'
      ? { ...reimplEdgeServiceSpecs(config, { databaseUrl: '', exportDir: scratch, ollamaUrl: '', syncServiceUrl: '', narratorUrl: '' }, { gateway: { host, port: 0 }, narrator: { host, port } }, { idPrefix: 'narrator-test', only: ['narrator'] })[0]!, env: legacySpec.env }
      : legacySpec;
  const supervisor = new Supervisor(join(scratch, 'logs'));
  try {
    const service = await supervisor.start({ ...spec, env: { ...spec.env, ...env } });
    return {
      url: service.url,
      stop: async () => {
        await supervisor.stopAll();
        rmSync(scratch, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await supervisor.stopAll();
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
}
