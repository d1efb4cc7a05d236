/**
 * Keep-alive TCP connections to one upstream, for the fast lane (fast-lane.ts), which writes
 * HTTP/1.1 heads and bodies on them itself. At most `max` connections are open; callers
 * beyond that wait in order, at most `maxWaiters` of them (the next is refused at once). An
 * idle connection is closed after `idleMs`, kept below the upstreams' own keep-alive timeouts
 * (uvicorn: 5 s) so that the pool rarely hands out one the upstream is closing; the fast lane
 * retries an idempotent request once when it does.
 *
 * A connection's socket timeout is set once, when it connects, to the upstream timeout: lending
 * a connection for a request changes no timer (two timer updates a request were a measurable
 * part of the lane's CPU). Idle connections are closed by one sweep per pool instead, at
 * `idleMs` to `idleMs` + a sweep period (an eighth of `idleMs`) after their last answer.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';

/**
 * What a busy connection's events go to (the fast lane's exchange using it). An idle
 * connection's events end it: it talks or fails while nobody uses it.
 */
export interface SocketUser {
  onData(chunk: Buffer): void;
  onEnd(): void;
  onClose(): void;
  onError(error: Error): void;
  onTimeout(): void;
  onDrain(): void;
}

/**
 * One pooled connection, for its whole life: its listeners are added once, when it connects,
 * and hand each event to its current user, so that lending it for a request adds and removes
 * no listener (on the lane's hot path those cost more than the lending itself).
 */
export class PooledSocket {
  /** True when the connection already carried a request (it may have been closed by the upstream meanwhile). */
  reused = false;
  /** The exchange the connection is lent to; undefined while it idles, or before it is lent. */
  user: SocketUser | undefined;
  /** When it was last given back (performance.now()), for the idle sweep. */
  idleSince = 0;

  constructor(
    readonly socket: Socket,
    private readonly readsIntoShared = false,
  ) {}

  private data(chunk: Buffer): void {
    if (this.user) this.user.onData(chunk);
    else this.socket.destroy();
  }

  /**
   * `nread` bytes read into the shared read buffer: copied out (from the Buffer pool for a
   * small answer) before the next read reuses it, since the user may keep or queue them.
   */
  read(nread: number, buffer: Buffer): void {
    const chunk = Buffer.allocUnsafe(nread);
    buffer.copy(chunk, 0, 0, nread);
    this.data(chunk);
  }

  /** Installed once the connection is up: events go to the user, or end an idle connection. */
  listen(): void {
    const { socket } = this;
    // A connection reading into the shared buffer (onread) hands its bytes over through `read`, not as 'data'.
    if (!this.readsIntoShared) socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('end', () => this.user?.onEnd());
    socket.on('error', (error: Error) => (this.user ? this.user.onError(error) : socket.destroy()));
    socket.on('timeout', () => (this.user ? this.user.onTimeout() : socket.destroy()));
    socket.on('drain', () => this.user?.onDrain());
  }
}

/** Who asked for a connection: told once, with the connection or why there is none (an object, not a callback: no closure per request). */
export interface PoolWaiter {
  acquired(error: Error | undefined, pooled: PooledSocket | undefined): void;
}

export interface SocketPoolOptions {
  host: string;
  port: number;
  max: number;
  idleMs: number;
  /** A lent connection's inactivity timeout (proxy.upstreamTimeoutMs): set once per connection. */
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Callers that may wait while `max` connections are busy; the next one is refused at once (CUTOVER_ERR_UPSTREAM_BUSY). */
  maxWaiters: number;
  /** An https upstream: connections are TLS with these options (CA, client certificate, servername). */
  tls?: ConnectionOptions;
  /** Given, the pool stops opening connections to an upstream that keeps refusing them (ConnectBreaker). */
  connectBreaker?: ConnectBreakerOptions;
}

export interface ConnectBreakerOptions {
  /** Connections in a row that failed to open before the pool stops trying. */
  failures: number;
  /** How long it then fails callers at once before one new attempt; doubled after each failed attempt, up to maxRetryMs. */
  retryMs: number;
  maxRetryMs: number;
}

/**
 * Stops a pool from opening connection after connection to an upstream that refuses them. A
 * shadow side that is down got a connect per copy: the proxy spent 145 µs of CPU per shadowed
 * request instead of 52, and the serving p99 went from 3 to 16 ms at 4,000 req/s (decision
 * 0045). After `failures` failed opens in a row, callers are failed at once with the last
 * failure's code, for `retryMs`; then one caller's connect is the attempt (the others still
 * fail at once), and a success closes the breaker.
 */
class ConnectBreaker {
  private failed = 0;
  private retryMs: number;
  private until = 0;
  private attempting = false;
  private last: Error | undefined;
  /** The failure callers get while the breaker is open: one per failed attempt, not one (and its stack trace) per caller. */
  private refused: Error | undefined;

  constructor(private readonly options: ConnectBreakerOptions) {
    this.retryMs = options.retryMs;
  }

  /** Why the next connect is not tried, or undefined: tried (the attempt, when the breaker is open). */
  refusal(target: string): Error | undefined {
    if (this.failed < this.options.failures) return undefined;
    if (!this.attempting && performance.now() >= this.until) {
      this.attempting = true;
      return undefined;
    }
    if (!this.refused) {
      const last = this.last!;
      const code = (last as NodeJS.ErrnoException).code;
      this.refused = Object.assign(new Error(`not attempted: the last ${this.failed} connections to ${target} failed (${last.message}); the next attempt in at most ${this.retryMs} ms`), { code });
    }
    return this.refused;
  }

  opened(): void {
    this.refused = undefined;
    this.failed = 0;
    this.attempting = false;
    this.retryMs = this.options.retryMs;
  }

  failedToOpen(error: Error): void {
    this.refused = undefined;
    this.last = error;
    this.failed++;
    if (this.attempting) this.retryMs = Math.min(this.options.maxRetryMs, this.retryMs * 2);
    this.attempting = false;
    if (this.failed >= this.options.failures) this.until = performance.now() + this.retryMs;
  }
}

/** What every plain pooled connection reads into; each read is copied out before the next (PooledSocket.read). */
const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

export class SocketPool {
  private readonly idle: PooledSocket[] = [];
  private readonly waiting: PoolWaiter[] = [];
  private open = 0;
  private closed = false;
  private sweep: NodeJS.Timeout | undefined;
  private readonly breaker: ConnectBreaker | undefined;

  constructor(private readonly options: SocketPoolOptions) {
    this.breaker = options.connectBreaker && new ConnectBreaker(options.connectBreaker);
  }

  /** Calls back with an idle connection, a new one, or (when `max` are busy) the next one released. */
  acquire(waiter: PoolWaiter): void {
    if (this.closed) {
      waiter.acquired(new Error('the upstream pool is closed'), undefined);
      return;
    }
    // An idle connection the upstream closed meanwhile stays on the stack until here (bounded by `max`).
    for (let pooled = this.idle.pop(); pooled; pooled = this.idle.pop()) {
      if (pooled.socket.destroyed || !pooled.socket.writable) continue;
      pooled.reused = true;
      waiter.acquired(undefined, pooled);
      return;
    }
    if (this.open >= this.options.max) {
      if (this.waiting.length >= this.options.maxWaiters) {
        waiter.acquired(Object.assign(new Error(`all ${this.options.max} connections to ${this.options.host}:${this.options.port} are busy and ${this.waiting.length} requests already wait`), { code: 'CUTOVER_ERR_UPSTREAM_BUSY' }), undefined);
        return;
      }
      this.waiting.push(waiter);
      return;
    }
    this.connectNew(waiter);
  }

  /** Whether the breaker lets this connect go; when not, the waiter has been failed at once. */
  private mayConnect(waiter: PoolWaiter): boolean {
    const refusal = this.breaker?.refusal(`${this.options.host}:${this.options.port}`);
    if (refusal) waiter.acquired(refusal, undefined);
    return refusal === undefined;
  }

  /** Gives a connection back after a complete answer; the next waiter gets it, or it idles (its idle timeout running). */
  release(pooled: PooledSocket): void {
    pooled.user = undefined;
    const { socket } = pooled;
    if (this.closed || socket.destroyed || !socket.writable) {
      this.discard(pooled);
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter) {
      pooled.reused = true;
      waiter.acquired(undefined, pooled);
      return;
    }
    pooled.idleSince = performance.now();
    this.idle.push(pooled);
    this.sweep ??= setInterval(() => this.closeIdle(), Math.max(10, Math.floor(this.options.idleMs / 8))).unref();
  }

  /** Closes the connections idle for `idleMs` or longer: the oldest are at the bottom of the stack. */
  private closeIdle(): void {
    const oldest = performance.now() - this.options.idleMs;
    let expired = 0;
    while (expired < this.idle.length && this.idle[expired]!.idleSince <= oldest) expired++;
    for (const pooled of this.idle.splice(0, expired)) pooled.socket.destroy();
    if (this.idle.length === 0) {
      clearInterval(this.sweep);
      this.sweep = undefined;
    }
  }

  /** Drops a connection that cannot carry another request (failed, cut, or framed by its close). */
  discard(pooled: PooledSocket): void {
    pooled.user = undefined;
    if (!pooled.socket.destroyed) pooled.socket.destroy();
    // `open` is decremented once, by the socket's own close listener.
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweep);
    this.sweep = undefined;
    for (const pooled of this.idle.splice(0)) pooled.socket.destroy();
    for (const waiter of this.waiting.splice(0)) waiter.acquired(new Error('the upstream pool is closed'), undefined);
  }

  private connectNew(waiter: PoolWaiter): void {
    if (!this.mayConnect(waiter)) return;
    this.open++;
    const { host, port, tls } = this.options;
    // Plain connections read into one shared buffer (net's onread): node then allocates no 64 KiB
    // buffer per read, and frees none (malloc, realloc and free were ~4% of a shadowed request's CPU).
    const onread = {
      buffer: sharedReadBuffer,
      // Called only once connected, when `pooled` below is long made.
      callback: (nread: number, buffer: Uint8Array): boolean => {
        pooled.read(nread, buffer as Buffer);
        return true;
      },
    };
    const socket = tls ? connectTls({ ...tls, host, port }) : connect({ host, port, noDelay: true, onread });
    if (tls) socket.setNoDelay(true);
    const pooled = new PooledSocket(socket, !tls);
    let settled = false;
    socket.setTimeout(this.options.connectTimeoutMs);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      this.breaker?.failedToOpen(error);
      waiter.acquired(error, undefined);
    };
    const onTimeout = () => fail(Object.assign(new Error(`connect to ${this.options.host}:${this.options.port} timed out`), { code: 'ETIMEDOUT' }));
    socket.once('timeout', onTimeout);
    socket.once('error', fail);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      settled = true;
      socket.off('timeout', onTimeout);
      socket.off('error', fail);
      socket.setTimeout(this.options.timeoutMs);
      this.breaker?.opened();
      pooled.listen();
      waiter.acquired(undefined, pooled);
    });
    socket.once('close', () => {
      this.open--;
      // A slot came free: the next waiter gets a fresh connection; one the breaker fails at once lets the one after it try.
      while (!this.closed && this.open < this.options.max && this.waiting.length > 0) this.connectNew(this.waiting.shift()!);
      pooled.user?.onClose();
    });
  }
}
