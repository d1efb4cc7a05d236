/**
 * One front door: the HTTP handler of one service's proxy port. It only composes the pieces,
 * each decided in its own file: route match (flags/route-catalogue.ts) → flag decision
 * (decide.ts, canary.ts) → body capture (request-body.ts) → forward (forward.ts) and shadow
 * (shadow.ts) side by side → compare and record (observation-recorder.ts, off the request path).
 */
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FlagSnapshot, FlagSource } from '../../flags/flag.js';
import type { Route, RouteCatalogue, Service } from '../../flags/route-catalogue.js';
import type { CutoverConfig } from '../../src/config/schema.js';
import { stickyKey } from '../serving/canary.js';
import { headerMap, type SideResult } from '../serving/capture.js';
import { decide, needsBody, type Decision } from '../serving/decide.js';
import { fallsBack } from '../serving/fallback.js';
import { forward, internalErrorBody, type FallbackReason, type OutgoingRequest } from '../serving/forward.js';
import { checkFraming, isRefusal, refusalAnswer, refusalBody, targetRefusal } from './framing.js';
import { endToEndHeaders } from './hop-by-hop.js';
import type { ProxyMetrics } from '../observe/metrics.js';
import type { ObservationRecorder } from '../observe/observation-recorder.js';
import { hasBody, readRequestBody } from './request-body.js';
import { requestLogEntry, type RequestLog } from '../observe/request-log.js';
import type { StatefulShadowing } from '../stateful/correlation-shadow.js';
import type { ShadowBudget } from '../shadow/shadow.js';
import { recordLatency, serveWithShadow, shadowLimits, type ShadowParts } from '../shadow/shadow-exchange.js';
import type { UnknownTrafficRecorder } from '../observe/unknown-traffic-recorder.js';
import type { Upstreams } from '../serving/upstreams.js';

export interface FrontDoorParts {
  service: Service;
  catalogue: RouteCatalogue;
  flags: FlagSource;
  upstreams: Upstreams;
  metrics: ProxyMetrics;
  recorder: ObservationRecorder;
  unknownTraffic: UnknownTrafficRecorder;
  budget: ShadowBudget;
  options: CutoverConfig['proxy'];
  /** Job-id correlation, eventual state and state parity (correlation-shadow.ts); absent: shadow copies go out as the client sent them. */
  stateful?: StatefulShadowing | undefined;
  /** `cutover record`'s tap (parity/runner/record-tap.ts); absent in normal serving. */
  tap?: RecordingTap | undefined;
  /** One entry per served request (proxy/observe/request-log.ts); absent, nothing is logged per request. */
  requestLog?: RequestLog | undefined;
}

/** One served exchange handed to a recording tap: the request as the proxy got it and the answer as captured. */
export interface TappedExchange {
  at: Date;
  route: Route;
  service: Service;
  method: string;
  path: string;
  /** Lower-case request header names → values (before any redaction: the tap redacts). */
  headers: Record<string, string>;
  body: Buffer;
  answer: SideResult;
}

/**
 * A recording tap: asked per request (it samples) whether it wants the exchange; if so the
 * request body is buffered and the answer captured while it streams, and the tap gets the
 * pair once the client has been answered. The tap must return at once (it queues).
 */
export interface RecordingTap {
  wants(route: Route): boolean;
  readonly captureLimit: number;
  submit(exchange: TappedExchange): void;
}

/** The shadowing parts of a front door, shared by its node:http path and its fast lane. */
export function shadowPartsOf(parts: FrontDoorParts): ShadowParts {
  const { service, upstreams, metrics, recorder, budget, stateful, options } = parts;
  return { service, upstreams, metrics, recorder, budget, stateful, limits: shadowLimits(options) };
}

/** Route id used in metrics and headers for requests that match no route. */
export const unknownRouteId = 'unknown';

/**
 * A bug in the proxy costs the one request it happened in, never the proxy: 500 with its code
 * when nothing was answered yet, else the connection is cut (a half answer must not look whole).
 */
function failRequest(res: ServerResponse, metrics: ProxyMetrics, service: Service, route: Route | undefined, error: unknown): void {
  metrics.internalError(service, 'serving');
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = internalErrorBody(error, route?.id ?? unknownRouteId);
  res.shouldKeepAlive = false;
  res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/**
 * node:http's server options from the proxy's transport bounds, the same the fast lane holds
 * to (node checks its connections' timeouts on its own sweep, here as often as the lane's).
 */
export function nodeServerOptions(options: CutoverConfig['proxy'], keepAliveTimeout: number): ServerOptions {
  const requestTimeout = options.requestTimeoutMs;
  // node:http refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(options.headersTimeoutMs, requestTimeout);
  const connectionsCheckingInterval = Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4)));
  // The missing Host is refused by framing.ts, as on the lane, so that what is pipelined after it is never served either.
  return { keepAliveTimeout, headersTimeout, requestTimeout, maxHeaderSize: options.maxHeaderBytes, connectionsCheckingInterval, requireHostHeader: false };
}

/**
 * A client that half-closes after sending its requests still gets them answered, then the
 * connection ends — as on the fast lane. node:http's default aborts what is in flight instead
 * (its `httpAllowHalfOpen`, false unless set), which would cut answers an upstream is already giving.
 */
export function answerHalfClosedClients(server: Server): void {
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
}

/**
 * node:http's `clientError`: what llhttp could not parse, a head over proxy.maxHeaderBytes, a
 * request not received in time. The client gets the answer the fast lane gives for the same,
 * with its code, the connection closes, and the refusal is counted.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, metrics: ProxyMetrics, service: Service): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  // Requests parsed before the bad bytes are answered first, in order, as the fast lane does; the refusal comes after them.
  // (A request whose own body is what llhttp refused never completes: its answer is not waited for.)
  const waiting = [...(openResponses.get(socket) ?? [])].find(([req, res]) => req.complete && !res.writableEnded);
  if (waiting) {
    const [req, res] = waiting;
    // Its last bytes handed to the socket ('prefinish', before node:http may end a half-closed connection), or gone ('close').
    const after = () => {
      res.off('prefinish', after);
      res.off('close', after);
      openResponses.get(socket)?.delete(req);
      answerClientError(error, socket, metrics, service);
    };
    res.once('prefinish', after);
    res.once('close', after);
    return;
  }
  let answer: string;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    metrics.refused(service, 'request_timeout');
    answer = refusalAnswer('the request was not received in time (proxy.headersTimeoutMs, proxy.requestTimeoutMs)', 'CUTOVER_ERR_REQUEST_TIMEOUT');
  } else if (error.code === 'HPE_HEADER_OVERFLOW') {
    metrics.refused(service, 'header_bytes');
    answer = refusalAnswer('the request head is larger than proxy.maxHeaderBytes', 'CUTOVER_ERR_REQUEST_HEADERS_TOO_LARGE');
  } else {
    metrics.refused(service, 'framing');
    answer = refusalAnswer(`node:http's parser refused it (${error.code ?? error.message})`);
  }
  socket.end(answer);
}

/** The answers still open on each client connection of the node:http path, so that a refusal of what follows waits for them. */
const openResponses = new WeakMap<object, Map<IncomingMessage, ServerResponse>>();

function trackOpen(req: IncomingMessage, res: ServerResponse): void {
  let open = openResponses.get(req.socket);
  if (!open) openResponses.set(req.socket, (open = new Map()));
  open.set(req, res);
  res.once('close', () => open.delete(req));
}

/** Connections whose framing was refused: requests llhttp parsed after the refused one are never served. */
const refusedConnections = new WeakSet<object>();

/**
 * The node:http path's half of framing.ts: llhttp refused what it could not parse before this
 * runs; what it let through but two parsers could read differently gets 400, and the connection
 * closes after it. Answers true when the request was refused (or follows a refused one).
 */
function refusedFraming(req: IncomingMessage, res: ServerResponse, metrics: ProxyMetrics, service: Service): boolean {
  if (refusedConnections.has(req.socket)) {
    // Pipelined behind a refused request: node:http closes the connection after the 400, this one goes unanswered.
    req.resume();
    return true;
  }
  const checked = checkFraming(req.rawHeaders, { request: true, http11: req.httpVersionMinor === 1 });
  const refused = isRefusal(checked) ? checked.refused : targetRefusal(req.url ?? '');
  if (refused === undefined) return false;
  refusedConnections.add(req.socket);
  metrics.refused(service, 'framing');
  const body = refusalBody(refused);
  res.shouldKeepAlive = false;
  res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
  req.resume();
  return true;
}

export function createFrontDoor(parts: FrontDoorParts): (req: IncomingMessage, res: ServerResponse) => void {
  const { service, catalogue, flags, upstreams, metrics, unknownTraffic, options, tap, requestLog } = parts;
  const shadowParts = shadowPartsOf(parts);
  const recordServing = (result: SideResult) => recordLatency(metrics, service, result, 'serving');

  function serve(
    route: Route | undefined,
    decision: Decision,
    request: OutgoingRequest,
    res: ServerResponse,
    captureLimit: number | undefined,
    onDone: (result: SideResult) => void,
  ): void {
    const routeId = route?.id ?? unknownRouteId;
    metrics.request(service, routeId, decision.mode, decision.serving);
    const logged = requestLog
      ? (result: SideResult) => {
          onDone(result);
          requestLog(requestLogEntry({ service, route: routeId, method: request.method, path: request.path, rawHeaders: request.headers }, decision, result));
        }
      : onDone;
    // Only a request that can be sent again (body buffered or absent) may fall back to legacy.
    const replayable = request.body === null || Buffer.isBuffer(request.body);
    const fallback = replayable && fallsBack(route, decision)
      ? (why: FallbackReason) => {
          metrics.fellBack(routeId, why);
          forward(upstreams.for(service, route, 'legacy', 'serving'), request, res, {
            side: 'legacy',
            routeId,
            timeoutMs: options.upstreamTimeoutMs,
            extraHeaders: options.exposeHeaders ? ['x-cutover-route', routeId, 'x-cutover-served-by', 'legacy', 'x-cutover-fallback', `reimpl-${why}`] : [],
            captureLimit: undefined,
            onDone: recordServing,
            onRecordFailed: () => metrics.internalError(service, 'record'),
          });
        }
      : undefined;
    forward(upstreams.for(service, route, decision.serving, 'serving'), request, res, {
      side: decision.serving,
      routeId,
      timeoutMs: options.upstreamTimeoutMs,
      extraHeaders: options.exposeHeaders ? ['x-cutover-route', routeId, 'x-cutover-served-by', decision.serving] : [],
      captureLimit,
      onDone: logged,
      onRecordFailed: () => metrics.internalError(service, 'record'),
      ...(fallback ? { fallback } : {}),
    });
  }

  /** Serves like the plain path, but with the body buffered and the answer captured for the recording tap. */
  function serveAndTap(req: IncomingMessage, res: ServerResponse, route: Route, decision: Decision, request: OutgoingRequest, recording: RecordingTap): void {
    void readRequestBody(req, options.shadow.maxRequestBodyBytes).then((body) => {
      if (body.kind === 'aborted') return;
      if (body.kind === 'too-large') {
        serve(route, decision, { ...request, body: body.stream }, res, undefined, recordServing);
        return;
      }
      const bytes = body.kind === 'buffered' ? body.bytes : Buffer.alloc(0);
      const at = new Date();
      serve(route, decision, { ...request, body: body.kind === 'buffered' ? bytes : null }, res, recording.captureLimit, (answer) => {
        recordServing(answer);
        recording.submit({ at, route, service, method: request.method, path: request.path, headers: headerMap(request.headers), body: bytes, answer });
      });
    }).catch((error: unknown) => failRequest(res, metrics, service, route, error));
  }

  function serveAndShadow(req: IncomingMessage, res: ServerResponse, route: Route, snapshot: FlagSnapshot, request: OutgoingRequest): void {
    void readRequestBody(req, options.shadow.maxRequestBodyBytes).then((body) => {
      if (body.kind === 'aborted') return;
      const bytes = body.kind === 'buffered' ? body.bytes : undefined;
      const decision = decide(route, snapshot, () =>
        stickyKey({ headers: req.headers, url: request.path, remoteAddress: req.socket.remoteAddress, body: bytes }, options.canaryKeyHeader),
      );
      if (body.kind === 'too-large') {
        metrics.dropped(route.id, 'body_too_large');
        serve(route, decision, { ...request, body: body.stream }, res, undefined, recordServing);
        return;
      }
      const replayable = { ...request, body: bytes ?? null };
      serveWithShadow(shadowParts, route, decision, replayable, (captureLimit, onDone) => serve(route, decision, replayable, res, captureLimit, onDone));
    }).catch((error: unknown) => failRequest(res, metrics, service, route, error));
  }

  return (req, res) => {
    let route: Route | undefined;
    try {
      trackOpen(req, res);
      if (refusedFraming(req, res, metrics, service)) return;
      const url = req.url ?? '/';
      const method = req.method ?? 'GET';
      route = catalogue.match(service, method, url);
      const snapshot = flags.current();
      const headers = endToEndHeaders(req.rawHeaders);
      const address = req.socket.remoteAddress;
      if (address) headers.push('x-forwarded-for', address);
      const request: OutgoingRequest = { method, path: url, headers, body: null };
      if (!route) unknownTraffic.count(service, method, url);
      if (route && needsBody(route, snapshot)) {
        serveAndShadow(req, res, route, snapshot, request);
        return;
      }
      // No shadow: the body streams straight through, nothing is buffered.
      const decision = decide(route, snapshot, () => stickyKey({ headers: req.headers, url, remoteAddress: address, body: undefined }, options.canaryKeyHeader));
      if (route && tap?.wants(route)) {
        serveAndTap(req, res, route, decision, request, tap);
        return;
      }
      request.body = hasBody(req) ? req : null;
      serve(route, decision, request, res, undefined, recordServing);
    } catch (error) {
      failRequest(res, metrics, service, route, error);
    }
  };
}
