/**
 * Where shadowed exchanges are compared: a small pool of comparison workers (compare-worker.ts),
 * child processes of the proxy, so no comparison — a 4 MiB JSON diff, a 64 MiB download opened
 * with GDAL — runs on the event loop that serves. Processes, not worker threads: gdal-async
 * loads in one thread of a process only, ever (a second thread, or a restarted one, gets
 * "Module did not self-register"), and a native crash in a thread would end the proxy
 * (docs/decisions/0020-shadow-work-off-the-serving-path.md).
 *
 * Each worker takes a few jobs at a time (`capacity`); the caller keeps the rest queued (bounded
 * in bytes, observation-recorder.ts). A worker that dies is replaced on the next job, its jobs
 * failed with CUTOVER_ERR_COMPARE_WORKER_DIED and counted; a job past its timeout has its worker
 * killed (CUTOVER_ERR_COMPARISON_TIMEOUT); a comparison that throws fails with
 * CUTOVER_ERR_COMPARISON_FAILED. Nothing here can throw into the proxy.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';
import type { Route } from '../../flags/route-catalogue.js';
import { CutoverError, type ErrorCode } from '../../src/errors.js';
import type { SideResult } from '../serving/capture.js';
import { compareAnswers, compareAnswersAsync, type CompareExtras, type Comparison } from './compare.js';
import { settleEventualState } from '../stateful/eventual-state.js';

/** One exchange to judge: both answers, the route (rules, job states), serving → shadow id pairs, what else the engine is told. */
export interface CompareJob {
  serving: SideResult;
  shadow: SideResult;
  route: Route;
  correlations: ReadonlyMap<string, string>;
  extras: CompareExtras;
}

/** Judges a job on the engine's async path (exported files opened with GDAL), job races settled: what a worker runs. */
export async function judgeJob(job: CompareJob): Promise<Comparison> {
  const compared = await compareAnswersAsync(job.serving, job.shadow, job.route.compare, undefined, job.correlations, job.extras);
  return settleEventualState(job.route, job.serving, job.shadow, compared);
}

/** judgeJob without I/O, for small exchanges compared on the proxy's loop (never a route that compares files). */
export function judgeJobInline(job: CompareJob): Comparison {
  const compared = compareAnswers(job.serving, job.shadow, job.route.compare, undefined, job.correlations, job.extras);
  return settleEventualState(job.route, job.serving, job.shadow, compared);
}

export interface WorkerRequest {
  id: number;
  job: CompareJob;
}

export type WorkerReply = { id: number; ok: true; comparison: Comparison } | { id: number; ok: false; message: string };

export interface ComparePoolOptions {
  /** Worker processes. */
  workers: number;
  /** Longest a job may take in a worker; then the worker is killed and replaced. */
  timeoutMs: number;
  /** Added to the proxy's nice value for each worker (capped at 19), so serving has the CPU first; 0 = the proxy's priority. */
  niceness?: number;
  /** A worker was replaced (it died, or was killed at a job's timeout). */
  onRestart?: (reason: 'died' | 'timeout') => void;
}

/** Jobs sent to one worker at a time: the next is ready when one ends, and a death loses few. */
const jobsPerWorker = 2;
/** A worker that dies this soon after its start is not forked again at once (a broken install would fork without end). */
const quickDeathMs = 1_000;

const workerScript = new URL(import.meta.url.endsWith('.ts') ? './compare-worker.ts' : './compare-worker.js', import.meta.url);
// From source (tests, `cutover up` through tsx) the worker runs through tsx like its parent.
const workerExecArgv = import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : [];

interface Pending {
  resolve: (comparison: Comparison) => void;
  reject: (error: CutoverError) => void;
  timer: NodeJS.Timeout;
}

class Slot {
  child: ChildProcess | undefined;
  startedAt = 0;
  /** Set while a quick death holds the next fork back; jobs sent meanwhile wait in `deferred`. */
  notBefore = 0;
  readonly deferred: WorkerRequest[] = [];
  deferTimer: NodeJS.Timeout | undefined;
  readonly jobs = new Map<number, Pending>();
  /** Why the worker is being killed, when the pool kills it. */
  killedFor: 'timeout' | undefined;
}

export class ComparePool {
  private readonly slots: Slot[];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ComparePoolOptions) {
    this.slots = Array.from({ length: options.workers }, () => new Slot());
  }

  /** Jobs the pool takes at once; the caller queues the rest. */
  get capacity(): number {
    return this.slots.length * jobsPerWorker;
  }

  get inFlight(): number {
    return this.slots.reduce((sum, slot) => sum + slot.jobs.size, 0);
  }

  /** Judges one exchange in a worker; rejects with a CutoverError (failed, timed out, worker died, pool closed). */
  compare(job: CompareJob): Promise<Comparison> {
    return new Promise<Comparison>((resolve, reject) => {
      if (this.closed) {
        reject(new CutoverError('CUTOVER_ERR_COMPARE_WORKER_DIED', 'the comparison pool is closed'));
        return;
      }
      const slot = this.slots.reduce((best, candidate) => (candidate.jobs.size < best.jobs.size ? candidate : best));
      const id = this.nextId++;
      const timer = setTimeout(() => this.timeOut(slot), this.options.timeoutMs);
      timer.unref();
      slot.jobs.set(id, { resolve, reject, timer });
      this.send(slot, { id, job });
    });
  }

  private send(slot: Slot, request: WorkerRequest): void {
    const wait = slot.notBefore - Date.now();
    if (!slot.child && wait > 0) {
      // The last worker died right after its start: the next is forked a moment later, and the job waits for it.
      slot.deferred.push(request);
      slot.deferTimer ??= setTimeout(() => {
        slot.deferTimer = undefined;
        if (this.closed) return;
        for (const deferred of slot.deferred.splice(0)) this.send(slot, deferred);
      }, wait);
      return;
    }
    const unsent = (error: Error) => this.settle(slot, request.id, new CutoverError('CUTOVER_ERR_COMPARE_WORKER_DIED', `the comparison worker could not be sent a job: ${error.message}`));
    try {
      const child = this.childOf(slot);
      child.channel?.ref();
      child.send(request, (error) => error && unsent(error));
    } catch (error) {
      // A fork that fails, or a job that cannot be serialised: that job fails, the pool goes on.
      unsent(error as Error);
    }
  }

  private childOf(slot: Slot): ChildProcess {
    if (slot.child) return slot.child;
    // Its own process group: a terminal's Ctrl-C signals the proxy's group, and the proxy still compares what it has queued while it closes.
    const child = fork(workerScript, [], { execArgv: workerExecArgv, serialization: 'advanced', detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    slot.child = child;
    slot.startedAt = Date.now();
    this.lowerPriority(child);
    // An idle worker never keeps the proxy (or a test run) alive; one with jobs does, until they end.
    child.unref();
    child.channel?.unref();
    child.on('message', (reply: WorkerReply) => {
      if (reply.ok) this.settle(slot, reply.id, undefined, reply.comparison);
      else this.settle(slot, reply.id, new CutoverError('CUTOVER_ERR_COMPARISON_FAILED', `the comparison threw in its worker: ${reply.message}`));
    });
    child.on('error', () => {
      // 'exit' follows (or the send callback reports it): the jobs are failed there.
    });
    child.once('exit', (code, signal) => this.exited(slot, child, code, signal));
    return child;
  }

  /**
   * Comparisons are the proxy's least urgent CPU work: a 64 MiB export opened with GDAL takes
   * seconds of a core. Run nicer than the proxy, a worker gets a busy core only when serving
   * does not want it. Raising a nice value needs no privilege; should the kernel refuse anyway,
   * the worker runs at the proxy's priority, as before this option.
   */
  private lowerPriority(child: ChildProcess): void {
    const niceness = this.options.niceness ?? 0;
    if (niceness === 0 || child.pid === undefined) return;
    try {
      setPriority(child.pid, Math.min(19, getPriority() + niceness));
    } catch {
      // the worker exited already, or the platform has no nice values: nothing to lower
    }
  }

  private settle(slot: Slot, id: number, error: CutoverError | undefined, comparison?: Comparison): void {
    const pending = slot.jobs.get(id);
    if (!pending) return;
    slot.jobs.delete(id);
    clearTimeout(pending.timer);
    if (slot.jobs.size === 0) slot.child?.channel?.unref();
    if (error) pending.reject(error);
    else pending.resolve(comparison!);
  }

  private timeOut(slot: Slot): void {
    slot.killedFor = 'timeout';
    slot.child?.kill('SIGKILL');
  }

  private exited(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.child = undefined;
    const reason = slot.killedFor ?? 'died';
    slot.killedFor = undefined;
    const errorCode: ErrorCode = reason === 'timeout' ? 'CUTOVER_ERR_COMPARISON_TIMEOUT' : 'CUTOVER_ERR_COMPARE_WORKER_DIED';
    const how = reason === 'timeout' ? `killed: a comparison ran past proxy.compare.timeoutMs (${this.options.timeoutMs} ms)` : `exited (${signal ?? `code ${code}`})`;
    for (const id of [...slot.jobs.keys()]) this.settle(slot, id, new CutoverError(errorCode, `the comparison worker ${how}; its comparisons are lost`));
    if (this.closed) return;
    if (Date.now() - slot.startedAt < quickDeathMs) slot.notBefore = Date.now() + quickDeathMs;
    this.options.onRestart?.(reason);
  }

  /** Ends the workers (their jobs fail with CUTOVER_ERR_COMPARE_WORKER_DIED); the caller drains its jobs first. */
  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots) {
      clearTimeout(slot.deferTimer);
      for (const { id } of slot.deferred.splice(0)) this.settle(slot, id, new CutoverError('CUTOVER_ERR_COMPARE_WORKER_DIED', 'the comparison pool closed before its worker was started again'));
    }
    await Promise.all(
      this.slots.map(async (slot) => {
        const child = slot.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        // A worker exits when its parent disconnects; one that does not is killed.
        if (child.connected) child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
