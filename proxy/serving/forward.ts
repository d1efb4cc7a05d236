/**
 * Forwarding the serving request: the client's request goes to the serving upstream over a
 * keep-alive pool and the answer streams back unchanged (status, reason, end-to-end headers
 * in their order and case, body bytes), with backpressure both ways. When the upstream
 * cannot be reached or is too slow before answering, the client gets a 502/504 JSON error
 * with a stable code; after the answer has started, the client connection is cut instead
 * (a half answer must not look whole).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { errorCodes, type ErrorCode } from '../../src/errors.js';
import { BodyCapture, classifyFailure, failedAfter, headerMap, type SideResult } from './capture.js';
import type { Side } from './decide.js';
import { checkFraming, isRefusal } from '../wire/framing.js';
import { endToEndHeaders } from '../wire/hop-by-hop.js';
import type { Upstream } from './upstreams.js';

export interface OutgoingRequest {
  method: string;
  /** Path and query, exactly as the client sent them. */
  path: string;
  /** Flat end-to-end header list [name, value, ...]. */
  headers: string[];
  body: Buffer | IncomingMessage | AsyncIterable<Buffer> | null;
}

/** A request whose body is buffered (or absent), so it can be sent twice: to the serving side and as the shadow copy. */
export type ReplayableRequest = OutgoingRequest & { body: Buffer | null };

/** Why a serving answer fell back: a 5xx status, a timeout before headers, or a connection that failed. */
export type FallbackReason = '5xx' | 'timeout' | 'connection';

export interface ForwardOptions {
  side: Side;
  routeId: string;
  timeoutMs: number;
  /** Headers added to the answer (x-cutover-*), flat; empty to leave the answer untouched. */
  extraHeaders: readonly string[];
  /** When set, the served body is also kept (bounded) for the comparison. */
  captureLimit: number | undefined;
  /** Called once, when the answer is complete or failed. */
  onDone: (result: SideResult) => void;
  /** Called when `onDone` threw (the answer itself is not affected). */
  onRecordFailed?: () => void;
  /**
   * When set, a failure before anything was sent to the client (connection error, timeout
   * before headers, a 5xx status) is not answered: `onDone` reports it and this serves the
   * client instead (proxy/serving/fallback.ts).
   */
  fallback?: (why: FallbackReason) => void;
}

/** The client went away before its answer was complete: its abort, not the upstream's failure. */
function clientAborted(): Error {
  return Object.assign(new Error('the client closed the connection before the answer was complete'), { code: 'CUTOVER_ERR_CLIENT_ABORTED' });
}

/** The JSON error body the client gets when the serving upstream fails before answering. */
export function upstreamErrorBody(code: ErrorCode, message: string, routeId: string, side: Side): string {
  return JSON.stringify({ code, message, hint: errorCodes[code].hint, route: routeId, side });
}

/** The JSON error body of a request lost to a throw inside the proxy (fault isolation): 500, CUTOVER_ERR_PROXY_INTERNAL. */
export function internalErrorBody(error: unknown, routeId: string): string {
  const code = 'CUTOVER_ERR_PROXY_INTERNAL';
  const message = `the proxy failed while serving: ${error instanceof Error ? error.message : String(error)}`;
  return JSON.stringify({ code, message, hint: errorCodes[code].hint, route: routeId });
}

class ServingHandler implements Dispatcher.DispatchHandler {
  private abort: ((error?: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  private status: number | undefined;
  private headers: Record<string, string> = {};
  private readonly capture: BodyCapture | undefined;
  private readonly started = performance.now();
  private finished = false;
  /** The 5xx status a fallback took over from (its body is not read). */
  private fellBackFrom: number | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly upstream: Upstream,
    private readonly options: ForwardOptions,
  ) {
    this.capture = options.captureLimit === undefined ? undefined : new BodyCapture(options.captureLimit);
    res.once('close', () => {
      // The client went away: stop the upstream answer rather than reading it for no one.
      if (!this.finished) this.abort?.(clientAborted());
    });
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abort = abort;
    if (this.res.destroyed) abort(clientAborted());
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (status < 200) return true;
    this.status = status;
    this.resume = resume;
    const raw = new Array<string>(rawHeaders.length);
    for (let i = 0; i < rawHeaders.length; i++) raw[i] = rawHeaders[i]!.toString('latin1');
    // An answer whose end two parsers could read differently is not relayed (response splitting): 502.
    const checked = checkFraming(raw, { request: false, http11: true });
    if (isRefusal(checked)) {
      this.abort?.(Object.assign(new Error(`the ${this.options.side} upstream's answer cannot be framed unambiguously: ${checked.refused}`), { code: 'CUTOVER_ERR_UPSTREAM_MALFORMED' }));
      return false;
    }
    if (this.capture) this.headers = headerMap(raw);
    if (status >= 500 && this.options.fallback) {
      this.fellBackFrom = status;
      this.abort?.(Object.assign(new Error(`the ${this.options.side} upstream answered ${status}`), { code: 'CUTOVER_FALLBACK_5XX' }));
      return false;
    }
    const headers = endToEndHeaders(raw);
    for (const value of this.options.extraHeaders) headers.push(value);
    if (statusText) this.res.writeHead(status, statusText, headers);
    else this.res.writeHead(status, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.capture?.add(chunk);
    if (this.res.write(chunk)) return true;
    // The client reads slower than the upstream sends: undici pauses until the client drains.
    this.res.once('drain', this.resume!);
    return false;
  }

  onComplete(): void {
    this.res.end();
    this.finish(undefined);
  }

  onError(error: Error): void {
    const failure = classifyFailure(error);
    const fallback = this.options.fallback;
    if (fallback && !this.res.headersSent && !this.res.destroyed && failure.code !== 'CUTOVER_ERR_CLIENT_ABORTED' && failure.code !== 'CUTOVER_ERR_UPSTREAM_MALFORMED') {
      // Observed as what it was (the 5xx, or the failure); the client is served by the fallback.
      if (this.fellBackFrom !== undefined) this.finish(undefined);
      else this.finish(failure);
      fallback(this.fellBackFrom !== undefined ? '5xx' : failure.code === 'CUTOVER_ERR_UPSTREAM_TIMEOUT' ? 'timeout' : 'connection');
      return;
    }
    if (!this.res.headersSent && !this.res.destroyed) {
      const code = failure.code as ErrorCode;
      const body = upstreamErrorBody(code, `${this.options.side} upstream ${this.upstream.origin} ${describeFailure(code)}: ${failure.message}`, this.options.routeId, this.options.side);
      this.res.writeHead(errorCodes[code].status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      this.res.end(body);
    } else {
      this.res.destroy();
    }
    this.finish(failure);
  }

  private finish(failure: SideResult['failure']): void {
    if (this.finished) return;
    this.finished = true;
    // What is recorded of an answer never changes it: a throw there is the recorder's, counted by the caller's metrics.
    try {
      this.report(failure);
    } catch {
      this.options.onRecordFailed?.();
    }
  }

  private report(failure: SideResult['failure']): void {
    this.options.onDone({
      side: this.options.side,
      status: failure ? undefined : this.status,
      failure: failedAfter(failure, this.status),
      headers: this.headers,
      body: this.capture ? this.capture.bytes() : Buffer.alloc(0),
      truncated: this.capture?.truncated ?? false,
      latencyMs: performance.now() - this.started,
    });
  }
}

/** How an upstream failure reads in the error message a client gets. */
export function describeFailure(code: ErrorCode): string {
  if (code === 'CUTOVER_ERR_UPSTREAM_TIMEOUT') return 'timed out';
  if (code === 'CUTOVER_ERR_UPSTREAM_UNREACHABLE') return 'is unreachable';
  return 'failed';
}

/** Sends `request` to `upstream` and streams its answer to `res`. */
export function forward(upstream: Upstream, request: OutgoingRequest, res: ServerResponse, options: ForwardOptions): void {
  const handler = new ServingHandler(res, upstream, options);
  upstream.pool.dispatch(
    {
      origin: upstream.origin,
      method: request.method as Dispatcher.HttpMethod,
      path: request.path,
      headers: request.headers,
      body: request.body as Dispatcher.DispatchOptions['body'],
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    },
    handler,
  );
}
