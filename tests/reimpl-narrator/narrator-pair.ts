/**
 * The legacy narrator and the TypeScript one side by side on ephemeral ports, with one
 * environment (same Ollama stand-in, same sync), started through the Supervisor as the harness
 * starts them. For the parity tests that compare what each sends and answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { legacyServiceSpecs } from '../../src/platform/legacy-services.js';
import { freePort } from '../../src/platform/ports.js';
import { reimplEdgeServiceSpecs } from '../../src/platform/reimpl-services.js';
import { Supervisor } from '../../src/platform/supervisor.js';

export interface NarratorPair {
  legacyUrl: string;
  reimplUrl: string;
  stop(): Promise<void>;
}

export async function startNarratorPair(env: { OLLAMA_URL: string; SYNC_SERVICE_URL: string } & Record<string, string>): Promise<NarratorPair> {
  const config = loadConfig();
  const host = '127.0.0.1';
  const scratch = mkdtempSync(join(tmpdir(), 'narrator-pair-'));
  const base = { databaseUrl: '', exportDir: scratch, ollamaUrl: env.OLLAMA_URL, syncServiceUrl: env.SYNC_SERVICE_URL, narratorUrl: '' };
  const legacy = legacyServiceSpecs(config, base, { sync: { host, port: 0 }, gateway: { host, port: 0 }, narrator: { host, port: await freePort() } }, 'pair-legacy').find(
    (spec) => spec.id === 'pair-legacy.narrator',
  )!;
  const [reimpl] = reimplEdgeServiceSpecs(config, base, { gateway: { host, port: 0 }, narrator: { host, port: await freePort() } }, { idPrefix: 'pair-reimpl', only: ['narrator'] });
  const supervisor = new Supervisor(join(scratch, 'logs'));
  const stop = async () => {
    await supervisor.stopAll();
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const [a, b] = await Promise.all([supervisor.start({ ...legacy, env: { ...legacy.env, ...env } }), supervisor.start({ ...reimpl!, env: { ...reimpl!.env, ...env } })]);
    return { legacyUrl: a.url, reimplUrl: b.url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
