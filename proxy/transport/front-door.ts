/**
 * The node:http transport of one front door: the HTTP handler of one service's proxy port. It
 * reads a request (llhttp's parse, framing.ts's stricter checks, the body when the pipeline
 * needs it whole) and forwards it over undici (serving/forward.ts); what is decided about the
 * request — route, sides, shadow copy, fallback, what is recorded — is the request pipeline's
 * (pipeline/pipeline.ts), the same the fast lane runs.
 */
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Route, Service } from '../../flags/route-catalogue.js';
import type { CutoverConfig } from '../../src/config/schema.js';
import type { ProxyMetrics } from '../observe/metrics.js';
import { streamedBody, unknownRouteId, type Forward, type Matched, type PipelineRequest } from '../pipeline/serving-call.js';
import type { RequestPipeline } from '../pipeline/pipeline.js';
import { forward, internalErrorBody, type FallbackReason } from '../serving/forward.js';
import { checkFraming, isRefusal, refusalAnswer, refusalBody, targetRefusal } from '../wire/framing.js';
import { endToEndHeaders } from '../wire/hop-by-hop.js';
import { hasBody, readRequestBody } from './request-body.js';

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

/** The node:http transport of one front door: it reads requests and moves answers; the pipeline decides everything else. */
export function createFrontDoor(pipeline: RequestPipeline): (req: IncomingMessage, res: ServerResponse) => void {
  const { service, metrics, options } = pipeline.parts;

  /** The transport's innermost step: the call's request to its upstream over undici, the answer streamed to `res`. */
  function forwardTo(res: ServerResponse, stream: IncomingMessage | AsyncIterable<Buffer> | null): Forward {
    const send: Forward = (call) => {
      const fallback = call.fallback;
      forward(call.upstream, { ...call.request, body: call.request.body === streamedBody ? stream : call.request.body }, res, {
        side: call.side,
        routeId: call.routeId,
        timeoutMs: options.upstreamTimeoutMs,
        extraHeaders: call.answerHeaders,
        captureLimit: call.captureLimit,
        onDone: call.onDone,
        onRecordFailed: () => metrics.internalError(service, 'record'),
        ...(fallback ? { fallback: (why: FallbackReason) => send(fallback(why)) } : {}),
      });
    };
    return send;
  }

  /** A request whose body the pipeline needs whole (a canary's key, a shadow copy, the tap): read first, up to the shadow limit; past it, streamed. */
  function readThenServe(req: IncomingMessage, res: ServerResponse, matched: Matched, request: PipelineRequest): void {
    void readRequestBody(req, options.shadow.maxRequestBodyBytes).then((body) => {
      if (body.kind === 'aborted') return;
      const bytes = body.kind === 'buffered' ? body.bytes : undefined;
      const decided = pipeline.decide(matched, bytes);
      if (body.kind === 'too-large') {
        pipeline.dispatch(matched, decided, { ...request, body: streamedBody }, forwardTo(res, body.stream));
        return;
      }
      pipeline.dispatch(matched, decided, { ...request, body: bytes ?? null }, forwardTo(res, null));
    }).catch((error: unknown) => failRequest(res, metrics, service, matched.route, error));
  }

  return (req, res) => {
    let route: Route | undefined;
    try {
      trackOpen(req, res);
      if (refusedFraming(req, res, metrics, service)) return;
      const address = req.socket.remoteAddress;
      const matched = pipeline.match({ method: req.method ?? 'GET', target: req.url ?? '/', rawHeaders: req.rawHeaders, remoteAddress: address });
      route = matched.route;
      const headers = endToEndHeaders(req.rawHeaders);
      if (address) headers.push('x-forwarded-for', address);
      const request: PipelineRequest = { method: matched.head.method, path: matched.head.target, headers, body: null };
      if (matched.needsBody || matched.tapped) {
        readThenServe(req, res, matched, request);
        return;
      }
      // Nothing needs the body: it streams straight through, nothing is buffered.
      const streamed = hasBody(req);
      pipeline.dispatch(matched, pipeline.decide(matched, undefined), { ...request, body: streamed ? streamedBody : null }, forwardTo(res, streamed ? req : null));
    } catch (error) {
      failRequest(res, metrics, service, route, error);
    }
  };
}
