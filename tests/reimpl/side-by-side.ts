/**
 * Legacy sync and the reimplemented sync started side by side on ephemeral ports, against one
 * isolated, seeded database and one EXPORT_DIR, so each can be asked about the other's jobs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { legacyServiceSpecs } from '../../src/platform/legacy-services.js';
import { freePort } from '../../src/platform/ports.js';
import { reimplServiceSpecs } from '../../src/platform/reimpl-services.js';
import { Supervisor } from '../../src/platform/supervisor.js';
import { seedCounty } from '../../src/seed/index.js';
import { createIsolatedDatabase } from '../setup/isolated-database.js';

export interface SideBySide {
  legacyUrl: string;
  reimplUrl: string;
  databaseUrl: string;
  exportDir: string;
  stop(): Promise<void>;
}

export async function startSideBySide(label: string, parcels = 300): Promise<SideBySide> {
  const config = loadConfig();
  const database = await createIsolatedDatabase(label, { migrated: true });
  await seedCounty(database.url, { countyId: 'test_county', parcels, seed: config.seed.seed });
  const scratch = mkdtempSync(join(tmpdir(), `cutover-${label}-`));
  const exportDir = join(scratch, 'exports');
  const supervisor = new Supervisor(join(scratch, 'logs'));
  const host = '127.0.0.1';
  try {
    const legacyPort = { host, port: await freePort() };
    const [legacySync] = legacyServiceSpecs(
      config,
      { databaseUrl: database.url, exportDir, ollamaUrl: 'http://127.0.0.1:9', syncServiceUrl: 'http://127.0.0.1:9', narratorUrl: 'http://127.0.0.1:9' },
      { sync: legacyPort, gateway: legacyPort, narrator: legacyPort },
    );
    const reimplPort = { host, port: await freePort() };
    const [reimplSync] = reimplServiceSpecs(config, { databaseUrl: database.url, exportDir, mountGisExport: true, fixes: [] }, { sync: reimplPort, gisExport: reimplPort }, { only: ['sync'] });
    const [legacy, reimpl] = await Promise.all([supervisor.start(legacySync!), supervisor.start(reimplSync!)]);
    return {
      legacyUrl: legacy.url,
      reimplUrl: reimpl.url,
      databaseUrl: database.url,
      exportDir,
      stop: async () => {
        await supervisor.stopAll();
        await database.drop();
        rmSync(scratch, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await supervisor.stopAll();
    await database.drop();
    throw error;
  }
}

export interface Answer {
  status: number;
  text: string;
  json: any;
  bytes: Buffer;
}

export async function ask(url: string, init: { method?: string; body?: unknown } = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, bytes };
}

/** Polls `probe` until `done` holds or the deadline passes (then returns the last answer). */
export async function until(probe: () => Promise<Answer>, done: (answer: Answer) => boolean, timeoutMs = 30_000): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  let answer = await probe();
  while (!done(answer) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    answer = await probe();
  }
  return answer;
}
