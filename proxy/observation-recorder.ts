/**
 * Where observations are made and recorded, off the request path: finished exchanges are
 * queued (bounded), compared a few at a time on later turns of the event loop, counted in the
 * metrics, and written to the store in batches. Old observations are pruned by retention.
 * What is kept is redacted once compared (proxy/redact-observation.ts): the store never sees a
 * credential or a configured PII field.
 */
import { classifyFailure, failureClasses, sideFailed } from '../gate/failure-taxonomy.js';
import type { FlagMode } from '../flags/flag.js';
import type { Route } from '../flags/route-catalogue.js';
import type { SideResult } from './capture.js';
import type { AcceptedRegistry } from '../parity/compare/accepted-registry.js';
import type { NoiseProfile } from '../parity/compare/noise.js';
import { createStorageRedactor, type Redactor } from '../parity/compare/redact.js';
import { defaultPiiFields } from '../src/config/schema.js';
import { compareAnswers } from './compare.js';
import type { TimeWindow } from '../parity/compare/timestamp.js';
import { servingToShadow, type Correlation } from './correlation.js';
import { settleEventualState } from './eventual-state.js';
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
  /** Job-id pairs this exchange carries or revealed (proxy/correlation.ts): values differing only by them compare as equal. */
  correlations?: readonly Correlation[];
}

export interface RecorderOptions {
  batchSize: number;
  flushIntervalMs: number;
  maxQueued: number;
  /** Bytes the queue may hold (exchangeBytes before comparison, observationBytes after); beyond it new exchanges are dropped. */
  maxQueuedBytes: number;
  retentionHours: number;
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

const compareSlice = 50;
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
const noiseOf = (noise: NoiseProfile | undefined) => (noise ? { noise } : {});
const pruneEveryMs = 60_000;

/**
 * The window both sides answered in, as the proxy saw it: opened when the request reached it
 * (or, for a job, when the request that created the job did: a correlation remembers it),
 * closed no earlier than now, after both answers are in.
 */
export function windowOf(exchange: Exchange, now = Date.now()): TimeWindow {
  const askedAt = exchange.at.getTime();
  const created = (exchange.correlations ?? []).flatMap((correlation) => (correlation.askedAt === undefined ? [] : [correlation.askedAt]));
  const createsJob = exchange.method !== 'STATE' && (exchange.route.correlation ?? []).some((entry) => entry.in === 'response.body');
  const jobAskedAt = created.length > 0 ? Math.min(...created) : createsJob ? askedAt : undefined;
  return { askedAt, answeredAt: now, ...(jobAskedAt === undefined ? {} : { jobAskedAt }) };
}

export class ObservationRecorder {
  private readonly waiting: Exchange[] = [];
  private readonly ready: Observation[] = [];
  private bytes = 0;
  /** Observations of the batch being written: still held, still counted. */
  private inWrite = 0;
  private comparing = false;
  private writing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly pruneTimer: NodeJS.Timeout;
  private closed = false;
  private readonly redactor: Redactor;

  constructor(
    private readonly store: ObservationStore,
    private readonly metrics: ProxyMetrics,
    private readonly options: RecorderOptions,
  ) {
    this.pruneTimer = setInterval(() => void this.prune(), pruneEveryMs);
    this.pruneTimer.unref();
    this.redactor = options.redactor ?? createStorageRedactor(defaultPiiFields);
  }

  /** Queues an exchange; false (and counted as dropped) when the queue is full, by count or by bytes. */
  submit(exchange: Exchange): boolean {
    if (this.closed || this.queued >= this.options.maxQueued) {
      this.metrics.dropped(exchange.route.id, 'queue_full');
      return false;
    }
    const bytes = exchangeBytes(exchange);
    if (this.bytes + bytes > this.options.maxQueuedBytes) {
      this.metrics.dropped(exchange.route.id, 'queue_bytes');
      return false;
    }
    this.bytes += bytes;
    this.waiting.push(exchange);
    if (!this.comparing) {
      this.comparing = true;
      setImmediate(() => this.compareSome());
    }
    return true;
  }

  private compareSome(): void {
    for (const exchange of this.waiting.splice(0, compareSlice)) {
      const observation = this.observe(exchange);
      this.bytes += observationBytes(observation) - exchangeBytes(exchange);
      this.ready.push(observation);
    }
    if (this.waiting.length > 0) {
      setImmediate(() => this.compareSome());
    } else {
      this.comparing = false;
    }
    if (this.ready.length >= this.options.batchSize) void this.write();
    else if (this.ready.length > 0 && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.write();
      }, this.options.flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  private observe(exchange: Exchange): Observation {
    const compared = compareAnswers(exchange.serving, exchange.shadow, exchange.route.compare, undefined, servingToShadow(exchange.correlations ?? []), {
      routeId: exchange.route.id,
      window: windowOf(exchange),
      ...(this.options.accepted ? { accepted: this.options.accepted.forRoute(exchange.route.id) } : {}),
      ...noiseOf(this.options.noise?.(exchange.route.id)),
    });
    const comparison = settleEventualState(exchange.route, exchange.serving, exchange.shadow, compared);
    this.metrics.verdict(exchange.route.id, comparison.verdict);
    for (const result of [exchange.serving, exchange.shadow]) {
      const side = { status: result.status ?? null, error: result.failure?.code ?? null };
      // The failure's message starts with the socket's own code (ECONNRESET, HPE_*) when it had one: a finer class.
      const cause = /^([A-Z][A-Z0-9_]+):/.exec(result.failure?.message ?? '')?.[1];
      if (sideFailed(side)) this.metrics.failure(exchange.route.id, result.side, failureClasses[classifyFailure(side, cause)].code);
    }
    const keepBodies = comparison.verdict === 'mismatched' && (this.options.random ?? Math.random)() < this.options.mismatchBodySampleRate;
    const side = (result: SideResult): ObservedSide => ({
      side: result.side,
      status: result.status ?? null,
      latencyMs: Math.round(result.latencyMs * 1000) / 1000,
      error: result.failure?.code ?? null,
      body: keepBodies ? result.body.subarray(0, this.options.mismatchBodyMaxBytes).toString('utf8') : null,
    });
    // Redacted after the verdict, never before: a difference in a hidden field is still a mismatch.
    return redactObservation({
      observedAt: exchange.at,
      routeId: exchange.route.id,
      service: exchange.service,
      method: exchange.method,
      path: exchange.path,
      mode: exchange.mode,
      serving: side(exchange.serving),
      shadow: side(exchange.shadow),
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

  private async prune(): Promise<void> {
    try {
      await this.store.prune(new Date(Date.now() - this.options.retentionHours * 3_600_000));
    } catch {
      // The store is down; the next round tries again.
    }
  }

  /** Bytes held by observations waiting to be compared or written. */
  get queuedBytes(): number {
    return this.bytes;
  }

  /** Observations waiting to be compared or written. */
  get queued(): number {
    return this.waiting.length + this.ready.length + this.inWrite;
  }

  /** Compares and writes everything queued so far. */
  async flush(): Promise<void> {
    while (this.waiting.length > 0) this.compareSome();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.write();
    if (this.writing) await this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    clearInterval(this.pruneTimer);
  }
}
