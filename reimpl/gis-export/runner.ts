/**
 * Runs GIS export jobs after /run has answered. Reproduces legacy
 * terrafusion_sync/gis/worker.py: PENDING -> RUNNING when a worker picks the job up (a job
 * cancelled first is skipped), FAIL_FORMAT_SIM fails with `Simulated failure for testing
 * purposes`, success records `/plugins/v1/gis-export/download/{id}`, real size and count, and
 * the gis_export_* metrics are emitted. Exports run in forked worker processes
 * (GIS_EXPORT_WORKERS, default 2, as legacy's thread pool), so the event loop stays free.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GisExportMetrics } from './metrics-text.js';
import { CutoverError } from '../../src/errors.js';
import { plainNumber, PyDecimal, PyFloat, type PyValue } from '../shared/py-json.js';
import type { GisJobStore } from './job-store.js';
import type { ExportRequest, ExportResult } from './export/run-export.js';
import { runShapefileExport } from './export/shapefile-export.js';
import { runKmlExport } from './export/kml-export.js';
import { runGeoPackageExport } from './export/geopackage-export.js';
import { FastPathUnavailable, runTextExport, textFastPathApplies, type Shaped } from './export/text-export.js';
import type { BoundaryShaping } from './export/boundary-shaping.js';

const SIMULATED_FAILURE_FORMAT = 'FAIL_FORMAT_SIM';
// A bundle (src/platform/reimpl-build.ts) defines the worker's bundle, a sibling run on bare
// node; from source the worker runs through tsx like its parent; a tree built file by file
// (cutover bundle) has worker-main.js beside, run on bare node too.
declare const __GIS_EXPORT_WORKER__: string | undefined;
const builtWorker = typeof __GIS_EXPORT_WORKER__ === 'string' ? __GIS_EXPORT_WORKER__ : undefined;
const fromSource = !builtWorker && import.meta.url.endsWith('.ts');
const workerScript = fileURLToPath(new URL(builtWorker ? `./${builtWorker}` : fromSource ? './export/worker-main.ts' : './export/worker-main.js', import.meta.url));
const workerExecArgv = fromSource ? ['--import', 'tsx'] : [];
const WORKER_IDLE_MS = 1500;

/** The TypeScript writers of the formats that are not GeoJSON or CSV (runTextExport). */
const IN_PROCESS_WRITERS: Record<string, typeof runTextExport> = { Shapefile: runShapefileExport, KML: runKmlExport, GeoPackage: runGeoPackageExport };

export interface RunnerOptions {
  store: GisJobStore;
  databaseUrl: string;
  schema?: string;
  exportDir: string;
  workers: number;
  metrics: GisExportMetrics;
  /** Declared difference `gis-export-cancel-overwritten`: a cancel of a RUNNING job ends CANCELLED. */
  honourCancel: boolean;
  log?: (line: string) => void;
}

type Outcome = { ok: true; result: ExportResult | 'cancelled' } | { ok: false; error: string; errorType: string };

/** Plain JSON values for the worker (PyFloat/PyDecimal unwrapped). */
function plain(value: PyValue | undefined): unknown {
  if (value instanceof PyFloat || value instanceof PyDecimal) return plainNumber(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** What the worker answers: an export's outcome, or a batch of shaped boundary features. */
type WorkerReply = Outcome | { ok: true; geometries: (Shaped | null)[] };

class ExportWorker {
  private child: ChildProcess | undefined;
  /** Jobs and shape batches sent and not yet answered, with the process each was sent to. */
  private readonly pending = new Map<string, { child: ChildProcess; settle: (reply: WorkerReply) => void }>();
  private batches = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  busy = 0;

  private ensure(): ChildProcess {
    if (this.child && this.child.connected) return this.child;
    const child = fork(workerScript, [], { execArgv: workerExecArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (message: { jobId: string } & WorkerReply) => {
      this.pending.get(message.jobId)?.settle(message);
      this.pending.delete(message.jobId);
    });
    child.on('exit', (code, signal) => {
      // Only this process's jobs die with it: a worker retired when idle exits after its
      // successor may already have taken the next job.
      const died = new CutoverError('CUTOVER_ERR_EXPORT_WORKER_DIED', `export worker exited (code ${code}, signal ${signal})`);
      for (const [jobId, entry] of this.pending) {
        if (entry.child !== child) continue;
        entry.settle({ ok: false, error: died.message, errorType: died.code });
        this.pending.delete(jobId);
      }
      if (this.child === child) this.child = undefined;
    });
    this.child = child;
    return child;
  }

  /** Sends one message to the worker (forked if need be) and settles with its answer to `id`; the idle timer waits meanwhile. */
  private ask<T>(id: string, message: object, settle: (reply: WorkerReply, resolve: (value: T) => void, reject: (error: Error) => void) => void): Promise<T> {
    clearTimeout(this.idleTimer);
    return new Promise<T>((resolve, reject) => {
      const child = this.ensure();
      this.pending.set(id, { child, settle: (reply) => settle(reply, resolve, reject) });
      child.send(message);
    }).finally(() => this.retireWhenIdle());
  }

  run(request: ExportRequest): Promise<Outcome> {
    return this.ask<Outcome>(request.jobId, { type: 'export', request }, (reply, resolve) =>
      resolve('geometries' in reply ? { ok: false, error: 'the export worker answered an export with shapes', errorType: 'Error' } : reply),
    );
  }

  /** The boundary features of an export this process writes, shaped by GDAL in the worker (boundary-shaping.ts). */
  readonly shaping: BoundaryShaping = (areaOfInterest, tolerance) => ({
    shapeMany: (features) => {
      const jobId = `shape-${++this.batches}`;
      return this.ask<(Shaped | null)[]>(jobId, { type: 'shape', jobId, areaOfInterest, tolerance, features }, (reply, resolve, reject) => {
        if ('geometries' in reply) resolve(reply.geometries);
        else reject(new Error(reply.ok ? 'the export worker answered a shape batch with an export result' : reply.error));
      });
    },
  });

  // A worker holds GDAL (~150 MiB); one left idle is let go, and the next job forks another
  // (a plain-node fork with GDAL costs ~0.2 s against exports of seconds).
  private retireWhenIdle(): void {
    if (this.pending.size > 0) return;
    this.idleTimer = setTimeout(() => {
      if (this.pending.size === 0 && this.child?.connected) this.child.disconnect();
    }, WORKER_IDLE_MS);
    this.idleTimer.unref();
  }

  cancel(jobId: string): void {
    if (this.pending.has(jobId)) this.child?.send({ type: 'cancel', jobId });
  }

  stop(): void {
    clearTimeout(this.idleTimer);
    this.child?.kill('SIGTERM');
  }
}

export class ExportRunner {
  private readonly queue: string[] = [];
  private readonly workers: ExportWorker[];
  private readonly running = new Map<string, ExportWorker>();
  private readonly metrics: GisExportMetrics;
  private idle: Array<() => void> = [];
  private readonly cancelledInProcess = new Set<string>();

  constructor(private readonly options: RunnerOptions) {
    this.workers = Array.from({ length: Math.max(1, options.workers) }, () => new ExportWorker());
    this.metrics = options.metrics;
  }

  submitted(countyId: string, format: string): void {
    this.metrics.submitted.inc({ county_id: countyId, export_format: format });
  }

  /** Queues a job; it starts when a worker is free. */
  submit(jobId: string): void {
    this.queue.push(jobId);
    this.pump();
  }

  cancelRequested(jobId: string): void {
    if (!this.options.honourCancel) return;
    this.running.get(jobId)?.cancel(jobId);
    if (this.running.has(jobId)) this.cancelledInProcess.add(jobId);
  }

  /** Resolves when no job is queued or running (tests, shutdown). */
  drained(): Promise<void> {
    if (this.queue.length === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  stop(): void {
    for (const worker of this.workers) worker.stop();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const worker = this.workers.find((w) => w.busy === 0);
      if (!worker) return;
      const jobId = this.queue.shift()!;
      worker.busy++;
      this.running.set(jobId, worker);
      void this.process(jobId, worker)
        .catch((error) => this.options.log?.(`GIS export job ${jobId} crashed outside the export: ${String(error)}`))
        .finally(() => {
          worker.busy--;
          this.running.delete(jobId);
          this.pump();
          if (this.queue.length === 0 && this.running.size === 0) for (const resolve of this.idle.splice(0)) resolve();
        });
    }
  }

  /**
   * Every format of the common case, written in this process by the TypeScript writers
   * (the worker is asked only to shape features that cross the area's edge); undefined when the
   * job needs the worker whole.
   */
  private async inProcess(request: ExportRequest, worker: ExportWorker): Promise<Outcome | undefined> {
    if (!textFastPathApplies(request.format, request.areaOfInterest, request.parameters)) return undefined;
    try {
      const run = IN_PROCESS_WRITERS[request.format] ?? runTextExport;
      return { ok: true, result: await run(request, () => this.cancelledInProcess.has(request.jobId), worker.shaping) };
    } catch (error) {
      if (error instanceof FastPathUnavailable) return undefined;
      return { ok: false, error: error instanceof Error ? error.message : String(error), errorType: error instanceof Error ? error.constructor.name : 'Error' };
    }
  }

  private async process(jobId: string, worker: ExportWorker): Promise<void> {
    const { store } = this.options;
    if (!(await store.markRunning(jobId))) return; // cancelled while PENDING
    const job = await store.get(jobId);
    if (!job) return;
    const labels = { county_id: String(job.county_id), export_format: String(job.export_format) };
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    let outcome: Outcome;
    if (job.export_format === SIMULATED_FAILURE_FORMAT) {
      outcome = { ok: false, error: 'Simulated failure for testing purposes', errorType: 'Exception' };
    } else {
      const request: ExportRequest = {
        jobId, countyId: job.county_id, format: job.export_format, areaOfInterest: plain(job.area_of_interest_json),
        layers: (plain(job.layers_json) as string[] | null) ?? [], parameters: (plain(job.parameters_json) as Record<string, unknown> | null) ?? {},
        databaseUrl: this.options.databaseUrl, schema: this.options.schema, exportDir: this.options.exportDir,
      };
      outcome = (await this.inProcess(request, worker)) ?? (await worker.run(request));
      this.cancelledInProcess.delete(jobId);
    }
    if (!outcome.ok) {
      await store.markFailed(jobId, outcome.error);
      this.metrics.failed.inc({ ...labels, error_type: outcome.errorType });
      this.metrics.duration.observe(labels, seconds());
      return;
    }
    if (outcome.result === 'cancelled') {
      await store.markCancelled(jobId);
      return;
    }
    const { fileSizeKb, recordCount } = outcome.result;
    const completed = await store.markCompleted(jobId, `/plugins/v1/gis-export/download/${jobId}`, fileSizeKb, recordCount, this.options.honourCancel);
    if (!completed) {
      await store.markCancelled(jobId);
      return;
    }
    this.metrics.completed.inc(labels);
    this.metrics.duration.observe(labels, seconds());
    this.metrics.fileSize.observe(labels, fileSizeKb);
    this.metrics.recordCount.observe(labels, recordCount);
  }
}
