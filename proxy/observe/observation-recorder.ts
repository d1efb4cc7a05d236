/**
 * Where observations are made and recorded, off the request path: finished exchanges are
 * queued (bounded in count and in bytes), compared — in the comparison workers (compare-pool.ts)
 * unless small enough that a worker round trip would cost the serving loop more than the
 * comparison (proxy.compare.inlineMaxBytes: those a slice per turn here; so are those whose
 * bodies the comparison never reads, a side cut at the capture bound or failed) — counted in the
 * metrics, and written to the store in batches. An exchange whose comparison fails (it threw, timed out, or its worker died) is
 * counted by its error code and not recorded. Retention is not here: proxy/observe/observation-retention.ts.
 * What is kept is redacted once compared (proxy/observe/redact-observation.ts): the store never sees a
 * credential or a configured PII field.
 */
import { bodyOverBoundCode, classifyFailure, failureClasses, sideFailed } from '../../gate/failure-taxonomy.js';
import type { FlagMode } from '../../flags/flag.js';
import type { Route } from '../../flags/route-catalogue.js';
import type { SideResult } from '../serving/capture.js';
import type { AcceptedRegistry } from '../../parity/compare/accepted-registry.js';
import type { NoiseProfile } from '../../parity/compare/noise.js';
import { createStorageRedactor, type Redactor } from '../../parity/compare/redact.js';
import { defaultPiiFields } from '../../src/config/schema.js';
import type { TimeWindow } from '../../parity/compare/timestamp.js';
import { judgeJobInline, type CompareJob, type ComparePool } from '../shadow/compare-pool.js';
import type { CompareExtras, Comparison } from '../shadow/compare.js';
import { servingToShadow, type Correlation } from '../stateful/correlation.js';
import { CutoverError } from '../../src/errors.js';
import type { ProxyMetrics } from './metrics.js';
import type { Observation, ObservationStore, ObservedSide } from './observation.js';
import { redactObservation } from './redact-observation.js';

/** One shadowed request whose two answers are in, waiting to be compared. */
export interface Exchange {
  at: Date;
  route: Route;
  service: string;
  method: string;
  path: string;
  mode: FlagMode;
  serving: SideResult;
  shadow: SideResult;
  /** Job-id pairs this exchange carries or revealed (proxy/stateful/correlation.ts): values differing only by them compare as equal. */
  correlations?: readonly Correlation[];
}

export interface RecorderOptions {
  batchSize: number;
  flushIntervalMs: number;
  maxQueued: number;
  /** Bytes the queue may hold (exchangeBytes before comparison, observationBytes after); beyond it new exchanges are dropped. */
  maxQueuedBytes: number;
  /** Exchanges with at most this many body bytes (and no file comparison) are compared on this loop, not in a worker. */
  inlineMaxBytes: number;
  mismatchBodySampleRate: number;
  mismatchBodyMaxBytes: number;
  /** Source of randomness for body sampling (tests pass a fixed one). */
  random?: () => number;
  /**
   * The accepted-differences registry: a difference it absorbs is `accepted` with the entry's
   * id (and the report lists it apart), so live observations and replay judge alike.
   */
  accepted?: AcceptedRegistry;
  /** Calibrated noise per route (live-noise.ts): a difference within legacy-vs-legacy variation, kind kept, is `noise`. */
  noise?: (routeId: string) => NoiseProfile | undefined;
  /** Redacts each observation after its comparison; the default PII fields with credentials when absent. */
  redactor?: Redactor;
}

/** What an exchange or observation holds besides its bodies and differences (dates, strings, objects), counted flat. */
const recordOverheadBytes = 1024;

/** Bytes an exchange holds until it is compared: both captured bodies. */
export function exchangeBytes(exchange: Exchange): number {
  return exchange.serving.body.length + exchange.shadow.body.length + recordOverheadBytes;
}

/** Bytes an observation holds until it is written: the kept bodies and the differences' values. */
export function observationBytes(observation: Observation): number {
  let bytes = recordOverheadBytes + (observation.serving.body?.length ?? 0) + (observation.shadow.body?.length ?? 0);
  for (const difference of observation.differences) bytes += difference.path.length + (difference.serving?.length ?? 0) + (difference.shadow?.length ?? 0) + (difference.detail?.length ?? 0);
  return bytes;
}

/**
 * True when the comparison never reads either body: a side failed (the verdict is `errored`) or
 * was cut at the capture bound (the body is ignored by compare.max-body, and no job state is read
 * from it). Only status and headers are compared, so the exchange is judged on this loop.
 */
export function bodiesUnread(exchange: Pick<Exchange, 'serving' | 'shadow'>): boolean {
  return [exchange.serving, exchange.shadow].some((side) => side.failure !== undefined || side.truncated);
}

/**
 * An exchange whose bodies the comparison never reads keeps of each only what its observation may
 * store (the mismatch sample, mismatchBodyMaxBytes): a garbage shadow answering 4 MiB past the
 * bound one copy in nine otherwise had those megabytes queued, serialised to a comparison worker
 * over IPC and garbage-collected on the serving loop, for nothing (the reliability run's garbage phase).
 */
export function withoutUnreadBodies(exchange: Exchange, keptBytes: number): Exchange {
  if (!bodiesUnread(exchange)) return exchange;
  const kept = (side: SideResult): SideResult => (side.body.length <= keptBytes ? side : { ...side, body: Buffer.from(side.body.subarray(0, keptBytes)) });
  return { ...exchange, serving: kept(exchange.serving), shadow: kept(exchange.shadow) };
}

/**
 * Inline comparisons made per turn of the event loop: at most this many, and none started once
 * the turn's share is spent, so a burst never holds the serving loop for long (a slice of 50
 * at ~30 µs each was a 1.5 ms block in front of every serving answer that arrived meanwhile).
 */
const inlineSlice = 50;
const inlineTurnMs = 0.5;
const noTimes: readonly number[] = [];
const noCorrelations: readonly Correlation[] = [];

/**
 * The window both sides answered in, as the proxy saw it: opened when the request reached it
 * (or, for a job, when the request that created the job did: a correlation remembers it),
 * closed no earlier than now, after both answers are in.
 */
export function windowOf(exchange: Exchange, now = Date.now()): TimeWindow {
  const askedAt = exchange.at.getTime();
  const created = exchange.correlations?.length ? exchange.correlations.flatMap((correlation) => (correlation.askedAt === undefined ? [] : [correlation.askedAt])) : noTimes;
  const createsJob = exchange.method !== 'STATE' && (exchange.route.correlation ?? []).some((entry) => entry.in === 'response.body');
  const jobAskedAt = created.length > 0 ? Math.min(...created) : createsJob ? askedAt : undefined;
  return { askedAt, answeredAt: now, ...(jobAskedAt === undefined ? {} : { jobAskedAt }) };
}

/**
 * A side's status and failure code as observed: a failure after the headers keeps the answer's
 * status (a timeout there is in the body), and an answer cut at the capture bound is marked
 * CUTOVER_FAIL_BODY_OVER_BOUND, so every class of the taxonomy is told apart in the store.
 */
export function observedOutcome(result: SideResult): { status: number | null; error: string | null } {
  if (result.failure) return { status: result.status ?? result.failure.afterStatus ?? null, error: result.failure.code };
  return { status: result.status ?? null, error: result.truncated ? bodyOverBoundCode : null };
}

export class ObservationRecorder {
  /** Exchanges for the comparison workers, waiting for room in the pool. */
  private readonly waiting: Exchange[] = [];
  /** Small exchanges compared on this loop, a slice per turn (never in the tick that settled them). */
  private readonly inline: Exchange[] = [];
  private inlineScheduled = false;
  private readonly ready: Observation[] = [];
  private bytes = 0;
  /** Observations of the batch being written: still held, still counted. */
  private inWrite = 0;
  /** Exchanges handed to the comparison pool, not yet back. */
  private comparing = 0;
  /** flush() callers waiting for every queued exchange to be compared. */
  private compared: Array<() => void> = [];
  private writing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Requests left without a shadow copy by their route's sample, per route, since the last write. */
  private sampled = new Map<string, number>();
  private sampledTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly redactor: Redactor;

  constructor(
    private readonly store: ObservationStore,
    private readonly metrics: ProxyMetrics,
    private readonly comparer: ComparePool,
    private readonly options: RecorderOptions,
  ) {
    this.redactor = options.redactor ?? createStorageRedactor(defaultPiiFields);
  }

  /** Queues an exchange; false (and counted as dropped) when the queue is full, by count or by bytes. */
  submit(exchange: Exchange): boolean {
    if (this.closed || this.queued >= this.options.maxQueued) {
      this.metrics.dropped(exchange.route.id, 'queue_full');
      return false;
    }
    exchange = withoutUnreadBodies(exchange, this.options.mismatchBodyMaxBytes);
    const bytes = exchangeBytes(exchange);
    if (this.bytes + bytes > this.options.maxQueuedBytes) {
      this.metrics.dropped(exchange.route.id, 'queue_bytes');
      return false;
    }
    this.bytes += bytes;
    if (this.comparesInline(exchange)) {
      this.inline.push(exchange);
      this.scheduleInline();
    } else {
      this.waiting.push(exchange);
      this.pump();
    }
    return true;
  }

  private comparesInline(exchange: Exchange): boolean {
    if (bodiesUnread(exchange)) return true;
    return exchange.serving.body.length + exchange.shadow.body.length <= this.options.inlineMaxBytes && exchange.route.compare.paths?.['$']?.as !== 'file';
  }

  private scheduleInline(): void {
    if (this.inlineScheduled) return;
    this.inlineScheduled = true;
    setImmediate(() => this.compareInline());
  }

  private compareInline(): void {
    this.inlineScheduled = false;
    const until = performance.now() + inlineTurnMs;
    for (let done = 0; done < inlineSlice && this.inline.length > 0 && (done === 0 || performance.now() < until); done++) {
      const exchange = this.inline.shift()!;
      this.comparing++;
      let comparison: Comparison;
      try {
        comparison = judgeJobInline(this.jobOf(exchange));
      } catch (error) {
        // The engine may throw (a stack overflow on deeply nested JSON): that exchange is lost, not the proxy.
        this.failed(exchange, new CutoverError('CUTOVER_ERR_COMPARISON_FAILED', `the comparison threw: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`));
        continue;
      }
      this.observed(exchange, comparison);
    }
    if (this.inline.length > 0) this.scheduleInline();
  }

  /** Hands queued exchanges to the comparison pool as it has room. */
  private pump(): void {
    while (this.waiting.length > 0 && this.comparing < this.comparer.capacity) {
      const exchange = this.waiting.shift()!;
      this.comparing++;
      this.comparer.compare(this.jobOf(exchange)).then(
        (comparison) => this.observed(exchange, comparison),
        (error: unknown) => this.failed(exchange, error),
      );
    }
  }

  private jobOf(exchange: Exchange): CompareJob {
    const routeId = exchange.route.id;
    // Set field by field, not spread in: this runs for every shadowed request.
    const extras: CompareExtras = { routeId, window: windowOf(exchange) };
    if (this.options.accepted) extras.accepted = this.options.accepted.forRoute(routeId);
    const noise = this.options.noise?.(routeId);
    if (noise) extras.noise = noise;
    return { serving: exchange.serving, shadow: exchange.shadow, route: exchange.route, correlations: servingToShadow(exchange.correlations ?? noCorrelations), extras };
  }

  private observed(exchange: Exchange, comparison: Comparison): void {
    let observation: Observation;
    try {
      observation = this.observe(exchange, comparison);
    } catch (error) {
      this.failed(exchange, error);
      return;
    }
    this.bytes += observationBytes(observation) - exchangeBytes(exchange);
    this.ready.push(observation);
    this.compareEnded();
    if (this.ready.length >= this.options.batchSize) void this.write();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.write();
      }, this.options.flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  private failed(exchange: Exchange, error: unknown): void {
    this.bytes -= exchangeBytes(exchange);
    this.metrics.comparisonFailed(exchange.route.id, error instanceof CutoverError ? error.code : 'CUTOVER_ERR_COMPARISON_FAILED');
    this.compareEnded();
  }

  private compareEnded(): void {
    this.comparing--;
    this.pump();
    if (this.inline.length === 0 && this.waiting.length === 0 && this.comparing === 0) for (const resolve of this.compared.splice(0)) resolve();
  }

  private observedSide(result: SideResult, keepBodies: boolean): ObservedSide {
    return {
      side: result.side,
      ...observedOutcome(result),
      latencyMs: Math.round(result.latencyMs * 1000) / 1000,
      body: keepBodies ? result.body.subarray(0, this.options.mismatchBodyMaxBytes).toString('utf8') : null,
    };
  }

  private observe(exchange: Exchange, comparison: Comparison): Observation {
    this.metrics.verdict(exchange.route.id, comparison.verdict);
    for (const result of [exchange.serving, exchange.shadow]) {
      const side = observedOutcome(result);
      // The failure's message starts with the socket's own code (ECONNRESET, HPE_*) when it had one: a finer class.
      const cause = /^([A-Z][A-Z0-9_]+):/.exec(result.failure?.message ?? '')?.[1];
      if (sideFailed(side)) this.metrics.failure(exchange.route.id, result.side, failureClasses[classifyFailure(side, cause)].code);
    }
    const keepBodies = comparison.verdict === 'mismatched' && (this.options.random ?? Math.random)() < this.options.mismatchBodySampleRate;
    // Redacted after the verdict, never before: a difference in a hidden field is still a mismatch.
    return redactObservation({
      observedAt: exchange.at,
      routeId: exchange.route.id,
      service: exchange.service,
      method: exchange.method,
      path: exchange.path,
      mode: exchange.mode,
      serving: this.observedSide(exchange.serving, keepBodies),
      shadow: this.observedSide(exchange.shadow, keepBodies),
      verdict: comparison.verdict,
      ignoredBy: comparison.ignoredBy,
      erroredSide: comparison.erroredSide ?? null,
      differences: comparison.differences,
    }, this.redactor);
  }

  /** Writes what is ready, one batch at a time; a failed batch is counted and dropped (bounded memory beats completeness). */
  private write(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.ready.length === 0) return Promise.resolve();
    this.writing = (async () => {
      while (this.ready.length > 0) {
        const batch = this.ready.splice(0, this.options.batchSize);
        this.inWrite = batch.length;
        try {
          await this.store.append(batch);
        } catch {
          this.metrics.observationWriteFailed(batch.length);
        }
        // Held until written (or given up): a slow store is what fills the queue.
        for (const observation of batch) this.bytes -= observationBytes(observation);
        this.inWrite = 0;
      }
    })().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  /** Bytes held by observations waiting to be compared or written. */
  get queuedBytes(): number {
    return this.bytes;
  }

  /** Observations waiting to be compared or written. */
  get queued(): number {
    return this.inline.length + this.waiting.length + this.comparing + this.ready.length + this.inWrite;
  }

  /** Counts a request its route's `sample` left without a shadow copy; written within flushIntervalMs. */
  sampledOut(routeId: string): void {
    this.sampled.set(routeId, (this.sampled.get(routeId) ?? 0) + 1);
    this.sampledTimer ??= setTimeout(() => void this.writeSampledOut(), this.options.flushIntervalMs);
    this.sampledTimer.unref();
  }

  private async writeSampledOut(): Promise<void> {
    if (this.sampledTimer) clearTimeout(this.sampledTimer);
    this.sampledTimer = undefined;
    if (this.sampled.size === 0) return;
    const counts = [...this.sampled].map(([routeId, requests]) => ({ routeId, requests }));
    this.sampled = new Map();
    try {
      await this.store.addSampledOut(counts, new Date());
    } catch {
      // Lost with the store down, like a failed batch; the metric still has them.
      this.metrics.observationWriteFailed(0);
    }
  }

  /** Compares and writes everything queued so far. */
  async flush(): Promise<void> {
    await this.writeSampledOut();
    if (this.inline.length > 0 || this.waiting.length > 0 || this.comparing > 0) await new Promise<void>((resolve) => this.compared.push(resolve));
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.write();
    if (this.writing) await this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}
