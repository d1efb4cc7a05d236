/**
 * GIS export benchmark: legacy sync and the reimplementation side by side on one database,
 * the same export job (all parcels of a county, whole-county area of interest) in each format
 * at 20,000 and 200,000 parcels. Measures job wall time (created_at -> completed_at, as both
 * record it) and the peak RSS of the service's process group while the job runs.
 * Run alone: `node --import tsx bench/gis-export.ts` (BENCH_GIS_SIZES=20000,200000, BENCH_GIS_FORMATS=GeoJSON,...).
 */
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { formatBench, type BenchResult, type BenchRow } from './bench-report.js';
import { ensureParcels, samplePeakRss, startSyncPair, type SyncPair } from './sync-services.js';

const PREFIX = '/plugins/v1/gis-export';
// Counties whose configs list every format; sizes map to counties so both stay seeded between runs.
const COUNTY_FOR_SIZE: Record<number, string> = { 20000: 'test_county', 200000: 'benton_wa' };

export interface GisExportBenchOptions {
  sizes?: number[];
  formats?: string[];
  log?: (line: string) => void;
}

const seconds = (iso: string) => Date.parse(`${iso}Z`) / 1000;

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

/** Longer than the reimplementation's idle export worker lives (WORKER_IDLE_MS in reimpl/gis-export/runner.ts, 1.5 s). */
const workerRetiredMs = 2_000;

/** Runs the GIS export benchmark; starts and stops its own services. */
export async function runGisExportBench(options: GisExportBenchOptions = {}): Promise<BenchResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  const sizes = options.sizes ?? (process.env.BENCH_GIS_SIZES ?? '20000,200000').split(',').map(Number);
  const formats = options.formats ?? (process.env.BENCH_GIS_FORMATS ?? 'GeoJSON,Shapefile,KML,GeoPackage,CSV').split(',');
  const pair: SyncPair = await startSyncPair(log);
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  try {
    for (const size of sizes) {
      const countyId = COUNTY_FOR_SIZE[size];
      if (!countyId) throw new Error(`no bench county for ${size} parcels (use ${Object.keys(COUNTY_FOR_SIZE).join(', ')})`);
      await ensureParcels(pair.databaseUrl, countyId, size, log);
      const aoi = await countyAoi(pair.databaseUrl, countyId);
      const body = (format: string) => ({ county_id: countyId, format, username: 'bench', area_of_interest: aoi, layers: ['parcels'] });
      // Warm-up: the reimplementation forks its export worker on first use.
      await runJob(pair.legacy.url, pair.legacy.pid, { ...body('GeoJSON'), layers: ['roads'] });
      await runJob(pair.reimpl.url, pair.reimpl.pid, { ...body('GeoJSON'), layers: ['roads'] });
      for (const format of formats) {
        const legacy = await runJob(pair.legacy.url, pair.legacy.pid, body(format));
        // Each reimpl job finds the service idle, its export worker retired, as a job after a quiet
        // spell does: a worker left by the previous job (the warm-up, KML, GeoPackage) would
        // otherwise be charged to this job's process-group RSS.
        await new Promise((resolve) => setTimeout(resolve, workerRetiredMs));
        const reimpl = await runJob(pair.reimpl.url, pair.reimpl.pid, body(format));
        log(`${format} ${size}: legacy ${legacy.wallMs.toFixed(0)} ms ${legacy.peakRssMb.toFixed(0)} MiB, reimpl ${reimpl.wallMs.toFixed(0)} ms ${reimpl.peakRssMb.toFixed(0)} MiB`);
        if (legacy.records !== reimpl.records) notes.push(`${format} ${size}: record counts differ (legacy ${legacy.records}, reimpl ${reimpl.records})`);
        const label = `${format} ${size / 1000}k`;
        rows.push({ metric: `${label} wall ms`, baselineLabel: 'legacy', baseline: legacy.wallMs, candidateLabel: 'reimpl', candidate: reimpl.wallMs, higherIsBetter: false, target: 0.5 });
        rows.push({ metric: `${label} peak RSS MiB`, baselineLabel: 'legacy', baseline: legacy.peakRssMb, candidateLabel: 'reimpl', candidate: reimpl.peakRssMb, higherIsBetter: false, target: 1 });
      }
    }
    notes.push('peak RSS is the whole process group of each service during the job (reimpl: sync + its export worker); each reimpl job starts with the service idle (its export worker retired).');
  } finally {
    await pair.stop();
  }
  return { name: 'GIS export: legacy vs reimpl (same database, same job)', rows, notes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatBench(await runGisExportBench()));
}
