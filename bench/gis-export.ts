/**
 * GIS export benchmark: legacy sync and the reimplementation side by side on one database,
 * the same export job (all parcels of a county, whole-county area of interest) in each format
 * at 20,000 and 200,000 parcels, each job run BENCH_GIS_RUNS times (default 3) alternating
 * legacy and reimpl, printed as medians with their spread. Measures job wall time
 * (created_at -> completed_at, as both record it) and the peak RSS of the service's process
 * group while the job runs. Then the scaling of the reimplementation: GeoJSON and CSV at 20k and
 * 200k (the side-by-side runs) and 1,000,000 parcels (reimpl alone, a database of its own,
 * seeded once), as time per 1,000 features and peak RSS, each size against 20k (linear time and
 * flat memory read as ~1.0x).
 * Run alone: `node --import tsx bench/gis-export.ts`, or `cutover bench --only gis-export`
 * (BENCH_GIS_SIZES=20000,200000, BENCH_GIS_FORMATS=GeoJSON,..., BENCH_GIS_RUNS=3,
 * BENCH_GIS_SCALE_SIZES=1000000 — empty to skip the scaling part, BENCH_GIS_SCALE_FORMATS=GeoJSON,CSV).
 */
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { formatBench, loadAverage, median, type BenchResult, type BenchRow } from './bench-report.js';
import { ensureParcels, samplePeakRss, startSyncPair, type SyncPair } from './sync-services.js';

const PREFIX = '/plugins/v1/gis-export';
// Counties whose configs list every format; sizes map to counties so both stay seeded between runs.
const COUNTY_FOR_SIZE: Record<number, string> = { 20000: 'test_county', 200000: 'benton_wa' };
// Sizes past 200k live in a database of their own (seeded once, kept), so the side-by-side one keeps its 200k.
const SCALE_DATABASE = 'cutover_bench_gis_1m';
const SCALE_COUNTY = 'benton_wa';

export interface GisExportBenchOptions {
  sizes?: number[];
  formats?: string[];
  runs?: number;
  scaleSizes?: number[];
  scaleFormats?: string[];
  log?: (line: string) => void;
}

const seconds = (iso: string) => Date.parse(`${iso}Z`) / 1000;
const list = (text: string) => text.split(',').map((item) => item.trim()).filter(Boolean);

async function countyAoi(databaseUrl: string, countyId: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query(
    'SELECT min(min_x) AS x0, min(min_y) AS y0, max(max_x) AS x1, max(max_y) AS y1 FROM property_operational WHERE county_id = $1',
    [countyId],
  );
  await client.end();
  const { x0, y0, x1, y1 } = rows[0] as { x0: number; y0: number; x1: number; y1: number };
  return { type: 'Polygon', coordinates: [[[x0 - 1e-6, y0 - 1e-6], [x1 + 1e-6, y0 - 1e-6], [x1 + 1e-6, y1 + 1e-6], [x0 - 1e-6, y1 + 1e-6], [x0 - 1e-6, y0 - 1e-6]]] };
}

interface JobMeasure {
  wallMs: number;
  peakRssMb: number;
  records: number;
}

async function runJob(baseUrl: string, pid: number, body: unknown): Promise<JobMeasure> {
  const rss = samplePeakRss(pid);
  const run = await fetch(`${baseUrl}${PREFIX}/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const { job_id: id } = (await run.json()) as { job_id: string };
  for (;;) {
    const status = (await (await fetch(`${baseUrl}${PREFIX}/status/${id}`)).json()) as { status: string; message: string; created_at: string; completed_at: string };
    if (status.status === 'FAILED') {
      rss.stop();
      throw new Error(`export ${id} failed: ${status.message}`);
    }
    if (status.status === 'COMPLETED') {
      const peakRssMb = rss.stop();
      const results = (await (await fetch(`${baseUrl}${PREFIX}/results/${id}`)).json()) as { result: { record_count: number } };
      return { wallMs: (seconds(status.completed_at) - seconds(status.created_at)) * 1000, peakRssMb, records: results.result.record_count };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The quiet spell before each reimpl job: past the configured lifetime of an idle export worker
 * (reimpl.exportWorkers.idleLifetimeMs, which the services of startSyncPair get too), so a job
 * finds its worker retired, as a job after a quiet spell does; with workers kept until the
 * service stops (0), 2 s, and the job finds the worker an earlier job forked (the warm-up's
 * roads job forks one), counted in the group's RSS.
 */
const { idleLifetimeMs } = loadConfig().reimpl.exportWorkers;
const quietMs = idleLifetimeMs > 0 ? idleLifetimeMs + 500 : 2_000;
const idle = () => new Promise((resolve) => setTimeout(resolve, quietMs));
const whatTheJobFinds = idleLifetimeMs > 0
  ? `each reimpl job starts after ${quietMs} ms idle, past the export worker's idle lifetime (${idleLifetimeMs} ms): its worker retired; the service's writers and its .dbf deflation thread are warm from the runs before (the first run of a format is its first in the session)`
  : `each reimpl job starts after ${quietMs} ms idle with the export worker an earlier job forked still alive (idle lifetime 0: kept), counted in its RSS`;

/** A row of medians, carrying every run for the spread. */
function medianRow(metric: string, baselineLabel: string, baseline: number[], candidateLabel: string, candidate: number[], target?: number): BenchRow {
  return { metric, baselineLabel, baseline: median(baseline), candidateLabel, candidate: median(candidate), higherIsBetter: false, target, runs: { baseline, candidate } };
}

/** Warm-up: the first job of a service pays its lazy imports. */
async function warmUp(pair: SyncPair, body: (format: string) => Record<string, unknown>, sides: ('legacy' | 'reimpl')[]): Promise<void> {
  for (const side of sides) await runJob(pair[side].url, pair[side].pid, { ...body('GeoJSON'), layers: ['roads'] });
}

/** Per format and size, the reimplementation's runs: time per 1,000 features and peak RSS. */
type ScaleMeasures = Map<string, { size: number; perThousandMs: number[]; peakRssMb: number[] }[]>;

function record(scale: ScaleMeasures, format: string, size: number, jobs: JobMeasure[]): void {
  const entries = scale.get(format) ?? [];
  entries.push({ size, perThousandMs: jobs.map((job) => job.wallMs / (job.records / 1000)), peakRssMb: jobs.map((job) => job.peakRssMb) });
  scale.set(format, entries);
}

/** Side by side, legacy and reimpl, every format at every size. */
async function sideBySide(sizes: number[], formats: string[], runs: number, log: (line: string) => void, rows: BenchRow[], notes: string[], scale: ScaleMeasures): Promise<void> {
  const pair = await startSyncPair(log);
  try {
    for (const size of sizes) {
      const countyId = COUNTY_FOR_SIZE[size];
      if (!countyId) throw new Error(`no bench county for ${size} parcels (use ${Object.keys(COUNTY_FOR_SIZE).join(', ')})`);
      await ensureParcels(pair.databaseUrl, countyId, size, log);
      const aoi = await countyAoi(pair.databaseUrl, countyId);
      const body = (format: string) => ({ county_id: countyId, format, username: 'bench', area_of_interest: aoi, layers: ['parcels'] });
      await warmUp(pair, body, ['legacy', 'reimpl']);
      notes.push(`${size / 1000}k: load average (1/5/15 min) ${loadAverage()} at the start`);
      for (const format of formats) {
        const legacy: JobMeasure[] = [];
        const reimpl: JobMeasure[] = [];
        for (let run = 0; run < runs; run++) {
          legacy.push(await runJob(pair.legacy.url, pair.legacy.pid, body(format)));
          // Each reimpl job finds the service idle after a quiet spell (quietMs: what it finds is in the notes).
          await idle();
          reimpl.push(await runJob(pair.reimpl.url, pair.reimpl.pid, body(format)));
          log(`${format} ${size} run ${run + 1}: legacy ${legacy[run]!.wallMs.toFixed(0)} ms ${legacy[run]!.peakRssMb.toFixed(0)} MiB, reimpl ${reimpl[run]!.wallMs.toFixed(0)} ms ${reimpl[run]!.peakRssMb.toFixed(0)} MiB (load ${loadAverage()})`);
        }
        if (legacy.some((m, i) => m.records !== reimpl[i]!.records)) notes.push(`${format} ${size}: record counts differ (legacy ${legacy[0]!.records}, reimpl ${reimpl[0]!.records})`);
        record(scale, format, size, reimpl);
        const label = `${format} ${size / 1000}k`;
        rows.push(medianRow(`${label} wall ms`, 'legacy', legacy.map((m) => m.wallMs), 'reimpl', reimpl.map((m) => m.wallMs), 0.5));
        rows.push(medianRow(`${label} peak RSS MiB`, 'legacy', legacy.map((m) => m.peakRssMb), 'reimpl', reimpl.map((m) => m.peakRssMb), 1));
      }
      notes.push(`${size / 1000}k: load average ${loadAverage()} at the end`);
    }
  } finally {
    await pair.stop();
  }
}

/** The reimplementation alone at sizes past 200k, in the scale database. */
async function scaleRuns(sizes: number[], formats: string[], runs: number, log: (line: string) => void, scale: ScaleMeasures): Promise<void> {
  const pair = await startSyncPair(log, SCALE_DATABASE);
  try {
    for (const size of sizes) {
      await ensureParcels(pair.databaseUrl, SCALE_COUNTY, size, log);
      const aoi = await countyAoi(pair.databaseUrl, SCALE_COUNTY);
      const body = (format: string) => ({ county_id: SCALE_COUNTY, format, username: 'bench', area_of_interest: aoi, layers: ['parcels'] });
      await warmUp(pair, body, ['reimpl']);
      for (const format of formats) {
        const jobs: JobMeasure[] = [];
        for (let run = 0; run < runs; run++) {
          await idle();
          jobs.push(await runJob(pair.reimpl.url, pair.reimpl.pid, body(format)));
          log(`scaling ${format} ${size} run ${run + 1}: ${jobs[run]!.wallMs.toFixed(0)} ms for ${jobs[run]!.records} features, ${jobs[run]!.peakRssMb.toFixed(0)} MiB (load ${loadAverage()})`);
        }
        record(scale, format, size, jobs);
      }
    }
  } finally {
    await pair.stop();
  }
}

/** Rows of each larger size against the smallest: time per 1,000 features, peak RSS. */
function scaleRows(scale: ScaleMeasures, formats: string[], rows: BenchRow[]): void {
  const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
  for (const format of formats) {
    const [base, ...larger] = [...(scale.get(format) ?? [])].sort((a, b) => a.size - b.size);
    if (!base) continue;
    for (const at of larger) {
      rows.push(medianRow(`reimpl ${format} ms per 1k features, ${label(at.size)} vs ${label(base.size)}`, label(base.size), base.perThousandMs, label(at.size), at.perThousandMs));
      rows.push(medianRow(`reimpl ${format} peak RSS MiB, ${label(at.size)} vs ${label(base.size)}`, label(base.size), base.peakRssMb, label(at.size), at.peakRssMb));
    }
  }
}

/** Runs the GIS export benchmark; starts and stops its own services. */
export async function runGisExportBench(options: GisExportBenchOptions = {}): Promise<BenchResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  const sizes = options.sizes ?? list(process.env.BENCH_GIS_SIZES ?? '20000,200000').map(Number);
  const formats = options.formats ?? list(process.env.BENCH_GIS_FORMATS ?? 'GeoJSON,Shapefile,KML,GeoPackage,CSV');
  const runs = options.runs ?? Number(process.env.BENCH_GIS_RUNS ?? 3);
  const scaleSizes = options.scaleSizes ?? list(process.env.BENCH_GIS_SCALE_SIZES ?? '1000000').map(Number);
  const scaleFormats = options.scaleFormats ?? list(process.env.BENCH_GIS_SCALE_FORMATS ?? 'GeoJSON,CSV');
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const scale: ScaleMeasures = new Map();
  if (sizes.length > 0 && formats.length > 0) await sideBySide(sizes, formats, runs, log, rows, notes, scale);
  if (scaleSizes.length > 0 && scaleFormats.length > 0) {
    await scaleRuns(scaleSizes, scaleFormats, runs, log, scale);
    notes.push(`scaling: ${scaleSizes.join(', ')} parcels by the reimplementation alone (${SCALE_DATABASE}, ${SCALE_COUNTY}); smaller sizes from the side-by-side runs; linear time and flat memory read as ratios near 1.0x`);
  }
  scaleRows(scale, scaleFormats, rows);
  notes.push(`medians of ${runs} runs, (min–max) beside each; wall-time ratios on a shared machine swing with its load (load averages above)`);
  notes.push('peak RSS is the whole process group of each service during the job (reimpl: sync, its deflation thread and its export worker while one is alive)');
  notes.push(`both sides get one untimed warm-up job per size (GeoJSON of the roads) before the timed runs, and then alternate, legacy first; ${whatTheJobFinds}`);
  return { name: 'GIS export: legacy vs reimpl (same database, same job)', rows, notes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatBench(await runGisExportBench()));
}
