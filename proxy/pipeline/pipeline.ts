/**
 * The one request pipeline both front-door transports run (decision 0028): match → decide →
 * capture → forward → shadow → record. A transport (transport/front-door.ts for node:http,
 * transport/fast-lane.ts for raw sockets) reads a request's head and body and moves the
 * answer's bytes; everything decided about the request is decided here, once, the same way.
 *
 * `match` and `decide` run before the transport commits (the fast lane may still hand the
 * connection to node:http after them); `dispatch` then runs the composed steps of steps.ts,
 * outermost first, down to the transport's own `Forward`, undici's interceptor shape:
 * `(next: Dispatch) => Dispatch`.
 */
import { flagFor } from '../../flags/flag.js';
import { requestIdOf } from '../observe/request-log.js';
import { stickyKey } from '../serving/canary.js';
import { headerMap } from '../serving/capture.js';
import { decide, needsBody } from '../serving/decide.js';
import { modeMayFallBack, routeFallsBack } from '../serving/fallback.js';
import { shadowLimits, type ShadowParts } from '../shadow/shadow-exchange.js';
import { unknownRouteId, type Decided, type Dispatch, type FrontDoorParts, type IncomingHead, type Matched, type PipelineRequest, type Forward, type Step } from './serving-call.js';
import { countRequest, fallBackToLegacy, recordServing, shadowCopy, tapExchange } from './steps.js';

export interface RequestPipeline {
  readonly parts: FrontDoorParts;
  /** match: the route and its flags. Counts nothing: a transport may still hand the request on. */
  match(head: IncomingHead): Matched;
  /** decide: the sides (a canary keys on `body` when given) and the serving upstream; throws when none is configured. */
  decide(matched: Matched, body: Buffer | undefined): Decided;
  /** capture → forward → shadow → record, ending in the transport's `forward`. */
  dispatch(matched: Matched, decided: Decided, request: PipelineRequest, forward: Forward): void;
}

/** The outermost onDone: the steps inside hear the outcome; nothing is left to do with it here. */
const settled = (): void => {};

/** The shadowing parts of a front door. */
export function shadowPartsOf(parts: FrontDoorParts): ShadowParts {
  const { service, upstreams, metrics, recorder, budget, stateful, options } = parts;
  return { service, upstreams, metrics, recorder, budget, stateful, limits: shadowLimits(options) };
}

/** Applies `steps` around `inner`, the first step outermost. */
export function compose(steps: readonly Step[], inner: Dispatch): Dispatch {
  return steps.reduceRight<Dispatch>((next, step) => step(next), inner);
}

/** The pipeline of one front door. */
export function createPipeline(parts: FrontDoorParts): RequestPipeline {
  const { service, catalogue, flags, upstreams, options, tap } = parts;
  const shadow = shadowPartsOf(parts);
  // Outermost first: what is counted of every request, the tap, the shadow copy beside the serving call, the fallback, the record of the serving outcome.
  const steps: readonly Step[] = [countRequest(parts), tapExchange(parts), shadowCopy(shadow), fallBackToLegacy(parts), recordServing(parts)];
  // Composed once per door, not per request (it is the lane's hot path): the chain ends in the transport's Forward the call carries.
  const chain = compose(steps, (call) => call.forward(call));
  return {
    parts,
    match(head) {
      const route = catalogue.match(service, head.method, head.target);
      const snapshot = flags.current();
      return {
        head,
        route,
        routeId: route?.id ?? unknownRouteId,
        snapshot,
        needsBody: needsBody(route, snapshot),
        tapped: route !== undefined && tap?.wants(route) === true,
        mayFallBack: route !== undefined && !snapshot.killSwitch && modeMayFallBack(flagFor(snapshot, route.id).mode) && routeFallsBack(route),
      };
    },
    decide(matched, body) {
      const { head, route, snapshot } = matched;
      const decision = decide(
        route,
        snapshot,
        () => stickyKey({ headers: headerMap(head.rawHeaders), url: head.target, remoteAddress: head.remoteAddress, body }, options.canaryKeyHeader),
        // A sampled route's shadow is decided by the request's id (x-request-id), the same on every instance.
        () => requestIdOf(head.rawHeaders),
      );
      return { decision, upstream: upstreams.for(service, route, decision.serving, 'serving') };
    },
    dispatch(matched, decided, request, forward) {
      const { route, routeId } = matched;
      const { decision, upstream } = decided;
      chain({
        route,
        routeId,
        decision,
        side: decision.serving,
        upstream,
        request,
        tapped: matched.tapped,
        answerHeaders: options.exposeHeaders ? ['x-cutover-route', routeId, 'x-cutover-served-by', decision.serving] : [],
        captureLimit: undefined,
        onDone: settled,
        forward,
      });
    },
  };
}
