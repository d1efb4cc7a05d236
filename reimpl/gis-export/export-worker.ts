/**
 * One slot of the export runner's worker pool: a forked export process (export/worker-main.ts,
 * GDAL loaded) that runs the jobs the TypeScript writers cannot and shapes the features that
 * cross an area's edge. It is kept between jobs (legacy's thread pool keeps its threads), let go
 * after `idleLifetimeMs` without a job, and replaced after a job that left it above
 * `rssCeilingMb` or when it dies: the replacement is forked while the slot is idle, so the next
 * job finds a worker ready (decision 0039). A dying worker fails only the jobs it held.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CutoverError } from '../../src/errors.js';
import type { BoundaryShaping } from './export/boundary-shaping.js';
import type { ExportRequest, ExportResult } from './export/run-export.js';
import type { Shaped } from './export/text-export.js';

// A bundle (src/platform/reimpl-build.ts) defines the worker's bundle, a sibling run on bare
// node; from source the worker runs through tsx like its parent; a tree built file by file
// (cutover bundle) has worker-main.js beside, run on bare node too.
declare const __GIS_EXPORT_WORKER__: string | undefined;
const builtWorker = typeof __GIS_EXPORT_WORKER__ === 'string' ? __GIS_EXPORT_WORKER__ : undefined;
const fromSource = !builtWorker && import.meta.url.endsWith('.ts');
const workerScript = fileURLToPath(new URL(builtWorker ? `./${builtWorker}` : fromSource ? './export/worker-main.ts' : './export/worker-main.js', import.meta.url));
const workerExecArgv = fromSource ? ['--import', 'tsx'] : [];

/** How long a worker lives (config reimpl.exportWorkers). */
export interface WorkerLifetime {
  /** A worker without a job for this long exits (0: kept until stop()). */
  idleLifetimeMs: number;
  /** After a job, a worker whose RSS is above this many MiB is replaced (0: never). */
  rssCeilingMb: number;
}

export type Outcome = { ok: true; result: ExportResult | 'cancelled' } | { ok: false; error: string; errorType: string };

/** What the worker answers: an export's outcome, or a batch of shaped boundary features; each with its RSS then. */
type WorkerReply = (Outcome | { ok: true; geometries: (Shaped | null)[] }) & { rss?: number };
type WorkerMessage = ({ jobId: string } & WorkerReply) | { ready: true; rss: number };

export class ExportWorker {
  private child: ChildProcess | undefined;
  /** Jobs and shape batches sent and not yet answered, with the process each was sent to. */
  private readonly pending = new Map<string, { child: ChildProcess; settle: (reply: WorkerReply) => void }>();
  /** Processes that have loaded and said so: only those are replaced when they die (no fork loop). */
  private readonly loaded = new WeakSet<ChildProcess>();
  /** Processes let go on purpose (idle, over the ceiling, stop()): their exit is not a death. */
  private readonly retired = new WeakSet<ChildProcess>();
  private batches = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Jobs holding this slot; the runner gives a slot one at a time. */
  private jobs = 0;
  /** Whether the current job sent the worker anything (only then is its RSS a reason to replace it). */
  private used = false;
  /** The RSS the current process last reported, bytes. */
  private rss = 0;
  /** A loaded worker died while a job held the slot: its replacement is forked when the job ends. */
  private replaceWhenFree = false;

  constructor(
    private readonly lifetime: WorkerLifetime,
    private readonly log?: (line: string) => void,
  ) {}

  get busy(): boolean {
    return this.jobs > 0;
  }

  /** The pid of the worker process once it has loaded and can take a job at once; undefined while there is none. */
  get readyPid(): number | undefined {
    const child = this.child;
    return child && child.connected && this.loaded.has(child) ? child.pid : undefined;
  }

  /** Runs one job on this slot; when it ends the worker is kept, or replaced if it is above the RSS ceiling. */
  async job<T>(run: () => Promise<T>): Promise<T> {
    this.jobs++;
    this.used = false;
    clearTimeout(this.idleTimer);
    try {
      return await run();
    } finally {
      this.jobs--;
      this.jobEnded();
    }
  }

  private fork(): ChildProcess {
    const child = fork(workerScript, [], { execArgv: workerExecArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (message: WorkerMessage) => {
      if (this.child === child && typeof message.rss === 'number') this.rss = message.rss;
      if ('ready' in message) {
        this.loaded.add(child);
        return;
      }
      this.pending.get(message.jobId)?.settle(message);
      this.pending.delete(message.jobId);
    });
    // Only this process's jobs die with it: a retired worker may exit after its successor
    // has taken the next job.
    const failPending = (reason: string) => {
      const died = new CutoverError('CUTOVER_ERR_EXPORT_WORKER_DIED', reason);
      for (const [jobId, entry] of this.pending) {
        if (entry.child !== child) continue;
        entry.settle({ ok: false, error: died.message, errorType: died.code });
        this.pending.delete(jobId);
      }
    };
    // A fork that cannot start, or a send to a process that just died, is an 'error' on the
    // child: unheard, the emitter would throw it and end the service with every job in it.
    child.on('error', (error) => {
      this.log?.(`GIS export worker ${child.pid ?? '(not started)'}: ${error.message}`);
      failPending(`export worker failed: ${error.message}`);
    });
    child.on('exit', (code, signal) => {
      failPending(`export worker exited (code ${code}, signal ${signal})`);
      if (this.child !== child) return;
      this.child = undefined;
      if (this.retired.has(child) || this.stopped || !this.loaded.has(child)) return;
      this.log?.(`GIS export worker ${child.pid} died (code ${code}, signal ${signal}); forking its replacement`);
      if (this.busy) this.replaceWhenFree = true;
      else this.replace();
    });
    return child;
  }

  private ensure(): ChildProcess {
    if (this.child && this.child.connected) return this.child;
    this.child = this.fork();
    this.rss = 0;
    return this.child;
  }

  /** A new worker in the slot while it is idle, so the next job does not wait for the fork and GDAL's load. */
  private replace(): void {
    this.ensure();
    this.idleAfterJob();
  }

  private retire(child: ChildProcess): void {
    this.retired.add(child);
    if (child.connected) child.disconnect(); // worker-main exits on disconnect
    if (this.child === child) this.child = undefined;
  }

  private jobEnded(): void {
    if (this.busy || this.stopped) return;
    const child = this.child;
    const ceiling = this.lifetime.rssCeilingMb * 1024 * 1024;
    if (child && this.used && ceiling > 0 && this.rss > ceiling) {
      this.log?.(`GIS export worker ${child.pid} at ${(this.rss / 1048576).toFixed(0)} MiB after a job (ceiling ${this.lifetime.rssCeilingMb} MiB); replacing it`);
      this.retire(child);
      this.replace();
      return;
    }
    // A worker that died during the job (its jobs already failed) is replaced now that the slot is free.
    if (this.replaceWhenFree && !child) this.replace();
    else this.idleAfterJob();
    this.replaceWhenFree = false;
  }

  private idleAfterJob(): void {
    clearTimeout(this.idleTimer);
    if (this.lifetime.idleLifetimeMs <= 0 || !this.child) return;
    this.idleTimer = setTimeout(() => {
      if (!this.busy && this.pending.size === 0 && this.child) this.retire(this.child);
    }, this.lifetime.idleLifetimeMs);
    this.idleTimer.unref();
  }

  /** Sends one message to the worker (forked if need be) and settles with its answer to `id`. */
  private ask<T>(id: string, message: object, settle: (reply: WorkerReply, resolve: (value: T) => void, reject: (error: Error) => void) => void): Promise<T> {
    clearTimeout(this.idleTimer);
    this.used = true;
    return new Promise<T>((resolve, reject) => {
      const child = this.ensure();
      this.pending.set(id, { child, settle: (reply) => settle(reply, resolve, reject) });
      child.send(message);
    });
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

  cancel(jobId: string): void {
    if (this.pending.has(jobId)) this.child?.send({ type: 'cancel', jobId });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.idleTimer);
    const child = this.child;
    if (!child) return;
    this.retired.add(child);
    child.kill('SIGTERM');
  }
}
