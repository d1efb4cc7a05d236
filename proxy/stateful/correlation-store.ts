/**
 * Where correlations A↔B are kept. `CorrelationStore` is the persistent contract (PostgreSQL in
 * correlation-store-pg.ts, the in-memory `MemoryCorrelationStore` as its fake); `Correlations`
 * is what the proxy uses: a bounded, expiring memory in front of an optional persistent store,
 * so a hit costs nothing on the request path and a cluster's workers and a restarted proxy
 * still find pairs another process learnt.
 */
import type { Correlation } from './correlation.js';
import type { Side } from '../serving/decide.js';

export interface CorrelationStore {
  /** Keeps pairs until `expiresAt`; a pair for the same serving id replaces the old one. */
  put(correlations: readonly Correlation[], expiresAt: Date): Promise<void>;
  /** The live pair whose serving id (on `servingSide`) is `servingId`. */
  get(servingSide: Side, servingId: string): Promise<Correlation | undefined>;
  /** Deletes expired pairs; answers how many went. */
  prune(now?: Date): Promise<number>;
  close(): Promise<void>;
}

interface Entry {
  correlation: Correlation;
  expiresAt: number;
}

const key = (side: Side, id: string) => `${side}\u0000${id}`;

/** In-memory pairs, at most `maxEntries` (oldest first out), each for `ttlMs`. Also the fake of CorrelationStore. */
export class MemoryCorrelationStore implements CorrelationStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The pair, synchronously, or undefined when unknown or expired. */
  peek(servingSide: Side, servingId: string): Correlation | undefined {
    const id = key(servingSide, servingId);
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.correlation;
  }

  remember(correlation: Correlation, expiresAt: number): void {
    const id = key(correlation.servingSide, correlation.servingId);
    this.entries.delete(id);
    this.entries.set(id, { correlation, expiresAt });
    // Map keeps insertion order: the first keys are the oldest pairs.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }

  async put(correlations: readonly Correlation[], expiresAt: Date): Promise<void> {
    for (const correlation of correlations) this.remember(correlation, expiresAt.getTime());
  }

  async get(servingSide: Side, servingId: string): Promise<Correlation | undefined> {
    return this.peek(servingSide, servingId);
  }

  async prune(now = new Date(this.now())): Promise<number> {
    let gone = 0;
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt <= now.getTime()) {
        this.entries.delete(id);
        gone++;
      }
    }
    return gone;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}

export interface CorrelationOptions {
  /** Pairs kept in memory (oldest dropped first). */
  maxEntries: number;
  /** How long a pair lives, in memory and in the persistent store: longer than a job is polled. */
  ttlMs: number;
  /** How long a shadow copy may wait for the persistent store on a memory miss before going uncorrelated. */
  lookupTimeoutMs: number;
}

export const defaultCorrelationOptions: CorrelationOptions = Object.freeze({ maxEntries: 100_000, ttlMs: 24 * 3_600_000, lookupTimeoutMs: 200 });

/** The proxy's correlations: memory first, the persistent store behind it (optional). Never throws. */
export class Correlations {
  readonly memory: MemoryCorrelationStore;
  /** Persistent writes or reads that failed (the store was down); the pair still lives in memory. */
  storeFailures = 0;

  constructor(
    private readonly store: CorrelationStore | undefined,
    private readonly options: CorrelationOptions = defaultCorrelationOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.memory = new MemoryCorrelationStore(options.maxEntries, now);
  }

  /** Remembers pairs now (memory) and persists them in the background. */
  learn(correlations: readonly Correlation[]): Promise<void> {
    if (correlations.length === 0) return Promise.resolve();
    const expiresAt = this.now() + this.options.ttlMs;
    for (const correlation of correlations) this.memory.remember(correlation, expiresAt);
    if (!this.store) return Promise.resolve();
    return this.store.put(correlations, new Date(expiresAt)).catch(() => {
      this.storeFailures++;
    });
  }

  /** The pair for a serving id: synchronously from memory, or undefined (then `find` asks the store). */
  peek(servingSide: Side, servingId: string): Correlation | undefined {
    return this.memory.peek(servingSide, servingId);
  }

  /** The pair for a serving id from memory or, on a miss, from the persistent store within the lookup timeout. */
  async find(servingSide: Side, servingId: string): Promise<Correlation | undefined> {
    const hit = this.memory.peek(servingSide, servingId);
    if (hit || !this.store) return hit;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.options.lookupTimeoutMs);
      timer.unref();
    });
    try {
      const found = await Promise.race([this.store.get(servingSide, servingId), timeout]);
      if (found) this.memory.remember(found, this.now() + this.options.ttlMs);
      return found;
    } catch {
      this.storeFailures++;
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** True when a persistent store sits behind memory (lookups may need to wait for it). */
  get persistent(): boolean {
    return this.store !== undefined;
  }
}
