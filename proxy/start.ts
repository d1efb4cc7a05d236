/**
 * Starts the proxy: one front door per service the route catalogue declares (gateway, sync,
 * narrator for TerraFusion) on the configured ports (0 = ephemeral), sharing upstream pools,
 * the shadow budget, the recorder and the metrics. `cutover proxy`, `cutover up` and the tests
 * start it the same way.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { FlagSource } from '../flags/flag.js';
import type { RouteCatalogue, Service, ServiceDeclaration } from '../flags/route-catalogue.js';
import type { CutoverConfig } from '../src/config/schema.js';
import { configSecrets, refuseUnsafeSecrets } from '../src/config/secrets.js';
import { createStorageRedactor } from '../parity/compare/redact.js';
import { CutoverError } from '../src/errors.js';
import { createFastLane, type FastLane } from './transport/fast-lane.js';
import { answerClientError, answerHalfClosedClients, createFrontDoor, nodeServerOptions } from './transport/front-door.js';
import { createPipeline } from './pipeline/pipeline.js';
import type { RecordingTap } from './pipeline/serving-call.js';
import { createProxyMetrics, type ProxyMetrics } from './observe/metrics.js';
import { StatefulShadowing } from './stateful/correlation-shadow.js';
import { Correlations, defaultCorrelationOptions, type CorrelationOptions, type CorrelationStore } from './stateful/correlation-store.js';
import { StateParity, defaultStateParity, type StateParityOptions } from './stateful/state-parity.js';
import { ComparePool } from './shadow/compare-pool.js';
import { ObservationRecorder } from './observe/observation-recorder.js';
import type { ObservationStore } from './observe/observation.js';
import type { UnknownTrafficStore } from '../src/report/unknown-traffic.js';
import { loadAcceptedDifferences, type AcceptedRegistry } from '../parity/compare/accepted-registry.js';
import { UnknownTrafficRecorder } from './observe/unknown-traffic-recorder.js';
import { LiveNoise } from './shadow/live-noise.js';
import type { NoiseProfile } from '../parity/compare/noise.js';
import { ShadowBudget } from './shadow/shadow.js';
import { shadowLimits } from './shadow/shadow-exchange.js';
import { Upstreams } from './serving/upstreams.js';
import type { RequestLog } from './observe/request-log.js';

export interface StartProxyOptions {
  config: CutoverConfig;
  catalogue: RouteCatalogue;
  flagSource: FlagSource;
  observationStore: ObservationStore;
  /** Where requests that matched no route are counted for the report; not counted there when absent (metrics still are). */
  unknownTrafficStore?: UnknownTrafficStore;
  /** Front doors to open; every service of the catalogue by default. */
  services?: readonly Service[];
  /** Randomness for mismatch-body sampling (tests pin it). */
  random?: () => number;
  /** Intentional differences live comparisons absorb; parity/accepted-differences.yaml unless given. */
  accepted?: AcceptedRegistry;
  /**
   * Stateful shadowing (proxy/stateful/correlation-shadow.ts). Job-id pairs are always kept in memory;
   * `correlationStore` (PgCorrelationStore) shares them with other workers and across restarts
   * (the caller owns it); `stateParity.databaseUrl` turns on comparing job rows after shadowed writes.
   */
  stateful?: {
    correlationStore?: CorrelationStore;
    correlation?: Partial<CorrelationOptions>;
    stateParity?: Partial<StateParityOptions> & { databaseUrl: string };
  };
  /** `cutover record`'s tap: exchanges of unshadowed routes it wants are handed to it (off the request path). */
  tap?: RecordingTap;
  /** One entry per served request (`cutover proxy --log-format json`); nothing is logged per request when absent. */
  requestLog?: RequestLog;
  /** Calibrated noise per route (live-noise.ts with the NoiseStore); the routes' pinned noise alone when absent. */
  noise?: (routeId: string) => NoiseProfile | undefined;
}

export interface RunningProxy {
  /** Base URL of each open front door, e.g. { sync: 'http://127.0.0.1:8001' }. */
  urls: Partial<Record<Service, string>>;
  /** The proxy's Prometheus registry (`metrics.registry`), for the admin server's /metrics. */
  metrics: ProxyMetrics;
  /** The proxy's own facts for the admin /health: shadow copies in flight, observations queued. */
  health(): { shadowInFlight: number; observationsQueued: number };
  /** Compares and writes every observation (and unknown-traffic count) queued so far (tests, and shutdown). */
  flushObservations(): Promise<void>;
  /**
   * Shutdown for an orchestrator: stops accepting, lets in-flight requests and shadow copies
   * finish within `deadlineMs` (what is left then is cut and counted), flushes observations.
   * Call close() after it.
   */
  drain(deadlineMs: number): Promise<DrainOutcome>;
  /** `serving` from the moment every door listens, `draining` once drain() was called. */
  state(): 'serving' | 'draining';
  /** Stops accepting, ends connections, flushes observations, closes upstream pools. The store stays open (the caller owns it). */
  close(): Promise<void>;
}

export interface DrainOutcome {
  /** Client connections still busy at the deadline, and cut. */
  connectionsCut: number;
  /** Shadow copies still in flight at the deadline (their observations are lost). */
  shadowsLeft: number;
  durationMs: number;
}

/** The address of a service's front door: proxy.doors.<name>, else proxy.<name> (gateway, sync, narrator), else 127.0.0.1 and the declared `door` port. */
export function doorOf(config: CutoverConfig, service: ServiceDeclaration): { host: string; port: number } {
  const named = (config.proxy as unknown as Record<string, { host?: string; port?: number } | undefined>)[service.name];
  const given = config.proxy.doors[service.name] ?? (['gateway', 'sync', 'narrator'].includes(service.name) ? named : undefined);
  const port = given?.port ?? service.door;
  if (port === undefined) {
    throw new CutoverError('CUTOVER_ERR_CONFIG_INVALID', `service ${service.name} declares no door port: set proxy.doors.${service.name}.port, or door: in its routes file`);
  }
  return { host: given?.host ?? '127.0.0.1', port };
}

/** Resolves once `done()` holds or the deadline passes; true when it held. */
async function until(done: () => boolean, deadline: number): Promise<boolean> {
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** Without a noise store, the routes' pinned noise alone. */
function pinnedNoise(catalogue: RouteCatalogue): (routeId: string) => NoiseProfile | undefined {
  const pinned = new LiveNoise(catalogue);
  return (routeId) => pinned.forRoute(routeId);
}

/** node:http's keep-alive timeout for client connections, and the fast lane's. */
const keepAliveTimeoutMs = 65_000;

function listen(server: Server | NetServer, host: string, port: number, service: Service): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new CutoverError('CUTOVER_ERR_PORT_IN_USE', `the ${service} front door cannot listen on ${host}:${port}: the port is in use`, { cause: error })
          : error,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Opens the front doors; resolves once all of them listen. */
export async function startProxy(options: StartProxyOptions): Promise<RunningProxy> {
  const { config, catalogue, flagSource } = options;
  refuseUnsafeSecrets('the proxy', configSecrets(config));
  const proxyOptions = config.proxy;
  const budget = new ShadowBudget(proxyOptions.shadow.perRouteConcurrency, proxyOptions.shadow.totalConcurrency);
  const metrics = createProxyMetrics(flagSource, catalogue, () => budget.inFlight, () => recorder.queuedBytes);
  // What the proxy stores (observations, unknown paths) is redacted; fingerprints compare within this process.
  const redactor = createStorageRedactor(config.redaction.piiFields);
  const comparer = new ComparePool({ ...proxyOptions.compare, onRestart: (reason) => metrics.compareWorkerRestarted(reason) });
  const recorder = new ObservationRecorder(options.observationStore, metrics, comparer, {
    redactor,
    ...proxyOptions.observations,
    inlineMaxBytes: proxyOptions.compare.inlineMaxBytes,
    mismatchBodySampleRate: proxyOptions.shadow.mismatchBodySampleRate,
    mismatchBodyMaxBytes: proxyOptions.shadow.mismatchBodyMaxBytes,
    ...(options.random ? { random: options.random } : {}),
    // Entries are checked against the real catalogue by their own test; a test catalogue may lack their routes.
    accepted: options.accepted ?? loadAcceptedDifferences(),
    noise: options.noise ?? pinnedNoise(catalogue),
  });
  const unknownTraffic = new UnknownTrafficRecorder(options.unknownTrafficStore, proxyOptions.observations.flushIntervalMs, redactor);
  const upstreams = new Upstreams(config, catalogue);
  const stateParity = options.stateful?.stateParity ? new StateParity({ ...defaultStateParity, ...options.stateful.stateParity }) : undefined;
  const stateful = new StatefulShadowing({
    correlations: new Correlations(options.stateful?.correlationStore, { ...defaultCorrelationOptions, ...options.stateful?.correlation }),
    upstreams,
    stateParity,
    limits: shadowLimits(proxyOptions),
    metrics,
  });
  const listeners: (Server | NetServer)[] = [];
  const httpServers: Server[] = [];
  const lanes: FastLane[] = [];
  const urls: RunningProxy['urls'] = {};
  // Connections node:http holds (its own, or handed over by a fast lane), so a drain knows when they are done.
  const httpConnections = new Set<Socket>();
  let state: 'starting' | 'serving' | 'draining' = 'starting';
  const close = async () => {
    const stopped = Promise.all(listeners.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const lane of lanes) lane.closeAll();
    for (const http of httpServers) {
      // A node:http server behind a fast lane never listened itself: its close only stops its connection checks.
      if (!listeners.includes(http)) http.close(() => undefined);
      http.closeAllConnections();
    }
    await stopped;
    await stateful.drain();
    await recorder.close();
    await comparer.close();
    await stateParity?.close();
    await unknownTraffic.close();
    await upstreams.close();
  };
  try {
    for (const service of options.services ?? catalogue.services.map((declared) => declared.name)) {
      const declared = catalogue.services.find((candidate) => candidate.name === service);
      if (!declared) throw new CutoverError('CUTOVER_ERR_CONFIG_INVALID', `no service ${service} in the route catalogue (declared: ${catalogue.services.map((known) => known.name).join(', ')})`);
      const parts = { service, catalogue, flags: flagSource, upstreams, metrics, recorder, unknownTraffic, budget, stateful, options: proxyOptions, tap: options.tap, requestLog: options.requestLog };
      // One pipeline per door, run by both its transports: they differ in how bytes move, not in what is decided.
      const pipeline = createPipeline(parts);
      const handler = createFrontDoor(pipeline);
      const server = createServer(nodeServerOptions(proxyOptions, keepAliveTimeoutMs), handler);
      answerHalfClosedClients(server);
      // A malformed request line or header, a head too large, a request too slow: that connection only, answered with its code.
      server.on('clientError', (error: NodeJS.ErrnoException, socket) => answerClientError(error, socket, metrics, service));
      httpServers.push(server);
      server.on('connection', (socket: Socket) => {
        httpConnections.add(socket);
        socket.once('close', () => httpConnections.delete(socket));
      });
      // With the fast lane, a plain TCP server takes connections and hands node:http what the lane does not relay.
      let listener: Server | NetServer = server;
      if (proxyOptions.fastLane) {
        const lane = createFastLane(pipeline, server, { keepAliveTimeoutMs });
        lanes.push(lane);
        listener = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => lane.accept(socket));
        // node:http tracks its connections (closeAllConnections, headers and request timeouts) from its 'listening' event on.
        listener.once('listening', () => server.emit('listening'));
      }
      listeners.push(listener);
      const { host, port } = doorOf(config, declared);
      const address = await listen(listener, host, port, service);
      urls[service] = `http://${host}:${address.port}`;
    }
  } catch (error) {
    await close();
    throw error;
  }
  const flushObservations = async () => {
    await stateful.drain();
    await recorder.flush();
    await unknownTraffic.flush();
  };
  const health = () => ({ shadowInFlight: budget.inFlight, observationsQueued: recorder.queued });
  state = 'serving';
  const drain = async (deadlineMs: number): Promise<DrainOutcome> => {
    const started = Date.now();
    const deadline = started + deadlineMs;
    state = 'draining';
    const stopped = Promise.all(listeners.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    const open = () => lanes.reduce((sum, lane) => sum + lane.open, 0) + httpConnections.size;
    await until(() => {
      // A connection that finished its answer goes idle, and idle connections end now.
      for (const lane of lanes) lane.drain();
      for (const http of httpServers) http.closeIdleConnections();
      return open() === 0;
    }, deadline);
    const connectionsCut = open();
    await until(() => budget.inFlight === 0, deadline);
    const shadowsLeft = budget.inFlight;
    for (const lane of lanes) lane.closeAll();
    for (const http of httpServers) http.closeAllConnections();
    await stopped;
    await flushObservations();
    return { connectionsCut, shadowsLeft, durationMs: Date.now() - started };
  };
  return { urls, metrics, health, flushObservations, drain, state: () => (state === 'draining' ? 'draining' : 'serving'), close };
}
