/**
 * The FlagSource a running proxy holds: it loads the flags from PostgreSQL, LISTENs on
 * `cutover_flags` and reloads on every NOTIFY, so a change reaches every proxy within a
 * second without restart. When PostgreSQL goes away it keeps serving the last flags it knew
 * (state `stale`; `unavailable`, i.e. everything legacy, when it never loaded), reconnects
 * with capped exponential backoff, and reports all of it through status() and onChange().
 */
import pg from 'pg';
import { emptySnapshot, type FlagSnapshot, type FlagSource } from './flag.js';
import { flagChannel, readFlagSnapshot } from './pg-flag-store.js';

export interface LiveFlagSourceStatus {
  state: FlagSnapshot['state'];
  /** When the flags in use were read from PostgreSQL (epoch 0 when never). */
  loadedAt: Date;
  /** Whether a LISTEN connection is up right now. */
  connected: boolean;
  /** Why the last connection or reload failed, until the next success. */
  lastError?: string;
  /** Reconnection attempts since start. */
  reconnects: number;
}

export interface LiveFlagSource extends FlagSource {
  /** Resolves once the first connection attempt has loaded the flags or failed; never rejects. */
  ready(): Promise<void>;
  status(): LiveFlagSourceStatus;
  /** Calls `listener` with every new snapshot (a reload or a state change); returns the unsubscribe. */
  onChange(listener: (snapshot: FlagSnapshot) => void): () => void;
  close(): Promise<void>;
}

export interface LiveFlagSourceOptions {
  url: string;
  /** Safety reload (and liveness check of the connection), in case a notification was missed. */
  refreshIntervalMs?: number;
  /** Reconnection delays: doubling from initialMs up to maxMs, with jitter. */
  backoff?: { initialMs: number; maxMs: number };
  /** Longest a connect or a reload may take before the connection is considered lost. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

interface Connection {
  client: pg.Client;
  fail(error: unknown): void;
}

/** Starts loading and listening at once; call ready() to wait for the first load. */
export function createLiveFlagSource(options: LiveFlagSourceOptions): LiveFlagSource {
  const { url, refreshIntervalMs = 5000, timeoutMs = 3000, log = () => undefined } = options;
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 5000 };
  const listeners = new Set<(snapshot: FlagSnapshot) => void>();
  let snapshot = emptySnapshot('unavailable');
  let connection: Connection | undefined;
  let lastError: string | undefined;
  let reconnects = 0;
  let failures = 0;
  let closed = false;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let reloading: Promise<void> | undefined;
  let reloadAgain = false;
  let firstAttempt!: () => void;
  const ready = new Promise<void>((resolve) => (firstAttempt = resolve));

  function publish(next: FlagSnapshot): void {
    snapshot = next;
    for (const listener of listeners) {
      try {
        listener(next);
      } catch (error) {
        log(`flag source: a change listener threw: ${(error as Error).message}`);
      }
    }
  }

  function lose(error: unknown): void {
    lastError = (error as Error)?.message ?? String(error);
    if (snapshot.state === 'live') {
      log(`flag source: PostgreSQL lost (${lastError}); serving the last known flags`);
      publish({ ...snapshot, state: 'stale' });
    }
    firstAttempt();
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer) return;
    const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** failures) * (0.5 + Math.random() / 2);
    failures += 1;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      reconnects += 1;
      void connect();
    }, delay);
    reconnectTimer.unref();
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, keepAlive: true, application_name: 'cutover-flag-source' });
    let dead = false;
    const self: Connection = {
      client,
      fail(error) {
        if (dead) return;
        dead = true;
        if (connection === self) connection = undefined;
        client.end().catch(() => undefined);
        if (!closed) lose(error);
      },
    };
    client.on('error', (error) => self.fail(error));
    client.on('end', () => self.fail(new Error('connection to PostgreSQL ended')));
    client.on('notification', (message) => {
      if (message.channel === flagChannel) void reload();
    });
    try {
      await client.connect();
      // LISTEN before the first read, so no change can slip between the read and the LISTEN.
      await client.query(`LISTEN ${flagChannel}`);
    } catch (error) {
      self.fail(error);
      return;
    }
    if (dead) return;
    connection = self;
    failures = 0;
    await reload();
    if (connection === self) log('flag source: listening for flag changes');
    firstAttempt();
  }

  // Reloads coalesce: notifications arriving during a reload cause exactly one more.
  function reload(): Promise<void> {
    if (reloading) {
      reloadAgain = true;
      return reloading;
    }
    reloading = (async () => {
      do {
        reloadAgain = false;
        const current = connection;
        if (!current) return;
        try {
          publish(await readFlagSnapshot(current.client));
          lastError = undefined;
        } catch (error) {
          current.fail(error);
          return;
        }
      } while (reloadAgain && !closed);
    })().finally(() => {
      reloading = undefined;
    });
    return reloading;
  }

  const refreshTimer = setInterval(() => {
    if (connection) void reload();
  }, refreshIntervalMs);
  refreshTimer.unref();

  void connect();

  return {
    current: () => snapshot,
    ready: () => ready,
    status: () => ({ state: snapshot.state, loadedAt: snapshot.loadedAt, connected: connection !== undefined, lastError, reconnects }),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      clearInterval(refreshTimer);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const current = connection;
      connection = undefined;
      firstAttempt();
      await current?.client.end().catch(() => undefined);
    },
  };
}
