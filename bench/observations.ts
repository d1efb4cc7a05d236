/**
 * Observations at volume (issue 11 item 6): 1,000,000 observations over seven days, COPY'd into
 * two isolated databases — one with the harness schema (day partitions, the indexes, 040), one
 * with the same columns in a plain table without partitions or indexes — and `cutover report`'s
 * work (the report's tallies and the readiness gate over the same window, collectReport) timed on
 * each, median of three runs with the spread: the whole window (all 1,000,000), and the last day.
 * Both sides run the same SQL (ObservationStore.tallies), so the ratio is what the partition and
 * index design buys. Run alone: `node --import tsx bench/observations.ts` (BENCH_OBSERVATIONS=1000000).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { loadRouteCatalogue } from '../flags/route-catalogue.js';
import { readinessSummary, runGate } from '../gate/gate.js';
import { sharedTallies } from '../proxy/observe/observation-tallies.js';
import { PgObservationStore } from '../proxy/observe/pg-observation-store.js';
import { loadConfig } from '../src/config/load.js';
import { migrateHarness } from '../src/db/migrate.js';
import { dropDatabase, ensureDatabase, openDatabaseServer } from '../src/db/server.js';
import { batched, copyRow } from '../src/seed/copy-text.js';
import { Prng } from '../src/seed/prng.js';
import { collectReport } from '../src/report/write-report.js';
import { formatBench, type BenchResult, type BenchRow } from './bench-report.js';

const dayMs = 86_400_000;
const days = 7;
const columns = 'id, observed_at, route_id, service, method, path, mode, serving_side, serving_status, serving_latency_ms, serving_error, serving_body, shadow_side, shadow_status, shadow_latency_ms, shadow_error, shadow_body, verdict, ignored_by, errored_side, differences';

/** COPY rows of `count` observations from `start` over seven days: mostly matched, some mismatched (with diffs), ignored, errored and accepted; one route in canary. */
function* observationRows(count: number, start: number): Generator<string> {
  const prng = new Prng(20261202);
  const random = () => prng.next();
  const routes: Array<[string, string, string]> = [
    ['sync.health', 'GET', '/health'],
    ['sync.counties.list', 'GET', '/counties'],
    ['sync.counties.get', 'GET', '/counties/benton_wa'],
    ['sync.gis-export.run', 'POST', '/plugins/v1/gis-export/run'],
    ['sync.gis-export.run.state', 'STATE', '/plugins/v1/gis-export/status/x'],
    ['sync.metrics', 'GET', '/metrics'],
  ];
  // Latency in ms as the proxy measures it (three decimals), log-normal around a route's median.
  const latency = (median: number) => Math.round(median * Math.exp((random() + random() + random() - 1.5) * 0.9) * 1000) / 1000;
  for (let index = 0; index < count; index++) {
    const [routeId, method, path] = routes[index % routes.length]!;
    const canary = routeId === 'sync.counties.get';
    const reimplServes = canary && random() < 0.2;
    const roll = random();
    const verdict = roll < 0.02 ? 'mismatched' : roll < 0.04 ? 'ignored' : roll < 0.05 ? 'errored' : 'matched';
    const differences = [];
    if (verdict === 'mismatched') differences.push({ path: `$.items[${index % 7}].assessed_value`, serving: String(index), shadow: String(index + 1), disposition: { as: 'mismatch' } });
    if (random() < 0.03) differences.push({ path: '$.area', serving: '1.0', shadow: '1', disposition: { as: 'accepted', id: 'sync.rounding' } });
    const shadowFailed = verdict === 'errored';
    yield copyRow([
      index + 1,
      new Date(start + Math.floor((index / count) * days * dayMs)).toISOString(),
      routeId,
      'sync',
      method,
      `${path}?i=${index}`,
      canary ? 'canary' : 'shadow',
      reimplServes ? 'reimpl' : 'legacy',
      200,
      latency(reimplServes ? 8 : 12),
      null,
      null,
      reimplServes ? 'legacy' : 'reimpl',
      shadowFailed ? null : 200,
      shadowFailed ? 1000 : latency(reimplServes ? 12 : 8),
      shadowFailed ? 'CUTOVER_ERR_UPSTREAM_TIMEOUT' : null,
      null,
      verdict,
      verdict === 'ignored' ? '{$.created_at}' : '{}',
      shadowFailed ? 'shadow' : null,
      JSON.stringify(differences),
    ]);
  }
}

export async function copyObservations(url: string, count: number, start: number, partitioned: boolean): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (partitioned) await client.query('SELECT cutover.ensure_observation_partitions($1::date, $2::date)', [new Date(start).toISOString().slice(0, 10), new Date(start + days * dayMs).toISOString().slice(0, 10)]);
    else {
      // The same columns, no partitions, no primary key, no index: the design this bench measures against.
      // The tallies also read the sampled-out counts (migration 046): that table as migrated, empty in both copies.
      await client.query(`CREATE SCHEMA cutover; CREATE TABLE cutover.observations (
        id bigint, observed_at timestamptz NOT NULL, route_id text NOT NULL, service text NOT NULL, method text NOT NULL, path text NOT NULL, mode text NOT NULL,
        serving_side text NOT NULL, serving_status integer, serving_latency_ms double precision NOT NULL, serving_error text, serving_body text,
        shadow_side text NOT NULL, shadow_status integer, shadow_latency_ms double precision NOT NULL, shadow_error text, shadow_body text,
        verdict text NOT NULL, ignored_by text[] NOT NULL DEFAULT '{}', errored_side text, differences jsonb NOT NULL DEFAULT '[]');
        CREATE TABLE cutover.sampled_out (route_id text NOT NULL, hour timestamptz NOT NULL, requests bigint NOT NULL, PRIMARY KEY (route_id, hour))`);
    }
    await pipeline(Readable.from(batched(observationRows(count, start))), client.query(copyFrom(`COPY cutover.observations (${columns}) FROM STDIN`)));
    // As autovacuum would have by then: statistics, and the visibility map index-only scans need.
    await client.query('VACUUM ANALYZE cutover.observations');
  } finally {
    await client.end();
  }
}

/** `cutover report`'s reading: the report's tallies and the gate over the same window, as collectReport with readiness does. */
async function reportAndGate(url: string, since: Date, now: Date): Promise<{ ms: number; observations: number }> {
  const store = new PgObservationStore(url);
  const tallied = sharedTallies(store);
  const catalogue = loadRouteCatalogue();
  const thresholds = loadConfig().gate.thresholds;
  try {
    const began = performance.now();
    const report = await collectReport(
      { observations: tallied, catalogue, readiness: async () => readinessSummary(await runGate({ observations: tallied, catalogue, thresholds }, { since, now })) },
      { since, now },
    );
    return { ms: performance.now() - began, observations: report.totals.observations };
  } finally {
    await store.close();
  }
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function runObservationsBench(options: { count?: number; runs?: number; log?: (line: string) => void } = {}): Promise<BenchResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  const count = options.count ?? Number(process.env.BENCH_OBSERVATIONS ?? 1_000_000);
  const runs = options.runs ?? 3;
  const server = await openDatabaseServer(loadConfig(), log);
  const suffix = randomBytes(4).toString('hex');
  const names = { partitioned: `cutover_bench_obs_${suffix}`, flat: `cutover_bench_flat_${suffix}` };
  const now = new Date();
  const start = Math.floor(now.getTime() / dayMs) * dayMs - (days - 1) * dayMs;
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const load1 = () => loadavg()[0]!.toFixed(1);
  notes.push(`machine load (1-minute average, other engineers' work included) at the start: ${load1()}`);
  try {
    const urls = { partitioned: await ensureDatabase(server, names.partitioned), flat: await ensureDatabase(server, names.flat) };
    await migrateHarness(urls.partitioned);
    for (const side of ['partitioned', 'flat'] as const) {
      const began = performance.now();
      await copyObservations(urls[side], count, start, side === 'partitioned');
      log(`bench observations: ${count} observations COPY'd into the ${side} table in ${((performance.now() - began) / 1000).toFixed(1)} s`);
    }
    const windows = [
      { name: `report+gate, all ${count} observations (7 days)`, since: new Date(start) },
      { name: 'report+gate, the last day of 7', since: new Date(start + (days - 1) * dayMs) },
    ];
    for (const window of windows) {
      const times: Record<'partitioned' | 'flat', number[]> = { partitioned: [], flat: [] };
      let seen = 0;
      // Alternated, so load from the other engineers on this machine falls on both sides alike.
      for (let run = 0; run < runs; run++) {
        for (const side of ['flat', 'partitioned'] as const) {
          const measured = await reportAndGate(urls[side], window.since, now);
          times[side].push(measured.ms);
          seen = measured.observations;
        }
      }
      rows.push({ metric: `${window.name} ms (median of ${runs})`, baselineLabel: 'unpartitioned, unindexed', baseline: median(times.flat), candidateLabel: 'partitioned+indexed', candidate: median(times.partitioned), higherIsBetter: false });
      const spread = (values: number[]) => `${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))} ms`;
      notes.push(`${window.name}: ${seen} observations in the report; partitioned ${times.partitioned.map(Math.round).join(', ')} ms (spread ${spread(times.partitioned)}), unpartitioned ${times.flat.map(Math.round).join(', ')} ms (spread ${spread(times.flat)})`);
    }
    notes.push(`machine load at the end: ${load1()}`);
    const whole = rows[0]!;
    notes.push(`target: the report and the gate over ${count} observations in under 5000 ms: ${whole.candidate < 5000 ? 'met' : 'NOT met'} (median ${Math.round(whole.candidate)} ms)`);
  } finally {
    await dropDatabase(server, names.partitioned).catch(() => undefined);
    await dropDatabase(server, names.flat).catch(() => undefined);
    await server.stop();
  }
  return { name: 'observations at volume (report and gate in SQL)', rows, notes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runObservationsBench();
  console.log(formatBench(result));
}
