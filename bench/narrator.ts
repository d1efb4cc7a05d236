/**
 * Narrator benchmark: the legacy FastAPI narrator and the TypeScript one, side by side in one
 * run, against the same in-process Ollama stand-in (deterministic, no model), so what is measured
 * is each narrator's own overhead: POST /api/v1/summarize and GET /api/v1/health.
 * `node --import tsx bench/narrator.ts` runs it alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { startOllamaStandin } from '../src/ollama/index.js';
import { legacyServiceSpecs } from '../src/platform/legacy-services.js';
import { freePort } from '../src/platform/ports.js';
import { reimplEdgeServiceSpecs } from '../src/platform/reimpl-services.js';
import { Supervisor } from '../src/platform/supervisor.js';
import { formatBench, type BenchResult } from './bench-report.js';
import { runLoad } from './load.js';
import { sideBySide, type Measured } from './side-by-side.js';

export interface NarratorBenchOptions {
  durationMs?: number;
  warmupMs?: number;
  concurrency?: number;
}

export async function runNarratorBench(input: NarratorBenchOptions = {}): Promise<BenchResult> {
  const options = { durationMs: 5000, warmupMs: 1000, concurrency: 8, ...input };
  const config = loadConfig();
  const host = '127.0.0.1';
  const scratch = mkdtempSync(join(tmpdir(), 'bench-narrator-'));
  // The stand-in keeps a request log; a small cap keeps the bench's memory flat.
  const ollama = await startOllamaStandin({ models: [config.ollama.model], maxRecorded: 100 });
  const env = { databaseUrl: '', exportDir: scratch, ollamaUrl: ollama.url, syncServiceUrl: 'http://127.0.0.1:9', narratorUrl: '' };
  const legacySpec = legacyServiceSpecs(config, env, { sync: { host, port: 0 }, gateway: { host, port: 0 }, narrator: { host, port: await freePort() } }, 'bench-legacy').find(
    (spec) => spec.id === 'bench-legacy.narrator',
  )!;
  const [reimplSpec] = reimplEdgeServiceSpecs(config, env, { gateway: { host, port: 0 }, narrator: { host, port: await freePort() } }, { idPrefix: 'bench-reimpl', only: ['narrator'] });
  const supervisor = new Supervisor(join(scratch, 'logs'));
  try {
    const legacy = await supervisor.start(legacySpec);
    const reimpl = await supervisor.start(reimplSpec!);
    const body = JSON.stringify({ text: 'Parcel 1-23-456 at 12 Vine St. was reassessed at $312,000 after an 8% rise in comparable sales.', max_tokens: 64 });
    const summarize = (origin: string) =>
      runLoad({ origin, paths: ['/api/v1/summarize'], method: 'POST', headers: { 'content-type': 'application/json' }, body, concurrency: options.concurrency, durationMs: options.durationMs, warmupMs: options.warmupMs });
    const health = (origin: string) => runLoad({ origin, paths: ['/api/v1/health'], concurrency: options.concurrency, durationMs: options.durationMs, warmupMs: options.warmupMs });

    const results: Measured[] = [];
    results.push(['POST /api/v1/summarize', await summarize(legacy.url), await summarize(reimpl.url)]);
    results.push(['GET /api/v1/health', await health(legacy.url), await health(reimpl.url)]);

    const { rows, notes } = sideBySide(results);
    notes.push(`closed loop, concurrency ${options.concurrency}, ${options.durationMs} ms after ${options.warmupMs} ms warm-up; Ollama is the in-process stand-in`);
    return { name: 'narrator (legacy FastAPI vs reimpl fastify)', rows, notes };
  } finally {
    await supervisor.stopAll();
    await ollama.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runNarratorBench()
    .then((result) => console.log(formatBench(result)))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
