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

function resultOf(histogram: Histogram, tally: { errors: number; non2xx: number }, elapsedS: number): LoadResult {
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

/**
 * An open-loop load at a fixed rate: request i is due at start + i/rate and its latency is
 * measured from when it was due, not from when it left, so a stall shows in the percentiles
 * instead of slowing the load down (no coordinated omission). Below saturation this measures
 * what a closed loop cannot: whether extra work (shadow copies) delays the answers.
 */
export async function runFixedRate(options: FixedRateOptions): Promise<LoadResult> {
  const timeouts = options.timeoutMs ? { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs } : {};
  const pool = new Pool(options.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000, ...timeouts });
  const tally = { errors: 0, non2xx: 0 };
  const pathOf = typeof options.path === 'string' ? () => options.path as string : options.path;
  const send = async (index: number, due: number, histogram: Histogram | undefined) => {
    const onAnswer = histogram ? options.onAnswer : undefined;
    try {
      const response = await pool.request({ path: pathOf(index), method: 'GET' });
      let body = Buffer.alloc(0);
      if (onAnswer) body = Buffer.from(await response.body.arrayBuffer());
      else await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
      if (response.statusCode >= 400 && histogram) tally.non2xx += 1;
      histogram?.record(performance.now() - due);
      const contentType = response.headers['content-type'];
      onAnswer?.(index, { status: response.statusCode, contentType: Array.isArray(contentType) ? contentType.join(', ') : contentType, body });
    } catch (error) {
      if (histogram) tally.errors += 1;
      onAnswer?.(index, { failure: (error as NodeJS.ErrnoException).code ?? String(error) });
    }
  };
  const phase = (durationMs: number, histogram: Histogram | undefined) =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      const total = Math.floor((durationMs / 1000) * options.rate);
      const inFlight: Promise<void>[] = [];
      let sent = 0;
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * options.rate) + 1);
        for (; sent < due; sent++) inFlight.push(send(sent, start + (sent * 1000) / options.rate, histogram));
        if (sent < total) setTimeout(tick, 1);
        else void Promise.all(inFlight).then(() => resolve());
      };
      tick();
    });
  try {
    if (options.warmupMs) await phase(options.warmupMs, undefined);
    const histogram = new Histogram();
    const started = performance.now();
    await phase(options.durationMs, histogram);
    return resultOf(histogram, tally, (performance.now() - started) / 1000);
  } finally {
    await pool.close();
  }
}
