/**
 * The proxy's Prometheus metrics (prom-client), in their own registry so the admin server can
 * mount it on :8009/metrics next to its own (`Registry.merge`). Names follow the Prometheus
 * conventions: `cutover_` prefix, base units (`_seconds`), counters end in `_total`, enum
 * states as one 0/1 gauge series per state. Label children are cached: the request path
 * must not hash label sets per request.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { HotCounter, HotHistogram, SeriesByLabels } from './hot-metrics.js';
import { flagFor, flagModes, type FlagSource } from '../../flags/flag.js';
import type { RouteCatalogue } from '../../flags/route-catalogue.js';
import type { Verdict } from '../shadow/compare.js';
import type { Side } from '../serving/decide.js';
import type { DropReason, TimeoutStage } from '../shadow/shadow.js';
import type { Role } from '../serving/upstreams.js';

/** Seconds; from a fast in-memory route (~0.5 ms) to a slow export (30 s). */
const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface ProxyMetrics {
  readonly registry: Registry;
  request(service: string, routeId: string, mode: string, servedBy: Side): void;
  upstreamLatency(service: string, side: Side, role: Role, seconds: number): void;
  upstreamError(service: string, side: Side, role: Role, code: string): void;
  verdict(routeId: string, verdict: Verdict): void;
  /** A compared side's answer failed (error or 5xx), by its class in the failure taxonomy (gate/failure-taxonomy.ts). */
  failure(routeId: string, side: Side, failureCode: string): void;
  dropped(routeId: string, reason: DropReason): void;
  observationWriteFailed(count: number): void;
  /** A shadow copy (or an eventual-state poll's read) aborted at its timeout, by where it was then. */
  shadowTimedOut(service: string, stage: TimeoutStage): void;
  /** A client request the proxy refused itself (never sent upstream), by why. */
  refused(service: string, reason: RefusalReason): void;
  /** A request the reimplementation failed while serving, answered by legacy instead (proxy/serving/fallback.ts). */
  fellBack(routeId: string, reason: string): void;
  /** A request its route's flag would shadow, left without a copy by the route's `sample`. */
  sampledOut(routeId: string): void;
  /** A step of the proxy threw; the request it happened in was answered 500 (or cut), the proxy stayed up. */
  internalError(service: string, step: InternalStep): void;
  /** A client closed its connection before its answer was complete (not an upstream failure). */
  clientAborted(service: string): void;
  /** An exchange not recorded because its comparison failed (CUTOVER_ERR_COMPARISON_FAILED, _TIMEOUT, _COMPARE_WORKER_DIED). */
  comparisonFailed(routeId: string, code: string): void;
  /** A comparison worker replaced after it died or was killed at a comparison's timeout. */
  compareWorkerRestarted(reason: 'died' | 'timeout'): void;
  /** The fast lane stopped reading a client whose pipelined requests reached proxy.maxPipelinedBytes. */
  pipelineHeld(service: string): void;
}

/** Where a throw was caught: serving a request, its shadow copy, or recording its outcome. */
export type InternalStep = 'serving' | 'shadow' | 'record';

/** Why the proxy refused a request: ambiguous framing (RFC 9112), or a bound of the transport it went past. */
export type RefusalReason = 'framing' | 'headers_timeout' | 'request_timeout' | 'header_bytes';

/** Builds the proxy's registry; flag gauges are read from `flags` at scrape time, so they are never stale. */
export function createProxyMetrics(
  flags: FlagSource,
  catalogue: RouteCatalogue,
  shadowInFlight: () => number = () => 0,
  observationsQueuedBytes: () => number = () => 0,
): ProxyMetrics {
  const registry = new Registry();
  const requests = new HotCounter({
    name: 'cutover_proxy_requests_total',
    help: 'Requests through the proxy by service, route (unknown when none matched), flag mode and the side that served them.',
    labelNames: ['service', 'route', 'mode', 'served_by'] as const,
    registers: [registry],
  });
  const latency = new HotHistogram({
    name: 'cutover_proxy_upstream_duration_seconds',
    help: 'Time from sending a request upstream to the last byte of its answer, by side and role (serving or shadow).',
    labelNames: ['service', 'side', 'role'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: 'cutover_proxy_upstream_errors_total',
    help: 'Upstream requests that failed (unreachable, timeout, broken), by side, role and error code.',
    labelNames: ['service', 'side', 'role', 'code'] as const,
    registers: [registry],
  });
  const verdicts = new HotCounter({
    name: 'cutover_proxy_shadow_verdicts_total',
    help: 'Compared shadow requests by route and verdict (matched, mismatched, ignored, errored); ignored is never counted as matched.',
    labelNames: ['route', 'verdict'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'cutover_proxy_failures_total',
    help: 'Failed answers of shadowed requests by route, side (legacy, reimpl) and failure class (CUTOVER_FAIL_*: connection refused or reset, timeout before headers or in the body, protocol error, 5xx, body over the capture bound, client abort).',
    labelNames: ['route', 'side', 'class'] as const,
    registers: [registry],
  });
  const drops = new Counter({
    name: 'cutover_proxy_shadow_dropped_total',
    help: 'Shadow copies not sent or not recorded, by route and reason (route_budget, total_budget, body_too_large, queue_full: proxy.observations.maxQueued, queue_bytes: proxy.observations.maxQueuedBytes).',
    labelNames: ['route', 'reason'] as const,
    registers: [registry],
  });
  const writeFailures = new Counter({
    name: 'cutover_proxy_observation_write_failures_total',
    help: 'Observations lost because the observation store rejected their batch.',
    registers: [registry],
  });
  const shadowTimeouts = new Counter({
    name: 'cutover_proxy_shadow_timeouts_total',
    help: 'Shadow copies and eventual-state poll reads aborted at proxy.shadow.timeoutMs, by stage: queued (never sent, waiting for a shadow connection) or in_flight (its connection destroyed).',
    labelNames: ['service', 'stage'] as const,
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'cutover_proxy_requests_refused_total',
    help: 'Client requests the proxy answered itself with a 4xx and never sent upstream, by service and reason (framing: ambiguous or malformed HTTP/1.1 framing, 400; header_bytes: a head over proxy.maxHeaderBytes, 431; headers_timeout, request_timeout: proxy.headersTimeoutMs, proxy.requestTimeoutMs, 408).',
    labelNames: ['service', 'reason'] as const,
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'cutover_proxy_fallbacks_total',
    help: 'Requests the reimplementation failed while serving (canary, reimpl) that legacy answered instead, by route and reason (5xx, timeout, connection).',
    labelNames: ['route', 'reason'] as const,
    registers: [registry],
  });
  const sampledOut = new Counter({
    name: 'cutover_proxy_shadow_sampled_out_total',
    help: 'Requests of a sampled route (sample: in flags/routes.yaml) its flag would shadow that got no shadow copy, by route.',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  const internalErrors = new Counter({
    name: 'cutover_proxy_internal_errors_total',
    help: 'Throws caught in a step of the proxy (serving, shadow, record); each cost at most its own request, never the process.',
    labelNames: ['service', 'step'] as const,
    registers: [registry],
  });
  const pipelineHolds = new Counter({
    name: 'cutover_proxy_pipeline_held_total',
    help: 'Times the fast lane stopped reading a client because its pipelined requests reached proxy.maxPipelinedBytes while an exchange ran (backpressure, nothing refused).',
    labelNames: ['service'] as const,
    registers: [registry],
  });
  const clientAborts = new Counter({
    name: 'cutover_proxy_client_aborts_total',
    help: 'Requests whose client closed the connection before the answer was complete (not counted as upstream errors).',
    labelNames: ['service'] as const,
    registers: [registry],
  });
  const comparisonFailures = new Counter({
    name: 'cutover_proxy_comparison_failures_total',
    help: 'Shadowed exchanges not recorded because their comparison failed in its worker, by route and error code (threw, timed out, worker died).',
    labelNames: ['route', 'code'] as const,
    registers: [registry],
  });
  const workerRestarts = new Counter({
    name: 'cutover_proxy_compare_worker_restarts_total',
    help: 'Comparison worker processes replaced, by reason: died (crash, out of memory, killed) or timeout (killed at proxy.compare.timeoutMs).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'cutover_proxy_shadow_in_flight',
    help: 'Shadow copies currently in flight.',
    registers: [registry],
    collect() {
      this.set(shadowInFlight());
    },
  });
  new Gauge({
    name: 'cutover_proxy_observations_queued_bytes',
    help: 'Bytes held by observations waiting for comparison or writing (bounded by proxy.observations.maxQueuedBytes).',
    registers: [registry],
    collect() {
      this.set(observationsQueuedBytes());
    },
  });
  new Gauge({
    name: 'cutover_flag_mode',
    // Cluster workers read the same flags: report one worker's view, not the sum.
    aggregator: 'max',
    help: 'Flag mode of each route: 1 for the current mode, 0 for the others.',
    labelNames: ['route', 'mode'] as const,
    registers: [registry],
    collect() {
      const snapshot = flags.current();
      for (const route of catalogue.routes) {
        const current = flagFor(snapshot, route.id).mode;
        for (const mode of flagModes) this.set({ route: route.id, mode }, mode === current ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'cutover_flag_kill_switch',
    // Cluster workers read the same flags: report one worker's view, not the sum.
    aggregator: 'max',
    help: '1 while the kill switch sends every route to legacy.',
    registers: [registry],
    collect() {
      this.set(flags.current().killSwitch ? 1 : 0);
    },
  });
  new Gauge({
    name: 'cutover_flag_store_state',
    // Cluster workers read the same flags: report one worker's view, not the sum.
    aggregator: 'max',
    help: 'State of the flags the proxy decides with: live (in step with the store), stale (store unreachable, last known flags), unavailable (never loaded, all legacy).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const state = flags.current().state;
      for (const candidate of ['live', 'stale', 'unavailable'] as const) this.set({ state: candidate }, candidate === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'cutover_flag_snapshot_age_seconds',
    aggregator: 'max',
    help: 'Seconds since the flags the proxy decides with were loaded from the store.',
    registers: [registry],
    collect() {
      const loadedAt = flags.current().loadedAt.getTime();
      this.set(loadedAt === 0 ? 0 : (Date.now() - loadedAt) / 1000);
    },
  });

  // Series resolved once per label set (hot-metrics.ts): requests and latencies are updated on every request, verdicts on every shadowed one.
  // A series is found by its label values in nested maps: a hit hashes no new string (the values
  // are the catalogue's ids, the flags' modes and literals), where a joined key was made and hashed
  // per call: per request, and twice more per shadowed one.
  const requestSeries = new SeriesByLabels((service, route, mode, servedBy) => requests.series({ service, route, mode, served_by: servedBy }));
  const latencySeries = new SeriesByLabels((service, side, role) => latency.series({ service, side, role }));
  const verdictSeries = new SeriesByLabels((route, verdict) => verdicts.series({ route, verdict }));

  return {
    registry,
    request: (service, routeId, mode, servedBy) => requestSeries.at4(service, routeId, mode, servedBy).inc(),
    upstreamLatency: (service, side, role, seconds) => latencySeries.at3(service, side, role).observe(seconds),
    upstreamError: (service, side, role, code) => upstreamErrors.labels(service, side, role, code).inc(),
    verdict: (routeId, verdict) => verdictSeries.at2(routeId, verdict).inc(),
    failure: (routeId, side, failureCode) => failures.labels(routeId, side, failureCode).inc(),
    dropped: (routeId, reason) => drops.labels(routeId, reason).inc(),
    observationWriteFailed: (count) => writeFailures.inc(count),
    shadowTimedOut: (service, stage) => shadowTimeouts.labels(service, stage).inc(),
    refused: (service, reason) => refusals.labels(service, reason).inc(),
    fellBack: (routeId, reason) => fallbacks.labels(routeId, reason).inc(),
    sampledOut: (routeId) => sampledOut.labels(routeId).inc(),
    internalError: (service, step) => internalErrors.labels(service, step).inc(),
    clientAborted: (service) => clientAborts.labels(service).inc(),
    comparisonFailed: (routeId, code) => comparisonFailures.labels(routeId, code).inc(),
    compareWorkerRestarted: (reason) => workerRestarts.labels(reason).inc(),
    pipelineHeld: (service) => pipelineHolds.labels(service).inc(),
  };
}
