/**
 * Where the shadow copy is sent: concurrently with the serving request, under a hard timeout
 * and a concurrency budget (per route and in total). Over budget a copy is dropped and
 * counted, never queued. Its answer is always read to the end (or aborted) so no pooled
 * connection is left holding an unread body, and nothing it does reaches the client.
 */
import type { Dispatcher } from 'undici';
import { BodyCapture, classifyFailure, failedAfter, headerMap, type SideResult } from '../serving/capture.js';
import type { Side } from '../serving/decide.js';
import type { OutgoingRequest } from '../serving/forward.js';
import type { Upstream } from '../serving/upstreams.js';
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

/**
 * Reads one shadow answer. At the timeout the copy is aborted for real: sent, its connection
 * is destroyed (undici's abort); still queued inside the pool, it is aborted the moment undici
 * hands it a connection, before a byte is written, so a timed-out copy never reaches the
 * shadow side late (undici has no way to take a request out of its queue).
 */
class ShadowHandler implements Dispatcher.DispatchHandler {
  private abort: ((error?: Error) => void) | undefined;
  private timedOut: Error | undefined;
  private status: number | undefined;
  private headers: Record<string, string> = {};
  private readonly capture: BodyCapture;
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout;
  private done = false;

  constructor(
    private readonly side: Side,
    limits: ShadowLimits,
    private readonly resolve: (result: SideResult) => void,
    onTimeout: ((stage: TimeoutStage) => void) | undefined,
  ) {
    this.capture = new BodyCapture(limits.captureLimit);
    this.timer = setTimeout(() => {
      const error = new CutoverError('CUTOVER_ERR_SHADOW_TIMEOUT', `shadow copy took longer than ${limits.timeoutMs} ms (proxy.shadow.timeoutMs); aborted`);
      this.timedOut = error;
      onTimeout?.(this.abort ? 'in_flight' : 'queued');
      if (this.abort) this.abort(error);
      else this.onError(error);
    }, limits.timeoutMs);
    this.timer.unref();
  }

  onConnect(abort: (error?: Error) => void): void {
    if (this.timedOut) {
      abort(this.timedOut);
      return;
    }
    this.abort = abort;
  }

  onHeaders(status: number, rawHeaders: Buffer[]): boolean {
    if (status < 200) return true;
    this.status = status;
    this.headers = headerMap(rawHeaders);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.capture.add(chunk);
    // Past the bound nothing more is compared: the copy ends here (truncated) and its connection
    // is destroyed rather than read to the end, which for a huge body (64 MiB at a few copies a
    // second in the reliability run) cost the serving answers on this event loop 40x their p50.
    if (this.capture.truncated && this.abort) {
      this.finish(undefined);
      this.abort();
    }
    return true;
  }

  onComplete(): void {
    this.finish(undefined);
  }

  onError(error: Error): void {
    this.finish(classifyFailure(error));
  }

  private finish(failure: SideResult['failure']): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.resolve({
      side: this.side,
      status: failure ? undefined : this.status,
      failure: failedAfter(failure, this.status),
      headers: this.headers,
      body: this.capture.bytes(),
      truncated: this.capture.truncated,
      latencyMs: performance.now() - this.started,
    });
  }
}

/** Sends the shadow copy; calls back once with its result (never throws, never rejects), and `onTimeout` when it was aborted. */
export function sendShadow(
  upstream: Upstream,
  side: Side,
  request: OutgoingRequest & { body: Buffer | null },
  limits: ShadowLimits,
  onDone: (result: SideResult) => void,
  onTimeout?: (stage: TimeoutStage) => void,
): void {
  const handler = new ShadowHandler(side, limits, onDone, onTimeout);
  try {
    upstream.pool.dispatch(
      {
        origin: upstream.origin,
        method: request.method as Dispatcher.HttpMethod,
        path: request.path,
        headers: request.headers,
        body: request.body,
        headersTimeout: limits.timeoutMs,
        bodyTimeout: limits.timeoutMs,
      },
      handler,
    );
  } catch (error) {
    handler.onError(error as Error);
  }
}
