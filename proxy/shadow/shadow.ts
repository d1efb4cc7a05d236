/**
 * Where the shadow copy is sent: concurrently with the serving request, under a hard timeout
 * and a concurrency budget (per route and in total). Over budget a copy is dropped and
 * counted, never queued. Its answer is read to its end, or its connection is dropped, so no
 * pooled connection is left holding an unread body; nothing it does reaches the client.
 */
import { BodyCapture, classifyFailure, failedAfter, headerMap, type SideResult, type UpstreamFailure } from '../serving/capture.js';
import type { Side } from '../serving/decide.js';
import type { ReplayableRequest } from '../serving/forward.js';
import type { Upstream } from '../serving/upstreams.js';
import { sameName } from '../wire/hop-by-hop.js';
import { BodyEnd, incomplete, idempotentMethods, ResponseHeadReader, serializeHead, type ChunkData, type ResponseHead } from '../wire/http1.js';
import type { PooledSocket, PoolWaiter, SocketUser } from '../wire/socket-pool.js';
import type { Route } from '../../flags/route-catalogue.js';
import { CutoverError } from '../../src/errors.js';


/** The capture bound of a route's shadowed answers: its own when the catalogue gives one, the proxy's otherwise. */
export function limitsFor(route: Pick<Route, 'captureBytes'>, limits: ShadowLimits): ShadowLimits {
  return route.captureBytes === undefined ? limits : { ...limits, captureLimit: route.captureBytes };
}

/** Why a shadow copy was not sent; the label of cutover_proxy_shadow_dropped_total. */
export type DropReason = 'route_budget' | 'total_budget' | 'body_too_large' | 'queue_full' | 'queue_bytes';

/** In-flight shadow copies, per route and in total. */
export class ShadowBudget {
  private total = 0;
  private readonly perRoute = new Map<string, number>();

  constructor(
    private readonly perRouteLimit: number,
    private readonly totalLimit: number,
  ) {}

  /** Takes a slot, or says which budget is exhausted. */
  acquire(routeId: string): DropReason | undefined {
    if (this.total >= this.totalLimit) return 'total_budget';
    const current = this.perRoute.get(routeId) ?? 0;
    if (current >= this.perRouteLimit) return 'route_budget';
    this.total++;
    this.perRoute.set(routeId, current + 1);
    return undefined;
  }

  release(routeId: string): void {
    this.total--;
    const current = this.perRoute.get(routeId) ?? 1;
    if (current <= 1) this.perRoute.delete(routeId);
    else this.perRoute.set(routeId, current - 1);
  }

  get inFlight(): number {
    return this.total;
  }
}

/** Where a shadow copy was when its timeout fired: still waiting for a connection inside the client, or sent. */
export type TimeoutStage = 'queued' | 'in_flight';

export interface ShadowLimits {
  timeoutMs: number;
  captureLimit: number;
}

/** Methods whose request undici (and so the node:http path's copies before) frames with `content-length: 0` when they carry no body. */
const expectsPayload = new Set(['POST', 'PUT', 'PATCH']);

/**
 * One shadow copy on the shadow pool's raw keep-alive connections (wire/socket-pool.ts), as
 * the fast lane sends its serving requests: the head written by the proxy, the answer read by
 * the lane's strict parser (wire/http1.ts), its body captured up to the bound. undici's
 * dispatch, its parser and its per-request timers were about a sixth of the CPU a shadowed
 * request cost the proxy (decision 0042).
 *
 * At the timeout the copy is aborted for real: sent, its connection is destroyed; still waiting
 * for a connection, it is answered at once and the connection it is later given goes straight
 * back, before a byte is written, so a timed-out copy never reaches the shadow side late.
 */
class ShadowCopy implements SocketUser, PoolWaiter {
  private readonly capture: BodyCapture;
  readonly started = performance.now();
  private readonly deadlines: Deadlines;
  /** When the copy is given up (performance.now()), and its neighbours among the copies in flight with its timeout. */
  deadline = 0;
  previous: ShadowCopy | undefined;
  next: ShadowCopy | undefined;
  private readonly head: Buffer;
  private pooled: PooledSocket | undefined;
  private retried = false;
  private response: ResponseHead | undefined;
  private responseEnd: BodyEnd | undefined;
  private headReader: ResponseHeadReader | undefined;
  /** Hands a chunked answer's payload to the capture; made only for a chunked answer. */
  private payload: ChunkData | undefined;
  private done = false;

  constructor(
    private readonly upstream: Upstream,
    private readonly side: Side,
    private readonly request: ReplayableRequest,
    private readonly limits: ShadowLimits,
    private readonly resolve: (result: SideResult) => void,
    private readonly timedOut: ((stage: TimeoutStage) => void) | undefined,
  ) {
    this.capture = new BodyCapture(limits.captureLimit);
    this.head = copyHead(request, upstream.origin);
    this.deadlines = deadlinesFor(limits.timeoutMs);
    this.deadlines.add(this);
  }

  start(): void {
    this.upstream.sockets.acquire(this);
  }

  /** The pool's answer (PoolWaiter): a connection, or why there is none. A copy already over gives it straight back. */
  acquired(error: Error | undefined, pooled: PooledSocket | undefined): void {
    if (this.done) {
      if (pooled) this.upstream.sockets.release(pooled);
      return;
    }
    if (error || !pooled) {
      this.finish(classifyFailure(error), undefined);
      return;
    }
    this.pooled = pooled;
    pooled.user = this;
    const { socket } = pooled;
    const { body } = this.request;
    if (body && body.length > 0) {
      socket.cork();
      socket.write(this.head);
      socket.write(body);
      socket.uncork();
    } else {
      socket.write(this.head);
    }
  }

  /** Its deadline passed (Deadlines): aborted, wherever it is. */
  expire(): void {
    if (this.done) return;
    const error = new CutoverError('CUTOVER_ERR_SHADOW_TIMEOUT', `shadow copy took longer than ${this.limits.timeoutMs} ms (proxy.shadow.timeoutMs); aborted`);
    this.timedOut?.(this.pooled ? 'in_flight' : 'queued');
    this.finish(classifyFailure(error), false);
  }

  onData(chunk: Buffer): void {
    if (this.done) return;
    try {
      this.read(chunk);
    } catch (error) {
      // The lane's chunk framer throws on broken framing: the shadow side's answer is malformed.
      this.finish({ code: 'CUTOVER_ERR_UPSTREAM_MALFORMED', message: `the ${this.side} shadow upstream's chunk framing is broken: ${(error as Error).message}` }, false);
    }
  }

  private read(chunk: Buffer): void {
    let offset = 0;
    if (!this.response) {
      const head = (this.headReader ??= new ResponseHeadReader(this.request.method)).read(chunk);
      if (head === incomplete) return;
      if (typeof head === 'string') {
        this.finish({ code: 'CUTOVER_ERR_UPSTREAM_MALFORMED', message: `the ${this.side} shadow upstream ${head}` }, false);
        return;
      }
      this.response = head;
      this.responseEnd = new BodyEnd(head.framing);
      if (head.framing.kind === 'chunked') this.payload = (data, from, to) => this.capture.add(data.subarray(from, to));
      chunk = this.headReader.buffer;
      offset = this.headReader.bodyStart;
      // An answer whose Content-Length passes the bound is cut at once: the comparison would not
      // read its body anyway (compare.max-body), and reading 4 MiB of a 64 MiB answer first, a
      // copy in nine in the reliability run's garbage phase, took the serving p99 there to 16.6 ms.
      if (head.framing.kind === 'length' && head.framing.length > this.limits.captureLimit) {
        this.capture.add(chunk.subarray(offset));
        this.capture.cut();
        this.finish(undefined, false);
        return;
      }
    }
    const end = this.responseEnd!;
    const taken = end.take(chunk, offset, this.payload);
    if (taken > 0 && !this.payload) this.capture.add(offset === 0 && taken === chunk.length ? chunk : chunk.subarray(offset, offset + taken));
    // Past the bound nothing more is compared: the copy ends here (truncated) and its connection
    // is destroyed rather than read to the end, which for a huge body (64 MiB at a few copies a
    // second in the reliability run) cost the serving answers on this event loop 40x their p50.
    if (this.capture.truncated) this.finish(undefined, false);
    // Bytes after the answer's end are no answer to this copy: the connection is not used again.
    else if (end.complete) this.finish(undefined, this.response!.reusable && offset + taken === chunk.length);
  }

  onEnd(): void {
    if (!this.done && this.response?.framing.kind === 'until-close') this.finish(undefined, false);
  }

  onClose(): void {
    if (this.done) return;
    if (this.response?.framing.kind === 'until-close') {
      this.finish(undefined, false);
      return;
    }
    this.failOrRetry(Object.assign(new Error(`the ${this.side} shadow upstream closed the connection before the answer was complete`), { code: 'ECONNRESET' }));
  }

  onError(error: Error): void {
    if (!this.done) this.failOrRetry(error);
  }

  onTimeout(): void {
    // The connection's inactivity timeout (proxy.upstreamTimeoutMs) is the serving answers' bound: a copy has its own, from send to last byte.
  }

  onDrain(): void {
    // The copy's body is written whole at once: there is nothing to resume.
  }

  /**
   * A kept-alive connection the shadow side closed just as it was reused fails before any
   * answer byte: an idempotent copy without a body goes once more on a new connection, as the
   * lane's serving requests do; anything else is the copy's failure.
   */
  private failOrRetry(error: Error): void {
    const pooled = this.pooled;
    const untouched = !this.response && !this.headReader?.started;
    const { method, body } = this.request;
    if (pooled?.reused && !this.retried && untouched && idempotentMethods.has(method) && !(body && body.length > 0)) {
      this.retried = true;
      this.pooled = undefined;
      this.upstream.sockets.discard(pooled);
      this.start();
      return;
    }
    this.finish(classifyFailure(error), false);
  }

  /** Settles the copy once: its connection back to the pool when `reuse`, else dropped; the result to the exchange. */
  private finish(failure: UpstreamFailure | undefined, reuse: boolean | undefined): void {
    if (this.done) return;
    this.done = true;
    this.deadlines.remove(this);
    const pooled = this.pooled;
    if (pooled) {
      this.pooled = undefined;
      if (reuse) this.upstream.sockets.release(pooled);
      else this.upstream.sockets.discard(pooled);
    }
    const status = this.response?.status;
    const result: SideResult = {
      side: this.side,
      status: failure ? undefined : status,
      failure: failedAfter(failure, status),
      headers: this.response ? headerMap(this.response.rawHeaders) : {},
      body: this.capture.bytes(),
      truncated: this.capture.truncated,
      latencyMs: performance.now() - this.started,
    };
    try {
      this.resolve(result);
    } catch {
      // This runs inside a socket's events or the deadline timer: a throw from the exchange's
      // steps (which count their own, shadow-exchange.ts) must not reach those emitters and end the process.
    }
  }
}

/**
 * The copies in flight with one timeout, oldest first, linked through the copies themselves:
 * one timer for all of them, armed for the oldest's deadline. A setTimeout per copy (its
 * Timeout, its unref, its clear) was about 1% of a shadowed request's CPU; here a copy is
 * linked when sent and unlinked when it settles, and the timer fires about once per timeout
 * while copies flow, each time giving up those whose deadline passed.
 */
class Deadlines {
  private oldest: ShadowCopy | undefined;
  private newest: ShadowCopy | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  add(copy: ShadowCopy): void {
    // From the copy's own start: one clock read per copy, not two.
    copy.deadline = copy.started + this.timeoutMs;
    copy.previous = this.newest;
    if (this.newest) this.newest.next = copy;
    else this.oldest = copy;
    this.newest = copy;
    if (!this.timer) this.arm();
  }

  remove(copy: ShadowCopy): void {
    if (copy.previous) copy.previous.next = copy.next;
    else if (this.oldest === copy) this.oldest = copy.next;
    else return; // not linked (already removed)
    if (copy.next) copy.next.previous = copy.previous;
    else this.newest = copy.previous;
    copy.previous = copy.next = undefined;
  }

  private arm(): void {
    if (!this.oldest) return;
    // Timers fire on a millisecond clock: at least 1 ms on, so one due a fraction early is not re-armed at 0 in a loop.
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(this.oldest.deadline - performance.now())));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    for (let copy = this.oldest; copy && copy.deadline <= now; copy = this.oldest) {
      this.remove(copy);
      copy.expire();
    }
    this.arm();
  };
}

/** One deadline list per timeout value (the proxy's `proxy.shadow.timeoutMs`; tests run proxies with others in one process). */
const deadlineLists = new Map<number, Deadlines>();

function deadlinesFor(timeoutMs: number): Deadlines {
  let list = deadlineLists.get(timeoutMs);
  if (!list) deadlineLists.set(timeoutMs, (list = new Deadlines(timeoutMs)));
  return list;
}

/**
 * The copy's head: the request's end-to-end headers as they came, framed by the proxy — its
 * own Content-Length for the buffered body (a client's Transfer-Encoding never reaches here:
 * it is hop-by-hop), and, as undici wrote them before, `content-length: 0` on a bodiless POST,
 * PUT or PATCH and the upstream's Host when the request has none (a poll's, a test's).
 */
function copyHead(request: ReplayableRequest, origin: string): Buffer {
  const length = request.body?.length ?? 0;
  const headers: string[] = [];
  let framed = false;
  let host = false;
  const raw = request.headers;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (sameName(name, 'content-length')) {
      framed = true;
      headers.push(name, String(length));
      continue;
    }
    if (sameName(name, 'transfer-encoding')) continue;
    if (sameName(name, 'host')) host = true;
    headers.push(name, raw[i + 1]!);
  }
  if (!host) headers.unshift('host', origin.slice(origin.indexOf('//') + 2));
  if (!framed && (length > 0 || expectsPayload.has(request.method))) headers.push('content-length', String(length));
  return serializeHead(`${request.method} ${request.path} HTTP/1.1`, headers);
}

/** Sends the shadow copy; calls back once with its result (never throws), and `onTimeout` when it was aborted. */
export function sendShadow(
  upstream: Upstream,
  side: Side,
  request: ReplayableRequest,
  limits: ShadowLimits,
  onDone: (result: SideResult) => void,
  onTimeout?: (stage: TimeoutStage) => void,
): void {
  const copy = new ShadowCopy(upstream, side, request, limits, onDone, onTimeout);
  try {
    copy.start();
  } catch (error) {
    copy.onError(error as Error);
  }
}
