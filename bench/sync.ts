/**
 * Sync read-route benchmark: legacy sync and the reimplementation side by side on one database,
 * requests per second and p50/p99 at a fixed concurrency for GET /properties,
 * /plugins/v1/gis-export/list and /plugins/v1/gis-export/status/{id}.
 * Run alone: `node --import tsx bench/sync.ts` (BENCH_CONCURRENCY=16, BENCH_DURATION_MS=5000).
 */
import { fileURLToPath } from 'node:url';
import { formatBench, type BenchResult, type BenchRow } from './bench-report.js';
import { runLoad } from './load.js';
import { ensureParcels, startSyncPair } from './sync-services.js';

const COUNTY = 'test_county';
const PARCELS = 20_000;

export interface SyncBenchOptions {
  concurrency?: number;
  durationMs?: number;
  log?: (line: string) => void;
}

/** Runs the read-route benchmark; starts and stops its own services. */
export async function runSyncBench(options: SyncBenchOptions = {}): Promise<BenchResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  const concurrency = options.concurrency ?? Number(process.env.BENCH_CONCURRENCY ?? 16);
  const durationMs = options.durationMs ?? Number(process.env.BENCH_DURATION_MS ?? 5000);
  const pair = await startSyncPair(log);
  const rows: BenchRow[] = [];
  try {
    await ensureParcels(pair.databaseUrl, COUNTY, PARCELS, log);
    // Jobs for /list and /status: a few exports of the roads layer, created through legacy.
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const reply = await fetch(`${pair.legacy.url}/plugins/v1/gis-export/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ county_id: COUNTY, format: 'FAIL_FORMAT_SIM', username: 'bench', area_of_interest: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] }, layers: ['roads'] }),
      });
      ids.push(((await reply.json()) as { job_id: string }).job_id);
    }
    const routes: Array<[string, string[]]> = [
      ['GET /properties', [0, 100, 200, 300].map((offset) => `/properties?county_id=${COUNTY}&limit=100&offset=${offset}`)],
      ['GET /plugins/v1/gis-export/list', [`/plugins/v1/gis-export/list?county_id=${COUNTY}`]],
      ['GET /plugins/v1/gis-export/status/{id}', ids.map((id) => `/plugins/v1/gis-export/status/${id}`)],
    ];
    for (const [route, paths] of routes) {
      const measure = (origin: string) => runLoad({ origin, paths, concurrency, durationMs, warmupMs: 1000 });
      const legacy = await measure(pair.legacy.url);
      const reimpl = await measure(pair.reimpl.url);
      log(`${route}: legacy ${legacy.rps.toFixed(0)} rps p50 ${legacy.p50Ms.toFixed(2)} p99 ${legacy.p99Ms.toFixed(2)}; reimpl ${reimpl.rps.toFixed(0)} rps p50 ${reimpl.p50Ms.toFixed(2)} p99 ${reimpl.p99Ms.toFixed(2)} (errors ${legacy.errors + legacy.non2xx}/${reimpl.errors + reimpl.non2xx})`);
      rows.push({ metric: `${route} rps`, baselineLabel: 'legacy', baseline: legacy.rps, candidateLabel: 'reimpl', candidate: reimpl.rps, higherIsBetter: true, target: 3 });
      rows.push({ metric: `${route} p50 ms`, baselineLabel: 'legacy', baseline: legacy.p50Ms, candidateLabel: 'reimpl', candidate: reimpl.p50Ms, higherIsBetter: false });
      rows.push({ metric: `${route} p99 ms`, baselineLabel: 'legacy', baseline: legacy.p99Ms, candidateLabel: 'reimpl', candidate: reimpl.p99Ms, higherIsBetter: false });
    }
  } finally {
    await pair.stop();
  }
  return { name: `Sync read routes: legacy vs reimpl (concurrency ${concurrency}, ${durationMs} ms each)`, rows, notes: ['one uvicorn worker vs one Node process, same machine as the load generator'] };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatBench(await runSyncBench()));
}
