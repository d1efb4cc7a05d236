/**
 * The steps of the request pipeline (pipeline.ts), each `(next) => (call) => …`, in the order
 * they are composed: count the request, hand a tapped exchange to `cutover record`, send the
 * shadow copy beside the serving call, let a failing reimplementation fall back to legacy,
 * record the serving outcome. None of them moves a byte: that is the transport's `Forward`.
 */
import { requestLogEntry } from '../observe/request-log.js';
import { headerMap } from '../serving/capture.js';
import { fallsBack } from '../serving/fallback.js';
import { recordLatency, serveWithShadow, type ShadowParts } from '../shadow/shadow-exchange.js';
import type { SideResult } from '../serving/capture.js';
import { isReplayable, type FrontDoorParts, type ServingCall, type Step } from './serving-call.js';

const empty = Buffer.alloc(0);

/** Failures of the client's own request (its head or body late, its chunk framing broken): counted as refusals by the transport, not as the upstream's. */
const refusedByProxy = new Set(['CUTOVER_ERR_REQUEST_HEADERS_TIMEOUT', 'CUTOVER_ERR_REQUEST_TIMEOUT', 'CUTOVER_ERR_REQUEST_MALFORMED']);

/** Every request is counted by route, mode and serving side; one that matched no route is counted as unknown traffic for the report. */
export function countRequest(parts: FrontDoorParts): Step {
  const { metrics, service, unknownTraffic } = parts;
  return (next) => (call) => {
    metrics.request(service, call.routeId, call.decision.mode, call.decision.serving);
    if (!call.route) unknownTraffic.count(service, call.request.method, call.request.path);
    next(call);
  };
}

/**
 * `cutover record`'s tap: the answer of a tapped exchange is captured while it streams and
 * handed to the tap with the buffered request once the client has it. A shadowed exchange, or
 * one whose body was too large to buffer, is not tapped.
 */
export function tapExchange(parts: FrontDoorParts): Step {
  const { tap, service } = parts;
  return (next) => (call) => {
    const { route, request } = call;
    if (!tap || !call.tapped || !route || call.decision.shadow !== undefined || !isReplayable(request)) {
      next(call);
      return;
    }
    const at = new Date();
    const body = request.body ?? empty;
    next({
      ...call,
      captureLimit: tap.captureLimit,
      onDone: (answer) => {
        call.onDone(answer);
        tap.submit({ at, route, service, method: request.method, path: request.path, headers: headerMap(request.headers), body, answer });
      },
    });
  };
}

/**
 * The shadow copy (shadow-exchange.ts): when the decision names a shadow side, the serving
 * call goes on with its answer captured and the copy goes out in the same tick, within the
 * budget. A body the transport streams (too large to buffer) cannot be copied: dropped and counted.
 */
export function shadowCopy(parts: ShadowParts): Step {
  return (next) => (call) => {
    const { route, decision, request } = call;
    // A copy the route's sample left out is counted, never silent (the report shows them).
    if (route && decision.sampledOut) {
      parts.metrics.sampledOut(route.id);
      parts.recorder.sampledOut(route.id);
    }
    if (!route || decision.shadow === undefined) {
      next(call);
      return;
    }
    if (!isReplayable(request)) {
      parts.metrics.dropped(route.id, 'body_too_large');
      next(call);
      return;
    }
    serveWithShadow(parts, route, decision, request, (captureLimit, onDone) => next({ ...call, captureLimit, onDone: both(onDone, call.onDone) }));
  };
}

/**
 * Fallback to legacy (serving/fallback.ts): a replayable request the reimplementation serves
 * on a route that allows it carries the legacy call the transport makes when the
 * reimplementation fails before answering; that call is counted and recorded as serving.
 */
export function fallBackToLegacy(parts: FrontDoorParts): Step {
  const { metrics, service, upstreams, options } = parts;
  return (next) => (call) => {
    if (!isReplayable(call.request) || !fallsBack(call.route, call.decision)) {
      next(call);
      return;
    }
    next({
      ...call,
      fallback: (why) => {
        metrics.fellBack(call.routeId, why);
        return {
          ...call,
          side: 'legacy',
          upstream: upstreams.for(service, call.route, 'legacy', 'serving'),
          answerHeaders: options.exposeHeaders ? ['x-cutover-route', call.routeId, 'x-cutover-served-by', 'legacy', 'x-cutover-fallback', `reimpl-${why}`] : [],
          captureLimit: undefined,
          fallback: undefined,
          onDone: (result) => recordLatency(metrics, service, result, 'serving'),
        };
      },
    });
  };
}

/** The serving outcome: upstream latency and errors by side (a client's abort is the client's), and the request log's entry. */
export function recordServing(parts: FrontDoorParts): Step {
  return (next) => (call) => next({ ...call, onDone: servingRecord(parts, call) });
}

// The two functions below return their arrows rather than naming them in an object literal: tsx
// names every function a property or a const names, at 0.7 µs a closure, and these are made for
// every request (decision 0041).

function servingRecord(parts: FrontDoorParts, call: ServingCall): (result: SideResult) => void {
  const { metrics, service, requestLog } = parts;
  return (result) => {
    if (!result.failure || !refusedByProxy.has(result.failure.code)) recordLatency(metrics, service, result, 'serving');
    call.onDone(result);
    if (requestLog) requestLog(requestLogEntry({ service, route: call.routeId, method: call.request.method, path: call.request.path, rawHeaders: call.request.headers }, call.decision, result));
  };
}

function both(first: (result: SideResult) => void, second: (result: SideResult) => void): (result: SideResult) => void {
  return (result) => {
    first(result);
    second(result);
  };
}
