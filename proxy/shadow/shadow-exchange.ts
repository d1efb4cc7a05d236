/**
 * One shadowed exchange, the pipeline's shadow step (pipeline/steps.ts), whichever transport
 * serves it: the serving request goes out first and its answer is captured as it
 * streams to the client; the shadow copy goes out in the same tick (to the correlated shadow
 * instance when stateful shadowing plans one), within the shadow budget; when both answers
 * are in, the pair goes to the recorder, off the request path. The serving answer never waits
 * for the copy.
 */
import type { Route, Service } from '../../flags/route-catalogue.js';
import type { CutoverConfig } from '../../src/config/schema.js';
import type { SideResult } from '../serving/capture.js';
import { isStateful, type ShadowPlan, type StatefulShadowing } from '../stateful/correlation-shadow.js';
import type { Decision, Side } from '../serving/decide.js';
import type { ReplayableRequest } from '../serving/forward.js';
import type { ProxyMetrics } from '../observe/metrics.js';
import type { ObservationRecorder } from '../observe/observation-recorder.js';
import { limitsFor, sendShadow, type ShadowBudget, type ShadowLimits } from './shadow.js';
import type { Role, Upstreams } from '../serving/upstreams.js';

export interface ShadowParts {
  service: Service;
  upstreams: Upstreams;
  metrics: ProxyMetrics;
  recorder: ObservationRecorder;
  budget: ShadowBudget;
  stateful?: StatefulShadowing | undefined;
  limits: ShadowLimits;
}

/** The proxy's bounds on a shadow copy: its timeout, and the answer bytes each side keeps for the comparison. */
export function shadowLimits(options: CutoverConfig['proxy']): ShadowParts['limits'] {
  return { timeoutMs: options.shadow.timeoutMs, captureLimit: options.shadow.maxCompareBodyBytes };
}

/** Serves the request (the rest of the pipeline), capturing the answer up to `captureLimit` when one is given; the serving outcome is recorded there. */
export type Serve = (captureLimit: number | undefined, onDone: (result: SideResult) => void) => void;

/** Upstream latency and errors by side and role, for every answer either path gets; a client's abort is the client's, not the upstream's. */
export function recordLatency(metrics: ProxyMetrics, service: Service, side: SideResult, role: Role): void {
  if (side.failure?.code === 'CUTOVER_ERR_CLIENT_ABORTED') {
    metrics.clientAborted(service);
    return;
  }
  metrics.upstreamLatency(service, side.side, role, side.latencyMs / 1000);
  if (side.failure) metrics.upstreamError(service, side.side, role, side.failure.code);
}

/** The outcome of a side whose step threw inside the proxy (a bug, counted), so that the exchange still settles. */
export function internalFailure(side: Side, error: unknown, latencyMs = 0): SideResult {
  const message = error instanceof Error ? error.message : String(error);
  return { side, status: undefined, headers: {}, body: Buffer.alloc(0), truncated: false, latencyMs, failure: { code: 'CUTOVER_ERR_PROXY_INTERNAL', message } };
}

/**
 * Serves `request` (its body buffered) and, when the decision names a shadow side and the
 * budget allows, sends the copy and records the pair. Over budget, the copy is dropped and counted.
 */
export function serveWithShadow(parts: ShadowParts, route: Route, decision: Decision, request: ReplayableRequest, serve: Serve): void {
  const shadowSide = decision.shadow;
  const denied = shadowSide === undefined ? 'none' : parts.budget.acquire(route.id);
  if (denied !== undefined) {
    if (denied !== 'none') parts.metrics.dropped(route.id, denied);
    serve(undefined, ignoreOutcome);
    return;
  }
  new ShadowedExchange(parts, route, decision, shadowSide!, request).run(serve);
}

/** The serving outcome of a request whose copy was not sent: recorded by the pipeline's record step, nothing more here. */
const ignoreOutcome = (): void => {};

/**
 * One shadowed request: both outcomes, and the plan its copy went out with. Its handlers are
 * methods, not closures made per request (this runs for every shadowed request).
 */
class ShadowedExchange {
  private readonly at = new Date();
  private readonly limits: ShadowLimits;
  private serving: SideResult | undefined;
  private shadow: SideResult | undefined;
  private plan: ShadowPlan | undefined;
  private copyDone = false;

  constructor(
    private readonly parts: ShadowParts,
    private readonly route: Route,
    private readonly decision: Decision,
    private readonly shadowSide: Side,
    private readonly request: ReplayableRequest,
  ) {
    this.limits = limitsFor(route, parts.limits);
  }

  run(serve: Serve): void {
    // Serving first so its bytes hit the wire first; the shadow copy goes out in the same tick, never after the answer.
    serve(this.limits.captureLimit, (result) => this.served(result));
    // A correlated id is usually known in memory (the copy goes out now); otherwise it waits for the persistent store, bounded.
    let planned: ReturnType<StatefulShadowing['plan']> | undefined;
    try {
      const { stateful } = this.parts;
      planned = stateful && isStateful(this.route) ? stateful.plan(this.parts.service, this.route, this.decision, this.request) : undefined;
    } catch (error) {
      this.copyFailed(error);
      return;
    }
    if (planned instanceof Promise) void planned.then((plan) => this.sendCopy(plan), () => this.sendCopy(undefined));
    else this.sendCopy(planned);
  }

  private served(result: SideResult): void {
    this.serving = result;
    this.settle();
  }

  /** A throw in the copy's steps (upstreams.for, the plan) is the copy's failure alone: the serving answer is already on its way. */
  private copyFailed(error: unknown): void {
    if (this.copyDone) return;
    this.copyDone = true;
    this.parts.metrics.internalError(this.parts.service, 'shadow');
    this.parts.budget.release(this.route.id);
    this.shadow = internalFailure(this.shadowSide, error);
    this.settle();
  }

  private sendCopy(planned: ShadowPlan | undefined): void {
    const { parts, route, shadowSide } = this;
    try {
      this.plan = planned;
      sendShadow(
        planned?.upstream ?? parts.upstreams.for(parts.service, route, shadowSide, 'shadow'),
        shadowSide,
        planned?.request ?? this.request,
        this.limits,
        (result) => this.copied(result),
        (stage) => parts.metrics.shadowTimedOut(parts.service, stage),
      );
    } catch (error) {
      this.copyFailed(error);
    }
  }

  private copied(result: SideResult): void {
    this.copyDone = true;
    this.parts.budget.release(this.route.id);
    this.shadow = result;
    try {
      recordLatency(this.parts.metrics, this.parts.service, result, 'shadow');
    } catch {
      this.parts.metrics.internalError(this.parts.service, 'shadow');
    }
    this.settle();
  }

  /** Both answers are in: the pair goes to the recorder (through stateful shadowing when the copy had a plan). */
  private settle(): void {
    const { serving, shadow, parts, plan } = this;
    if (!serving || !shadow) return;
    const { route, decision, request } = this;
    const exchange = { at: this.at, route, service: parts.service, method: request.method, path: request.path, mode: decision.mode, serving, shadow };
    try {
      if (parts.stateful && plan) parts.stateful.settle(exchange, plan, decision, parts.service, (observed) => parts.recorder.submit(observed));
      else parts.recorder.submit(exchange);
    } catch {
      // Recording is off the request path: a throw there loses this observation (counted), nothing else.
      parts.metrics.internalError(parts.service, 'record');
    }
  }
}
