/**
 * What the request pipeline (pipeline.ts) and its transports pass each other: a front door's
 * parts, a request's head as read, what `match` and `decide` settled, and the serving call
 * each step hands down to the transport's `Forward`.
 */
import type { FlagSnapshot, FlagSource } from '../../flags/flag.js';
import type { Route, RouteCatalogue, Service } from '../../flags/route-catalogue.js';
import type { CutoverConfig } from '../../src/config/schema.js';
import type { ProxyMetrics } from '../observe/metrics.js';
import type { ObservationRecorder } from '../observe/observation-recorder.js';
import type { RequestLog } from '../observe/request-log.js';
import type { UnknownTrafficRecorder } from '../observe/unknown-traffic-recorder.js';
import type { SideResult } from '../serving/capture.js';
import type { Decision, Side } from '../serving/decide.js';
import type { FallbackReason } from '../serving/forward.js';
import type { Upstream, Upstreams } from '../serving/upstreams.js';
import type { ShadowBudget } from '../shadow/shadow.js';
import type { StatefulShadowing } from '../stateful/correlation-shadow.js';

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

/** Route id used in metrics and headers for requests that match no route. */
export const unknownRouteId = 'unknown';

/** A request's head as a transport read it. */
export interface IncomingHead {
  method: string;
  /** Path and query, exactly as the client sent them. */
  target: string;
  /** Flat [name, value, ...] as received, hop-by-hop headers included. */
  rawHeaders: readonly string[];
  remoteAddress: string | undefined;
}

/** What `match` found: the route, the flags it is decided by, and what the rest of the pipeline needs from the transport. */
export interface Matched {
  head: IncomingHead;
  route: Route | undefined;
  routeId: string;
  snapshot: FlagSnapshot;
  /** The body must be read whole before `decide`: a canary may key on it, a shadow copy replays it. */
  needsBody: boolean;
  /** `cutover record`'s tap wants this exchange: its body buffered, its answer captured. */
  tapped: boolean;
  /** The reimplementation may serve with a fallback to legacy, which answers the client a second time from the start. */
  mayFallBack: boolean;
}

/** What `decide` settled: the sides, and the serving upstream. */
export interface Decided {
  decision: Decision;
  upstream: Upstream;
}

/** The body of a request the transport streams through itself (not buffered, so neither replayed nor shadowed). */
export const streamedBody = Symbol('streamed by the transport');

/** The request as it goes upstream: end-to-end headers (and x-forwarded-for), the body buffered, absent or streamed by the transport. */
export interface PipelineRequest {
  method: string;
  path: string;
  headers: string[];
  body: Buffer | null | typeof streamedBody;
}

/** A request whose body is buffered (or absent), so it can be sent twice. */
export type Replayable = PipelineRequest & { body: Buffer | null };

export function isReplayable(request: PipelineRequest): request is Replayable {
  return request.body !== streamedBody;
}

/** One serving call down the chain: where it goes, what is kept of its answer, and who hears the outcome. */
export interface ServingCall {
  route: Route | undefined;
  routeId: string;
  decision: Decision;
  side: Side;
  upstream: Upstream;
  request: PipelineRequest;
  /** `cutover record`'s tap wants this exchange (Matched.tapped). */
  tapped: boolean;
  /** Headers the transport adds to the answer (x-cutover-*), flat. */
  answerHeaders: readonly string[];
  /** When set, the answer's body is kept up to this many bytes for the comparison or the tap. */
  captureLimit: number | undefined;
  /**
   * When set, the transport may, on a failure before the client got anything (connection
   * error, timeout before headers, 5xx), serve the client with the call this returns instead.
   */
  fallback?: ((why: FallbackReason) => ServingCall) | undefined;
  /** Called once, with the serving side's outcome. */
  onDone: (result: SideResult) => void;
  /** The transport's own step, where the chain ends: it moves the bytes. */
  forward: Forward;
}

/** A transport's innermost step: move the request's bytes to `call.upstream` and the answer's to the client. */
export type Forward = (call: ServingCall) => void;
export type Dispatch = Forward;
/** One step of the pipeline, undici's interceptor shape. */
export type Step = (next: Dispatch) => Dispatch;
