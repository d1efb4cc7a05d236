/**
 * A closed-loop HTTP load generator for the benchmarks: `concurrency` workers each send their
 * next request as soon as the previous answer is fully read, over an undici keep-alive pool,
 * for a fixed duration. Latencies go into a histogram with 10 µs resolution, so percentiles
 * are exact to that resolution without keeping every sample.
 */
import { Pool } from 'undici';

export interface LoadOptions {
  /** Base URL of the target (scheme, host, port). */
  origin: string;
  /** Request paths, used in turn (varying keys defeats caches). */
  paths: readonly string[];
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  concurrency: number;
  durationMs: number;
  /** Unmeasured warm-up before the measured window. */
  warmupMs?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  /** Answers with a status that is not 2xx/3xx. */
  non2xx: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

const BUCKET_US = 10;
const MAX_BUCKETS = 200_000; // 2 s; slower answers land in the last bucket
/** The slowest latency the histogram tells apart: a percentile equal to it means "at least". */
export const latencyCeilingMs = (MAX_BUCKETS * BUCKET_US) / 1000;

class Histogram {
  private readonly counts = new Uint32Array(MAX_BUCKETS);
  count = 0;
  sumMs = 0;

  record(ms: number): void {
    const bucket = Math.min(MAX_BUCKETS - 1, Math.floor((ms * 1000) / BUCKET_US));
    this.counts[bucket]! += 1;
    this.count += 1;
    this.sumMs += ms;
  }

  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let bucket = 0; bucket < MAX_BUCKETS; bucket += 1) {
      seen += this.counts[bucket]!;
      if (seen >= rank) return ((bucket + 1) * BUCKET_US) / 1000;
    }
    return (MAX_BUCKETS * BUCKET_US) / 1000;
  }
}

function resultOf(histogram: Histogram, tally: Tally, elapsedS: number): LoadResult {
  return {
    requests: histogram.count,
    errors: tally.errors,
    non2xx: tally.non2xx,
    rps: histogram.count / elapsedS,
    p50Ms: histogram.percentile(50),
    p99Ms: histogram.percentile(99),
    meanMs: histogram.count ? histogram.sumMs / histogram.count : 0,
  };
}

async function drive(pool: Pool, options: LoadOptions, until: number, histogram: Histogram | undefined, tally: { errors: number; non2xx: number }, offset: number): Promise<void> {
  let index = offset;
  while (performance.now() < until) {
    const path = options.paths[index % options.paths.length]!;
    index += 1;
    const started = performance.now();
    try {
      const response = await pool.request({
        path,
        method: (options.method ?? 'GET') as 'GET',
        headers: options.headers,
        body: options.body,
      });
      await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
      if (response.statusCode >= 400) tally.non2xx += 1;
      histogram?.record(performance.now() - started);
    } catch {
      tally.errors += 1;
    }
  }
}

/** Runs the load and returns throughput and latency of the measured window. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(options.origin, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  try {
    const tally = { errors: 0, non2xx: 0 };
    if (options.warmupMs) {
      const warmUntil = performance.now() + options.warmupMs;
      await Promise.all(Array.from({ length: options.concurrency }, (_, i) => drive(pool, options, warmUntil, undefined, { errors: 0, non2xx: 0 }, i)));
    }
    const histogram = new Histogram();
    const started = performance.now();
    const until = started + options.durationMs;
    await Promise.all(Array.from({ length: options.concurrency }, (_, i) => drive(pool, options, until, histogram, tally, i)));
    return resultOf(histogram, tally, (performance.now() - started) / 1000);
  } finally {
    await pool.close();
  }
}

export interface FixedRateOptions {
  origin: string;
  /** The path of every request, or of request i: `path(i)` (the reliability run varies it). */
  path: string | ((index: number) => string);
  /** Requests per second, sent on schedule whether or not earlier answers are in (open loop). */
  rate: number;
  durationMs: number;
  warmupMs?: number;
  /** Keep-alive connections; a request finding all busy waits, and its wait counts. */
  connections: number;
  /** Given, each measured request's answer (body read whole) or failure is handed to it, by index; bodies are only dumped otherwise. */
  onAnswer?: (index: number, outcome: FixedRateOutcome) => void;
  /** A request with no complete answer by then fails (undici's headers and body timeouts); undici's 300 s when absent. */
  timeoutMs?: number;
}

/** What one request of a fixed-rate load got: an answer, or the failure's code (ECONNREFUSED, UND_ERR_SOCKET...). */
export type FixedRateOutcome = { status: number; contentType: string | undefined; body: Buffer } | { failure: string };

interface Tally {
  errors: number;
  non2xx: number;
}

/** Where one open-loop request goes, and where it is counted: nowhere for warm-up and settling requests. */
interface Planned {
  path: string;
  counted: { histogram: Histogram; tally: Tally } | undefined;
  onAnswer: ((outcome: FixedRateOutcome) => void) | undefined;
}

/**
 * The open loop both fixed-rate loads share: request i is due at start + i/rate, sent then
 * whether or not earlier answers are in, and its latency is measured from when it was due.
 * `plan(i, dueMs)` (dueMs from the phase's start) says where it goes and where it is counted.
 */
function openLoop(pool: Pool, rate: number) {
  const send = async (due: number, planned: Planned) => {
    const { counted, onAnswer } = planned;
    try {
      const response = await pool.request({ path: planned.path, method: 'GET' });
      let body = Buffer.alloc(0);
      if (onAnswer) body = Buffer.from(await response.body.arrayBuffer());
      else await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
      if (response.statusCode >= 400 && counted) counted.tally.non2xx += 1;
      counted?.histogram.record(performance.now() - due);
      const contentType = response.headers['content-type'];
      onAnswer?.({ status: response.statusCode, contentType: Array.isArray(contentType) ? contentType.join(', ') : contentType, body });
    } catch (error) {
      if (counted) counted.tally.errors += 1;
      onAnswer?.({ failure: (error as NodeJS.ErrnoException).code ?? String(error) });
    }
  };
  return (durationMs: number, plan: (index: number, dueMs: number) => Planned) =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      const total = Math.floor((durationMs / 1000) * rate);
      const inFlight: Promise<void>[] = [];
      let sent = 0;
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
        for (; sent < due; sent++) {
          const dueMs = (sent * 1000) / rate;
          inFlight.push(send(start + dueMs, plan(sent, dueMs)));
        }
        if (sent < total) setTimeout(tick, 1);
        else void Promise.all(inFlight).then(() => resolve());
      };
      tick();
    });
}

const poolFor = (options: { origin: string; connections: number; timeoutMs?: number | undefined }) =>
  new Pool(options.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    ...(options.timeoutMs ? { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs } : {}),
  });

/**
 * An open-loop load at a fixed rate: request i is due at start + i/rate and its latency is
 * measured from when it was due, not from when it left, so a stall shows in the percentiles
 * instead of slowing the load down (no coordinated omission). Below saturation this measures
 * what a closed loop cannot: whether extra work (shadow copies) delays the answers.
 */
export async function runFixedRate(options: FixedRateOptions): Promise<LoadResult> {
  const pool = poolFor(options);
  const pathOf = typeof options.path === 'string' ? () => options.path as string : options.path;
  const phase = openLoop(pool, options.rate);
  try {
    if (options.warmupMs) await phase(options.warmupMs, (index) => ({ path: pathOf(index), counted: undefined, onAnswer: undefined }));
    const counted = { histogram: new Histogram(), tally: { errors: 0, non2xx: 0 } };
    const { histogram, tally } = counted;
    const { onAnswer } = options;
    const started = performance.now();
    await phase(options.durationMs, (index) => ({ path: pathOf(index), counted, onAnswer: onAnswer && ((outcome) => onAnswer(index, outcome)) }));
    return resultOf(histogram, tally, (performance.now() - started) / 1000);
  } finally {
    await pool.close();
  }
}

export interface InterleavedFixedRateOptions {
  origin: string;
  /** The paths compared: one per slice, in turn. */
  paths: readonly string[];
  rate: number;
  /** Measured time per path: the run lasts `paths.length` times this (settling included). */
  durationMs: number;
  warmupMs?: number;
  connections: number;
  /** How long the load stays on one path before it moves to the next. */
  sliceMs: number;
  /**
   * Requests due this soon after a switch are sent but not counted, on either side, so work the
   * previous path left running (shadow copies, queued comparisons) is not charged to the next.
   */
  settleMs: number;
}

/**
 * One open-loop load at a fixed rate that moves between `paths` every `sliceMs`, each path's
 * answers counted apart. Two runs one after the other, on a machine whose load drifts and
 * whose processes all stall for a few ms now and then (a 2-core machine running the generator,
 * the proxy and both upstreams), compare the moments more than the paths; in slices, both sides
 * meet the same drift and share the stalls. Results are in the order of `paths`.
 */
export async function runInterleavedFixedRate(options: InterleavedFixedRateOptions): Promise<Array<LoadResult & { sent: number }>> {
  if (!(options.sliceMs > options.settleMs && options.settleMs >= 0)) throw new Error(`sliceMs (${options.sliceMs}) must exceed settleMs (${options.settleMs})`);
  const pool = poolFor(options);
  const sides = options.paths.map(() => ({ histogram: new Histogram(), tally: { errors: 0, non2xx: 0 } }));
  /** Requests sent to each path, warm-up and settling included: what a shadowing proxy had to copy. */
  const sent = options.paths.map(() => 0);
  const sliceOf = (dueMs: number) => Math.floor(dueMs / options.sliceMs) % options.paths.length;
  // One schedule for all paths (one loop per path would run them side by side, not in turn).
  const phase = openLoop(pool, options.rate);
  try {
    if (options.warmupMs) {
      await phase(options.warmupMs, (_, dueMs) => {
        const slice = sliceOf(dueMs);
        sent[slice]! += 1;
        return { path: options.paths[slice]!, counted: undefined, onAnswer: undefined };
      });
    }
    const started = performance.now();
    await phase(options.durationMs * options.paths.length, (_, dueMs) => {
      const slice = sliceOf(dueMs);
      const settled = dueMs % options.sliceMs >= options.settleMs;
      sent[slice]! += 1;
      return { path: options.paths[slice]!, counted: settled ? sides[slice] : undefined, onAnswer: undefined };
    });
    // Each path had its share of the run, less the settling at the start of each of its slices.
    const measuredS = ((performance.now() - started) / 1000 / options.paths.length) * (1 - options.settleMs / options.sliceMs);
    return sides.map(({ histogram, tally }, index) => ({ ...resultOf(histogram, tally, measuredS), sent: sent[index]! }));
  } finally {
    await pool.close();
  }
}
