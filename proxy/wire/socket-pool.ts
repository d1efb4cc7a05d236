/**
 * Keep-alive TCP connections to one upstream, for the fast lane (fast-lane.ts), which writes
 * HTTP/1.1 heads and bodies on them itself. At most `max` connections are open; callers
 * beyond that wait in order, at most `maxWaiters` of them (the next is refused at once). An
 * idle connection is closed after `idleMs`, kept below the upstreams' own keep-alive timeouts
 * (uvicorn: 5 s) so that the pool rarely hands out one the upstream is closing; the fast lane
 * retries an idempotent request once when it does.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';

export interface PooledSocket {
  socket: Socket;
  /** True when the connection already carried a request (it may have been closed by the upstream meanwhile). */
  reused: boolean;
}

type Waiter = (error: Error | undefined, pooled: PooledSocket | undefined) => void;

export interface SocketPoolOptions {
  host: string;
  port: number;
  max: number;
  idleMs: number;
  connectTimeoutMs: number;
  /** Callers that may wait while `max` connections are busy; the next one is refused at once (CUTOVER_ERR_UPSTREAM_BUSY). */
  maxWaiters: number;
  /** An https upstream: connections are TLS with these options (CA, client certificate, servername). */
  tls?: ConnectionOptions;
}

export class SocketPool {
  private readonly idle: Socket[] = [];
  private readonly waiting: Waiter[] = [];
  private open = 0;
  private closed = false;

  constructor(private readonly options: SocketPoolOptions) {}

  /** Calls back with an idle connection, a new one, or (when `max` are busy) the next one released. */
  acquire(callback: Waiter): void {
    if (this.closed) {
      callback(new Error('the upstream pool is closed'), undefined);
      return;
    }
    // An idle connection the upstream closed meanwhile stays on the stack until here (bounded by `max`).
    for (let socket = this.idle.pop(); socket; socket = this.idle.pop()) {
      this.leaveIdle(socket);
      if (socket.destroyed || !socket.writable) continue;
      callback(undefined, { socket, reused: true });
      return;
    }
    if (this.open >= this.options.max) {
      if (this.waiting.length >= this.options.maxWaiters) {
        callback(Object.assign(new Error(`all ${this.options.max} connections to ${this.options.host}:${this.options.port} are busy and ${this.waiting.length} requests already wait`), { code: 'CUTOVER_ERR_UPSTREAM_BUSY' }), undefined);
        return;
      }
      this.waiting.push(callback);
      return;
    }
    this.connectNew(callback);
  }

  /** Gives a connection back after a complete answer; the next waiter gets it, or it idles. */
  release(socket: Socket): void {
    if (this.closed || socket.destroyed || !socket.writable) {
      this.discard(socket);
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter) {
      waiter(undefined, { socket, reused: true });
      return;
    }
    this.idle.push(socket);
    socket.setTimeout(this.options.idleMs);
    socket.on('timeout', onIdleTimeout);
    socket.on('error', onIdleError);
    // An idle connection that talks or closes is finished; it is not handed out again.
    socket.on('data', onIdleData);
  }

  /** Drops a connection that cannot carry another request (failed, cut, or framed by its close). */
  discard(socket: Socket): void {
    if (!socket.destroyed) socket.destroy();
    // `open` is decremented once, by the socket's own close listener.
  }

  close(): void {
    this.closed = true;
    for (const socket of this.idle.splice(0)) socket.destroy();
    for (const waiter of this.waiting.splice(0)) waiter(new Error('the upstream pool is closed'), undefined);
  }

  private connectNew(callback: Waiter): void {
    this.open++;
    const { host, port, tls } = this.options;
    const socket = tls ? connectTls({ ...tls, host, port }) : connect({ host, port, noDelay: true });
    if (tls) socket.setNoDelay(true);
    let settled = false;
    socket.setTimeout(this.options.connectTimeoutMs);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      callback(error, undefined);
    };
    const onTimeout = () => fail(Object.assign(new Error(`connect to ${this.options.host}:${this.options.port} timed out`), { code: 'ETIMEDOUT' }));
    socket.once('timeout', onTimeout);
    socket.once('error', fail);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      settled = true;
      socket.off('timeout', onTimeout);
      socket.off('error', fail);
      socket.setTimeout(0);
      callback(undefined, { socket, reused: false });
    });
    socket.once('close', () => {
      this.open--;
      // A slot came free: a waiter gets a fresh connection.
      const waiter = !this.closed && this.open < this.options.max ? this.waiting.shift() : undefined;
      if (waiter) this.connectNew(waiter);
    });
  }

  private leaveIdle(socket: Socket): void {
    socket.setTimeout(0);
    socket.off('timeout', onIdleTimeout);
    socket.off('error', onIdleError);
    socket.off('data', onIdleData);
  }
}

function onIdleTimeout(this: Socket): void {
  this.destroy();
}

function onIdleData(this: Socket): void {
  this.destroy();
}

/** Errors of idle connections (a reset while nobody uses them) are expected and end them. */
function onIdleError(this: Socket): void {
  this.destroy();
}
