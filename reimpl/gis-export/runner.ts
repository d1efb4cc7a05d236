/**
 * Runs GIS export jobs after /run has answered. Reproduces legacy
 * terrafusion_sync/gis/worker.py: PENDING -> RUNNING when a worker picks the job up (a job
 * cancelled first is skipped), FAIL_FORMAT_SIM fails with `Simulated failure for testing
 * purposes`, success records `/plugins/v1/gis-export/download/{id}`, real size and count, and
 * the gis_export_* metrics are emitted. Jobs run GIS_EXPORT_WORKERS at a time (default 2, as
 * legacy's thread pool), each on a slot of the worker pool (export-worker.ts): the TypeScript
 * writers run here, and what needs GDAL runs in the slot's forked process, kept between jobs.
 */
import type { GisExportMetrics } from './metrics-text.js';
import { ExportWorker, type Outcome, type WorkerLifetime } from './export-worker.js';
import { plainNumber, PyDecimal, PyFloat, type PyValue } from '../shared/py-json.js';
import type { GisJobStore } from './job-store.js';
import type { ExportRequest, ExportResult } from './export/run-export.js';
import { runShapefileExport } from './export/shapefile-export.js';
import { runKmlExport } from './export/kml-export.js';
import { runGeoPackageExport } from './export/geopackage-export.js';
import { FastPathUnavailable, runTextExport, textFastPathApplies } from './export/text-export.js';

const SIMULATED_FAILURE_FORMAT = 'FAIL_FORMAT_SIM';

/** The TypeScript writers of the formats that are not GeoJSON or CSV (runTextExport). */
const IN_PROCESS_WRITERS: Record<string, typeof runTextExport> = { Shapefile: runShapefileExport, KML: runKmlExport, GeoPackage: runGeoPackageExport };

export interface RunnerOptions {
  store: GisJobStore;
  databaseUrl: string;
  schema?: string;
  exportDir: string;
  workers: number;
  /** How long a worker is kept and when it is replaced (config reimpl.exportWorkers). */
  workerLifetime: WorkerLifetime;
  metrics: GisExportMetrics;
  /** Declared difference `gis-export-cancel-overwritten`: a cancel of a RUNNING job ends CANCELLED. */
  honourCancel: boolean;
  log?: (line: string) => void;
}

/** Plain JSON values for the worker (PyFloat/PyDecimal unwrapped). */
function plain(value: PyValue | undefined): unknown {
  if (value instanceof PyFloat || value instanceof PyDecimal) return plainNumber(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

export class ExportRunner {
  private readonly queue: string[] = [];
  private readonly workers: ExportWorker[];
  private readonly running = new Map<string, ExportWorker>();
  private readonly metrics: GisExportMetrics;
  private idle: Array<() => void> = [];
  private readonly cancelledInProcess = new Set<string>();

  constructor(private readonly options: RunnerOptions) {
    this.workers = Array.from({ length: Math.max(1, options.workers) }, () => new ExportWorker(options.workerLifetime, options.log));
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
      const worker = this.workers.find((w) => !w.busy);
      if (!worker) return;
      const jobId = this.queue.shift()!;
      this.running.set(jobId, worker);
      void worker
        .job(() => this.process(jobId, worker))
        .catch((error) => this.options.log?.(`GIS export job ${jobId} crashed outside the export: ${String(error)}`))
        .finally(() => {
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
