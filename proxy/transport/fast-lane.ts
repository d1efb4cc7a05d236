/**
 * The fast lane of a front door: requests that nothing but their serving side will see — a
 * route in `legacy` or `retired` mode, an unknown route, everything under the kill switch —
 * are relayed at the socket level: the request head is parsed once (http1.ts), its
 * hop-by-hop headers dropped and `x-forwarded-for` added, and then head and body bytes go to
 * a keep-alive upstream connection (socket-pool.ts) and the answer's bytes come back as they
 * are, chunk framing included, with the `x-cutover-*` headers added to its head. node:http
 * and undici cost ~80 µs of CPU per request on this path; this lane ~20 (decision 0016).
 *
 * A shadowed, canary or reimpl-mode route takes the lane too when its body has a length
 * within the shadow limit: the body is read whole first (the copy and a canary's county_id
 * need it), the serving answer is relayed and captured. What is decided — route, sides, the
 * shadow copy, what is recorded — is the request pipeline's (pipeline/pipeline.ts), the same
 * node:http's path runs: the lane only moves the bytes.
 *
 * Whatever the lane does not take — a chunked or too large body on a shadowed route, a
 * recording tap, and any head it declines (HTTP/1.0, Upgrade, Expect, odd framing,
 * malformed) — it hands over, with the connection, to the front door's node:http server, at a
 * request boundary, with the bytes it has read put back. From then on that connection is
 * served by node:http, exactly as without the lane.
 */
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { errorCodes, type ErrorCode } from '../../src/errors.js';
import type { RefusalReason } from '../observe/metrics.js';
import { streamedBody, unknownRouteId, type Decided, type FrontDoorParts, type Matched, type PipelineRequest, type ServingCall } from '../pipeline/serving-call.js';
import type { RequestPipeline } from '../pipeline/pipeline.js';
import { BodyCapture, classifyFailure, failedAfter, headerMap, type SideResult, type UpstreamFailure } from '../serving/capture.js';
import type { Side } from '../serving/decide.js';
import { describeFailure, internalErrorBody, upstreamErrorBody } from '../serving/forward.js';
import type { Upstream } from '../serving/upstreams.js';
import { refusalAnswer, type RefusalCode } from '../wire/framing.js';
import { endToEndHeaders } from '../wire/hop-by-hop.js';
import { BodyEnd, decodeChunked, declined, hasHeader, incomplete, parseRequestHead, tooLarge, idempotentMethods, ResponseHeadReader, serializeHead, type ChunkData, type RequestHead, type ResponseHead } from '../wire/http1.js';
import type { PooledSocket, PoolWaiter, SocketUser } from '../wire/socket-pool.js';

/** Body bytes copied behind the answer's head so that both leave in one write. */
const maxJoinedBodyBytes = 16 * 1024;
/** Request bytes held while the upstream connection is being opened, before the client is paused. */
const maxQueuedRequestBytes = 64 * 1024;
const empty = Buffer.alloc(0);
const crlf = Buffer.from('\r\n');
const lastChunk = Buffer.from('0\r\n\r\n');

export interface FastLaneOptions {
  /** Closes a client connection idle this long between requests (as node:http's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
}

export interface FastLane {
  /** The front door's net.Server `connection` listener. */
  accept(socket: Socket): void;
  /** Ends every connection the lane still holds (those handed over belong to node:http). */
  closeAll(): void;
  /** Shutdown: idle connections end now, busy ones after their answer; `open` counts down to 0. */
  drain(): void;
  readonly open: number;
}

/** Why the lane stopped reading a client: its upstream is slower (backpressure), or its pipelined bytes reached proxy.maxPipelinedBytes. */
const enum Hold {
  Upstream = 1,
  Pipeline = 2,
}

/** The lane of one front door; `server` is its node:http server, which gets what the lane does not take. */
export function createFastLane(pipeline: RequestPipeline, server: Server, options: FastLaneOptions): FastLane {
  const connections = new Set<ClientConnection>();
  const { parts } = pipeline;
  const lane: Lane = {
    pipeline,
    parts,
    keepAliveHeader: `timeout=${Math.floor(options.keepAliveTimeoutMs / 1000)}`,
    options,
    server,
    forget: (connection) => connections.delete(connection),
  };
  // Headers and request timeouts (slowloris) are checked by one sweep per lane, as node:http checks its connections, not a timer per request.
  const { headersTimeoutMs, requestTimeoutMs } = parts.options;
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const connection of connections) connection.checkTimeouts(now);
  }, Math.max(10, Math.min(1000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4))));
  sweep.unref();
  return {
    accept(socket) {
      connections.add(new ClientConnection(socket, lane));
    },
    closeAll() {
      clearInterval(sweep);
      for (const connection of connections) connection.destroy();
      connections.clear();
    },
    drain() {
      for (const connection of connections) connection.drain();
    },
    get open() {
      return connections.size;
    },
  };
}

let dateSecond = -1;
let dateText = '';
/** The Date header's value, made once a second (as node:http caches its own), not per answer. */
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

interface Lane {
  pipeline: RequestPipeline;
  parts: FrontDoorParts;
  /** The Keep-Alive header value of kept-alive answers, as node:http writes it. */
  keepAliveHeader: string;
  options: FastLaneOptions;
  server: Server;
  forget(connection: ClientConnection): void;
}

/**
 * How the lane takes a request: `relay` when nothing but its serving side sees it, `shadow`
 * when its body (none, or a length within the shadow limit) is read first, `hand-over` otherwise.
 */
function laneFor(matched: Matched, head: RequestHead, maxRequestBodyBytes: number): 'relay' | 'shadow' | 'hand-over' {
  if (!matched.route) return 'relay';
  // The tap and a fallback answer from node:http's path: the lane keeps no request to tap or send again.
  if (matched.tapped) return 'hand-over';
  if (!matched.needsBody) return 'relay';
  if (matched.mayFallBack) return 'hand-over';
  if (head.framing.kind === 'none') return 'shadow';
  return head.framing.kind === 'length' && head.framing.length <= maxRequestBodyBytes ? 'shadow' : 'hand-over';
}

/** The request's end-to-end headers as the upstreams get them: hop-by-hop ones dropped, the client's address added. */
function forwardedHeaders(head: RequestHead, address: string | undefined): string[] {
  const headers = endToEndHeaders(head.rawHeaders, head.connection);
  // The lane writes the chunk framing itself (Exchange.feedRequest), so it declares it too.
  if (head.framing.kind === 'chunked') headers.push('transfer-encoding', 'chunked');
  if (address) headers.push('x-forwarded-for', address);
  return headers;
}

class ClientConnection {
  private pending: Buffer = empty;
  private exchange: Exchange | undefined;
  private gone = false;
  /** The client half-closed: it sends no more requests; the one in flight is still answered. */
  private ended = false;
  /** The lane ends this connection: nothing more the client sends is read as a request. */
  private closing = false;
  /** The proxy shuts down: no request after the one in flight. */
  private draining = false;
  /** When the request being received began (its first byte, or when the lane got to it); 0 when none is being received. */
  private requestSince = 0;
  /** The head of the request being received is complete (the headers timeout no longer runs, the request timeout does). */
  private headSeen = false;
  /** Hold bits: while any is set the client socket is paused. */
  private held = 0;
  /** node:http serves this connection now. */
  private handedOver = false;

  constructor(
    readonly socket: Socket,
    private readonly lane: Lane,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(lane.options.keepAliveTimeoutMs);
    socket.on('data', this.onData);
    socket.on('timeout', this.onTimeout);
    socket.on('error', this.onError);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** No request after the one in flight: the connection ends when it is answered, at once when idle. */
  drain(): void {
    this.draining = true;
    if (!this.exchange) this.socket.destroy();
  }

  get keepAliveHeader(): string {
    return this.lane.keepAliveHeader;
  }

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.take(chunk);
    } catch (error) {
      this.crash(error);
    }
  };

  /**
   * A throw in any step of a request (match, decide, forward, shadow) costs that request and
   * its connection, never the process: 500 with its code when nothing was answered yet, else a
   * cut connection. Counted in cutover_proxy_internal_errors_total.
   */
  crash(error: unknown): void {
    const { metrics, service } = this.lane.parts;
    metrics.internalError(service, 'serving');
    try {
      if (this.exchange) {
        this.exchange.crash(error);
        return;
      }
      this.closing = true;
      this.requestSince = 0;
      this.pending = empty;
      if (!this.socket.writable) this.socket.destroy();
      else {
        const body = internalErrorBody(error, unknownRouteId);
        this.socket.end(`HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      }
    } catch {
      this.socket.destroy();
    }
  }

  private take(chunk: Buffer): void {
    if (this.closing) return;
    if (this.exchange?.wantsRequestBytes) {
      const rest = this.exchange.feedRequest(chunk);
      if (!this.exchange.wantsRequestBytes) this.requestSince = 0;
      if (rest.length > 0) this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, rest]) : rest;
    } else {
      if (!this.exchange && this.requestSince === 0) this.startRequest();
      this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
      if (!this.exchange) this.next();
    }
    // Pipelined requests wait while an exchange runs; past the bound the client is not read until it is done.
    if (this.exchange && this.pending.length > this.lane.parts.options.maxPipelinedBytes && !(this.held & Hold.Pipeline)) {
      this.lane.parts.metrics.pipelineHeld(this.lane.parts.service);
      this.hold(Hold.Pipeline);
    }
  }

  private startRequest(): void {
    this.requestSince = Date.now();
    this.headSeen = false;
  }

  /** Pauses reading the client for `reason`; it is read again once no reason holds. */
  hold(reason: Hold): void {
    if (this.held === 0) this.socket.pause();
    this.held |= reason;
  }

  release(reason: Hold): void {
    if (!(this.held & reason)) return;
    this.held &= ~reason;
    if (this.held === 0) this.socket.resume();
  }

  /**
   * The slowloris bounds: no complete head within proxy.headersTimeoutMs, or no complete
   * request within proxy.requestTimeoutMs, gets 408 and the connection closes (a cut one when
   * an answer had begun).
   */
  checkTimeouts(now: number): void {
    if (this.requestSince === 0 || this.closing) return;
    const { headersTimeoutMs, requestTimeoutMs } = this.lane.parts.options;
    const waited = now - this.requestSince;
    if (!this.headSeen && waited > headersTimeoutMs) this.expire('CUTOVER_ERR_REQUEST_HEADERS_TIMEOUT', `no complete request head within ${headersTimeoutMs} ms`, 'headers_timeout');
    else if (waited > requestTimeoutMs) this.expire('CUTOVER_ERR_REQUEST_TIMEOUT', `no complete request within ${requestTimeoutMs} ms`, 'request_timeout');
  }

  private expire(code: 'CUTOVER_ERR_REQUEST_HEADERS_TIMEOUT' | 'CUTOVER_ERR_REQUEST_TIMEOUT', message: string, reason: RefusalReason): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    if (exchange?.abandon({ code, message })) {
      this.lane.parts.metrics.refused(this.lane.parts.service, reason);
      this.closing = true;
      this.requestSince = 0;
      this.socket.destroy();
      return;
    }
    this.refuse(message, code, reason);
  }

  private readonly onTimeout = (): void => {
    // Idle between requests for keepAliveTimeout: close, as node:http does. In flight, the upstream's timeout rules.
    if (!this.exchange || this.closing) this.socket.destroy();
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    if (this.exchange || this.closing) return;
    // The connection ended inside a request (its head or a shadowed body not complete): 400, as llhttp's end-of-stream error on node:http.
    if (this.pending.length > 0) this.refuse('the connection ended inside a request');
    else this.socket.end();
  };

  private readonly onClose = (): void => {
    this.gone = true;
    this.lane.forget(this);
    try {
      this.exchange?.clientGone();
    } catch (error) {
      this.crash(error);
    }
  };

  /** Takes the next complete request head off `pending`, if there is one. */
  private next(): void {
    if (this.gone || this.pending.length === 0) return;
    const { maxHeaderBytes } = this.lane.parts.options;
    const head = parseRequestHead(this.pending, maxHeaderBytes);
    if (head === incomplete) return;
    if (head === declined) {
      this.handOver();
      return;
    }
    if (head === tooLarge) {
      this.refuse(`the request head is larger than ${maxHeaderBytes} bytes`, 'CUTOVER_ERR_REQUEST_HEADERS_TOO_LARGE', 'header_bytes');
      return;
    }
    if ('refused' in head) {
      this.refuse(head.refused);
      return;
    }
    this.headSeen = true;
    const { pipeline, parts } = this.lane;
    const matched = pipeline.match({ method: head.method, target: head.target, rawHeaders: head.rawHeaders, remoteAddress: this.socket.remoteAddress });
    const how = laneFor(matched, head, parts.options.shadow.maxRequestBodyBytes);
    if (how === 'hand-over') {
      this.handOver();
      return;
    }
    if (how === 'shadow') {
      this.shadowed(matched, head);
      return;
    }
    const decided = this.decide(matched, undefined);
    if (!decided) return;
    // The body, if any, is relayed as it arrives (Exchange.feedRequest): nothing is buffered.
    const request: PipelineRequest = { method: head.method, path: head.target, headers: forwardedHeaders(head, this.socket.remoteAddress), body: head.framing.kind === 'none' ? null : streamedBody };
    pipeline.dispatch(matched, decided, request, (call) => {
      const exchange = this.begin(new Exchange(this, parts, call, head));
      this.pending = exchange.feedRequest(this.pending.subarray(head.size));
      if (!exchange.wantsRequestBytes) this.requestSince = 0;
      // A request refused while its body was read (broken chunk framing) is already answered.
      if (exchange.wantsUpstream) exchange.start();
    });
  }

  /** A request whose body the pipeline needs whole (a shadow copy, a canary's key): once all of it is here, it goes down the pipeline. */
  private shadowed(matched: Matched, head: RequestHead): void {
    const end = head.size + (head.framing.kind === 'length' ? head.framing.length : 0);
    // Not all of the body yet: `next` runs again when more bytes come.
    if (this.pending.length < end) return;
    const body = this.pending.subarray(head.size, end);
    const decided = this.decide(matched, body);
    if (!decided) return;
    this.pending = this.pending.subarray(end);
    this.requestSince = 0;
    const request: PipelineRequest = { method: head.method, path: head.target, headers: forwardedHeaders(head, this.socket.remoteAddress), body: body.length > 0 ? body : null };
    this.lane.pipeline.dispatch(matched, decided, request, (call) => {
      const exchange = this.begin(new Exchange(this, this.lane.parts, call, head));
      exchange.feedRequest(body);
      exchange.start();
    });
  }

  /** The pipeline's decision, or undefined when no upstream is configured for the serving side: then node:http's path answers the request, as before. */
  private decide(matched: Matched, body: Buffer | undefined): Decided | undefined {
    try {
      return this.lane.pipeline.decide(matched, body);
    } catch {
      this.handOver();
      return undefined;
    }
  }

  /**
   * The keep-alive timeout stays set while an exchange runs (onTimeout ignores it then; the
   * upstream's timeout rules): the answer's write re-arms it, so it counts from the last byte,
   * without two timer updates per request.
   */
  private begin(exchange: Exchange): Exchange {
    this.exchange = exchange;
    return exchange;
  }

  /**
   * A request the lane refuses itself — ambiguous framing (framing.ts), 400; a head too large,
   * 431; a timeout, 408 — and the connection ends; what the client sent after it is never read
   * as a request.
   */
  refuse(reason: string, code: RefusalCode = 'CUTOVER_ERR_REQUEST_MALFORMED', metric: RefusalReason = 'framing'): void {
    this.lane.parts.metrics.refused(this.lane.parts.service, metric);
    this.closing = true;
    this.requestSince = 0;
    this.pending = empty;
    if (!this.socket.writable) {
      this.socket.destroy();
      return;
    }
    // Read on and discard, so that unread bytes do not turn the close into a reset that loses the answer.
    this.socket.end(refusalAnswer(reason, code));
    this.release(Hold.Pipeline);
    this.socket.setTimeout(this.lane.options.keepAliveTimeoutMs);
  }

  /** The exchange answered; the connection goes on (or closes, when it must). */
  done(exchange: Exchange, closeAfter: boolean): void {
    if (this.exchange !== exchange) return;
    this.exchange = undefined;
    if (this.closing) return;
    if (closeAfter || this.gone || this.draining) {
      this.close();
      return;
    }
    if (this.pending.length > 0) this.startRequest();
    this.next();
    if (this.pending.length <= this.lane.parts.options.maxPipelinedBytes) this.release(Hold.Pipeline);
    // A client that half-closed after pipelining gets every request it sent answered, then the end (a 400 for bytes that are no request).
    if (this.ended && !this.exchange && !this.closing && !this.handedOver) {
      if (this.pending.length > 0) this.refuse('the connection ended inside a request');
      else this.close();
    }
  }

  private close(): void {
    this.closing = true;
    this.requestSince = 0;
    this.pending = empty;
    this.socket.end();
  }

  /** node:http takes the connection over, with every byte the lane read and did not use. */
  private handOver(): void {
    const { socket } = this;
    this.handedOver = true;
    socket.off('data', this.onData);
    socket.off('timeout', this.onTimeout);
    socket.off('error', this.onError);
    socket.off('end', this.onEnd);
    socket.off('close', this.onClose);
    socket.setTimeout(0);
    this.lane.forget(this);
    if (this.ended) {
      // The client half-closed already: its stream ended, so node:http is given the bytes and the end as events.
      const pending = this.pending;
      this.pending = empty;
      this.lane.server.emit('connection', socket);
      if (pending.length > 0) socket.emit('data', pending);
      socket.emit('end');
      return;
    }
    socket.pause();
    if (this.pending.length > 0) socket.unshift(this.pending);
    this.pending = empty;
    this.lane.server.emit('connection', socket);
    socket.resume();
  }
}

/**
 * One request relayed on the lane, and its answer: the pipeline's serving call, its bytes
 * moved. (No call here carries a fallback: laneFor hands those requests to node:http.)
 */
class Exchange implements SocketUser, PoolWaiter {
  private bodyCapture: BodyCapture | undefined;
  private capturedHeaders: Record<string, string> = {};
  private pooled: PooledSocket | undefined;
  private upstreamSocket: Socket | undefined;
  private retried = false;
  private readonly requestEnd: BodyEnd;
  private readonly outgoingHead: Buffer;
  /** Request bytes read before the upstream connection was ready. */
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private response: ResponseHead | undefined;
  private responseEnd: BodyEnd | undefined;
  private headReader: ResponseHeadReader | undefined;
  private answered = false;
  private finished = false;
  private clientPaused = false;
  private upstreamPaused = false;
  private readonly started = performance.now();
  private readonly routeId: string;
  private readonly upstream: Upstream;
  private readonly side: Side;

  constructor(
    private readonly client: ClientConnection,
    private readonly parts: FrontDoorParts,
    private readonly call: ServingCall,
    private readonly head: RequestHead,
  ) {
    this.routeId = call.routeId;
    this.upstream = call.upstream;
    this.side = call.side;
    this.requestEnd = new BodyEnd(head.framing);
    this.outgoingHead = serializeHead(`${head.method} ${head.target} HTTP/1.1`, call.request.headers);
  }

  /** Not finished: the request still goes upstream. */
  get wantsUpstream(): boolean {
    return !this.finished;
  }

  /** Still reading the request body from the client. */
  get wantsRequestBytes(): boolean {
    return !this.requestEnd.complete && !this.finished;
  }

  /**
   * Takes the request body's bytes from `chunk` (sent, or queued until connected); returns the
   * bytes after the body. A chunked body is parsed and written again in the lane's own chunks:
   * none of the client's chunk framing (sizes, extensions, trailers) reaches the upstream.
   */
  feedRequest(chunk: Buffer): Buffer {
    if (chunk.length === 0) return empty;
    const chunked = this.head.framing.kind === 'chunked';
    let taken: number;
    try {
      taken = this.requestEnd.take(chunk, 0, chunked ? (this.rechunker ??= (data, start, end) => this.rechunk(data, start, end)) : undefined);
    } catch (error) {
      this.refuseRequest((error as Error).message);
      return empty;
    }
    if (chunked) {
      if (this.requestEnd.complete && !this.finished) this.send(lastChunk);
    } else {
      const body = taken === chunk.length ? chunk : chunk.subarray(0, taken);
      if (body.length > 0 && !this.finished) this.send(body);
    }
    return taken === chunk.length ? empty : chunk.subarray(taken);
  }

  /** Writes a chunked body's payload again in the lane's own chunks; made only for a chunked request (no closure per exchange). */
  private rechunker: ChunkData | undefined;

  private rechunk(chunk: Buffer, start: number, end: number): void {
    if (end === start || this.finished) return;
    this.send(Buffer.concat([Buffer.from(`${(end - start).toString(16)}\r\n`, 'latin1'), chunk.subarray(start, end), crlf]));
  }

  start(): void {
    this.upstream.sockets.acquire(this);
  }

  /** The pool's answer (PoolWaiter): a connection to send the request on, or why there is none. */
  acquired(error: Error | undefined, pooled: PooledSocket | undefined): void {
    try {
      if (this.finished) {
        if (pooled) this.upstream.sockets.release(pooled);
        return;
      }
      if (error || !pooled) {
        this.fail(classifyFailure(error));
        return;
      }
      this.attach(pooled);
    } catch (thrown) {
      this.client.crash(thrown);
    }
  }

  /**
   * The client did not send its request in time: the upstream is let go (its connection
   * dropped, so it never sees a complete request). Answers whether the client was already
   * being answered (then the connection can only be cut).
   */
  abandon(failure: UpstreamFailure): boolean {
    if (this.finished) return this.answered;
    this.letGo(false);
    this.report(failure);
    return this.answered;
  }

  /** A step threw: the client gets 500 (or a cut connection, once answering), and the connection ends. */
  crash(error: unknown): void {
    if (this.finished) {
      this.client.socket.destroy();
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    this.fail({ code: 'CUTOVER_ERR_PROXY_INTERNAL', message: `the proxy failed while serving: ${message}` }, true);
  }

  /** The pooled connection's events come to this exchange (SocketUser) until it is released or discarded. */
  private attach(pooled: PooledSocket): void {
    const { socket } = pooled;
    this.pooled = pooled;
    this.upstreamSocket = socket;
    pooled.user = this;
    // The pool set the upstream timeout when the connection was made; only a slow client's backpressure (relay) ever changes it.
    if (socket.timeout !== this.parts.options.upstreamTimeoutMs) socket.setTimeout(this.parts.options.upstreamTimeoutMs);
    // Corked only for more than one buffer: a lone write through cork/uncork takes the stream's buffering path for nothing.
    if (this.queued.length === 0) socket.write(this.outgoingHead);
    else {
      socket.cork();
      socket.write(this.outgoingHead);
      for (const chunk of this.queued) socket.write(chunk);
      socket.uncork();
    }
    this.queued = [];
    this.queuedBytes = 0;
    if (this.clientPaused && socket.writableLength === 0) this.resumeClient();
  }

  /** No more of the connection's events: released, its idle timeout replaces the upstream timeout; discarded, it is destroyed. */
  private detach(pooled: PooledSocket): void {
    pooled.user = undefined;
    this.pooled = undefined;
    if (this.upstreamPaused) pooled.socket.resume();
  }

  private send(body: Buffer): void {
    const socket = this.upstreamSocket;
    if (!socket) {
      this.queued.push(body);
      this.queuedBytes += body.length;
      if (this.queuedBytes > maxQueuedRequestBytes) this.pauseClient();
      return;
    }
    if (!socket.write(body)) this.pauseClient();
  }

  private pauseClient(): void {
    if (this.clientPaused) return;
    this.clientPaused = true;
    this.client.hold(Hold.Upstream);
  }

  private resumeClient(): void {
    if (!this.clientPaused) return;
    this.clientPaused = false;
    this.client.release(Hold.Upstream);
  }

  onDrain(): void {
    try {
      this.resumeClient();
    } catch (error) {
      this.client.crash(error);
    }
  }

  /** The client drained after backpressure: the upstream is read again. Made the first time a client is slow, not per exchange. */
  private onClientDrain: (() => void) | undefined;

  private clientDrained(): void {
    try {
      this.upstreamPaused = false;
      this.upstreamSocket?.setTimeout(this.parts.options.upstreamTimeoutMs);
      this.upstreamSocket?.resume();
    } catch (error) {
      this.client.crash(error);
    }
  }

  onData(chunk: Buffer): void {
    if (this.finished) return;
    try {
      this.relay(chunk);
    } catch (error) {
      this.client.crash(error);
    }
  }

  private relay(chunk: Buffer): void {
    let offset = 0;
    // The answer's head, when this chunk completes it: it leaves with the body bytes that follow it, in one buffer.
    let clientHead: Buffer | undefined;
    if (!this.response) {
      const head = (this.headReader ??= new ResponseHeadReader(this.head.method)).read(chunk);
      if (head === incomplete) return;
      if (typeof head === 'string') {
        this.fail({ code: 'CUTOVER_ERR_UPSTREAM_MALFORMED', message: `the ${this.side} upstream ${head}` });
        return;
      }
      this.response = head;
      clientHead = this.clientHead(head);
      chunk = this.headReader.buffer;
      offset = this.headReader.bodyStart;
    }
    const end = this.responseEnd!;
    let taken: number;
    try {
      taken = end.take(chunk, offset);
    } catch (error) {
      if (clientHead) this.client.socket.write(clientHead);
      this.fail({ code: 'CUTOVER_ERR_UPSTREAM_MALFORMED', message: `the ${this.side} upstream's chunk framing is broken: ${(error as Error).message}` });
      return;
    }
    if (taken === 0 && clientHead) this.client.socket.write(clientHead);
    if (taken > 0) {
      const body = offset === 0 && taken === chunk.length ? chunk : chunk.subarray(offset, offset + taken);
      this.bodyCapture?.add(body);
      // A small answer's head and body leave as one buffer (one write: on loopback a socket write costs the most of a relay); a large body is not copied for it.
      const client = this.client.socket;
      let flowing: boolean;
      if (clientHead && body.length > maxJoinedBodyBytes) {
        client.cork();
        client.write(clientHead);
        flowing = client.write(body);
        client.uncork();
      } else {
        flowing = client.write(clientHead ? Buffer.concat([clientHead, body]) : body);
      }
      if (!flowing && !this.upstreamPaused) {
        // A slow client is not a slow upstream: the upstream's timeout waits while the client drains.
        this.upstreamPaused = true;
        this.upstreamSocket?.pause();
        this.upstreamSocket?.setTimeout(0);
        this.client.socket.once('drain', (this.onClientDrain ??= () => this.clientDrained()));
      }
    }
    // Bytes after the answer's end are not ours to relay: the connection is not used again.
    if (end.complete) this.succeed(offset + taken < chunk.length);
  }

  /**
   * The answer's head as node:http writes it on the other path, so a route's answers look the
   * same whichever path served them: the upstream's end-to-end headers in order, the x-cutover
   * headers, then what node:http adds — Date when absent, Connection, Keep-Alive, and the
   * chunked framing the body keeps. Returned for the caller to write with the body's first bytes.
   */
  private clientHead(response: ResponseHead): Buffer {
    const headers = endToEndHeaders(response.rawHeaders, response.connection);
    for (const value of this.call.answerHeaders) headers.push(value);
    if (!hasHeader(response.rawHeaders, 'date')) headers.push('Date', httpDate());
    if (this.closesClient(response)) headers.push('Connection', 'close');
    else headers.push('Connection', 'keep-alive', 'Keep-Alive', this.client.keepAliveHeader);
    if (response.framing.kind === 'chunked') headers.push('Transfer-Encoding', 'chunked');
    this.answered = true;
    this.responseEnd = new BodyEnd(response.framing);
    if (this.call.captureLimit !== undefined) {
      this.capturedHeaders = headerMap(response.rawHeaders);
      this.bodyCapture = new BodyCapture(this.call.captureLimit);
    }
    return serializeHead(response.reason ? `HTTP/1.1 ${response.status} ${response.reason}` : `HTTP/1.1 ${response.status}`, headers);
  }

  /** The client connection ends after this answer: it asked to, or the answer's end is the connection's close. */
  private closesClient(response: ResponseHead | undefined): boolean {
    return this.head.close || response?.framing.kind === 'until-close';
  }

  // The upstream connection's events (SocketUser), each with a throw handed to the connection's crash (fault isolation), not to the emitter.
  onEnd(): void {
    try {
      if (this.response?.framing.kind === 'until-close' && !this.finished) this.succeed(true);
    } catch (error) {
      this.client.crash(error);
    }
  }

  onClose(): void {
    if (this.finished) return;
    try {
      if (this.response?.framing.kind === 'until-close') {
        this.succeed(true);
        return;
      }
      this.failOrRetry(Object.assign(new Error(`the ${this.side} upstream closed the connection before the answer was complete`), { code: 'ECONNRESET' }));
    } catch (error) {
      this.client.crash(error);
    }
  }

  onError(error: Error): void {
    if (this.finished) return;
    try {
      this.failOrRetry(error);
    } catch (thrown) {
      this.client.crash(thrown);
    }
  }

  onTimeout(): void {
    if (this.finished) return;
    try {
      this.fail({ code: 'CUTOVER_ERR_UPSTREAM_TIMEOUT', message: `no answer from the ${this.side} upstream for ${this.parts.options.upstreamTimeoutMs} ms` });
    } catch (error) {
      this.client.crash(error);
    }
  }

  /**
   * A kept-alive connection the upstream closed just as it was reused fails before any answer
   * byte: an idempotent request without a body is sent once more on a new connection, as
   * undici does; anything else is a failure the client hears about.
   */
  private failOrRetry(error: Error): void {
    const pooled = this.pooled;
    const untouched = !this.response && !this.headReader?.started;
    if (pooled?.reused && !this.retried && untouched && idempotentMethods.has(this.head.method) && this.head.framing.kind === 'none') {
      this.retried = true;
      this.detach(pooled);
      this.upstream.sockets.discard(pooled);
      this.upstreamSocket = undefined;
      this.start();
      return;
    }
    this.fail(classifyFailure(error));
  }

  /** The client went away mid-exchange: the upstream answer is not read for no one. */
  clientGone(): void {
    if (this.finished) return;
    this.fail({ code: 'CUTOVER_ERR_CLIENT_ABORTED', message: 'the client closed the connection before the answer was complete' });
  }

  /**
   * Lets go of both sockets: no more upstream events, the upstream connection back to its pool
   * (`reuse`) or dropped, the client read again.
   */
  private letGo(reuse: boolean): void {
    this.finished = true;
    if (this.onClientDrain) this.client.socket.off('drain', this.onClientDrain);
    const pooled = this.pooled;
    if (pooled) {
      this.detach(pooled);
      if (reuse) this.upstream.sockets.release(pooled);
      else this.upstream.sockets.discard(pooled);
    }
    this.resumeClient();
  }

  private succeed(extraBytes: boolean): void {
    if (this.finished) return;
    // A request whose body the upstream did not wait for leaves the client's stream mid-body: that connection ends too.
    const requestComplete = this.requestEnd.complete;
    this.letGo(this.response!.reusable && requestComplete && !extraBytes);
    this.report(undefined);
    this.client.done(this, this.closesClient(this.response) || !requestComplete);
  }

  /**
   * Broken chunk framing from the client: the upstream gets no more of it (its connection is
   * dropped, so it never sees a complete request), the client gets 400 and the connection ends.
   */
  private refuseRequest(reason: string): void {
    if (this.finished) return;
    this.letGo(false);
    this.report({ code: 'CUTOVER_ERR_REQUEST_MALFORMED', message: reason });
    if (!this.answered) this.client.refuse(reason);
    else {
      this.parts.metrics.refused(this.parts.service, 'framing');
      this.client.socket.destroy();
    }
    this.client.done(this, true);
  }

  /** Ends the exchange on a failure: a JSON error when nothing was answered yet, else a cut connection. */
  private fail(failure: UpstreamFailure, closeConnection = false): void {
    if (this.finished) return;
    this.letGo(false);
    this.report(failure);
    const client = this.client.socket;
    if (this.answered || client.destroyed) {
      client.destroy();
      return;
    }
    const code = failure.code as ErrorCode;
    const body = upstreamErrorBody(code, `${this.side} upstream ${this.upstream.origin} ${describeFailure(code)}: ${failure.message}`, this.routeId, this.side);
    const answerStatus = errorCodes[code].status;
    const closeAfter = closeConnection || this.head.close || !this.requestEnd.complete;
    const headers = ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(body)), 'Date', httpDate()];
    if (closeAfter) headers.push('Connection', 'close');
    else headers.push('Connection', 'keep-alive', 'Keep-Alive', this.client.keepAliveHeader);
    client.write(serializeHead(`HTTP/1.1 ${answerStatus} ${STATUS_CODES[answerStatus] ?? 'Error'}`, headers));
    client.write(body);
    this.client.done(this, closeAfter);
  }

  /** Hands the outcome back up the pipeline (its record step tells a refusal of the client's request from the upstream's failure). */
  private report(failure: UpstreamFailure | undefined): void {
    const captured = this.bodyCapture?.bytes() ?? empty;
    const result: SideResult = {
      side: this.side,
      status: failure ? undefined : this.response?.status,
      failure: failedAfter(failure, this.response?.status),
      headers: this.capturedHeaders,
      // The comparison reads payloads: a chunked answer was captured as relayed, framing included.
      body: this.response?.framing.kind === 'chunked' && captured.length > 0 ? decodeChunked(captured) : captured,
      truncated: this.bodyCapture?.truncated ?? false,
      latencyMs: performance.now() - this.started,
    };
    try {
      this.call.onDone(result);
    } catch {
      // What is recorded of an answer never changes the answer, nor stops the connection going on.
      this.parts.metrics.internalError(this.parts.service, 'record');
    }
  }
}
