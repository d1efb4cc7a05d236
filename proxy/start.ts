/**
 * Starts the proxy: one front door per service (gateway, sync, narrator) on the configured
 * ports (0 = ephemeral), sharing upstream pools, the shadow budget, the recorder and the
 * metrics. `cutover up` and the tests start it the same way.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import type { FlagSource } from '../flags/flag.js';
import type { RouteCatalogue, Service } from '../flags/route-catalogue.js';
import type { CutoverConfig } from '../src/config/schema.js';
import { configSecrets, refuseUnsafeSecrets } from '../src/config/secrets.js';
import { createStorageRedactor } from '../parity/compare/redact.js';
import { CutoverError } from '../src/errors.js';
import { createFastLane, type FastLane } from './fast-lane.js';
import { badRequestAnswer } from './http1.js';
import { createFrontDoor, type RecordingTap } from './front-door.js';
import { createProxyMetrics, type ProxyMetrics } from './metrics.js';
import { StatefulShadowing } from './correlation-shadow.js';
import { Correlations, defaultCorrelationOptions, type CorrelationOptions, type CorrelationStore } from './correlation-store.js';
import { StateParity, defaultStateParity, type StateParityOptions } from './state-parity.js';
import { ObservationRecorder } from './observation-recorder.js';
import type { ObservationStore } from './observation.js';
import type { UnknownTrafficStore } from '../src/report/unknown-traffic.js';
import { loadAcceptedDifferences, type AcceptedRegistry } from '../parity/compare/accepted-registry.js';
import { UnknownTrafficRecorder } from './unknown-traffic-recorder.js';
import { LiveNoise } from './live-noise.js';
import type { NoiseProfile } from '../parity/compare/noise.js';
import { ShadowBudget } from './shadow.js';
import { shadowLimits } from './shadow-exchange.js';
import { Upstreams } from './upstreams.js';

export interface StartProxyOptions {
  config: CutoverConfig;
  catalogue: RouteCatalogue;
  flagSource: FlagSource;
  observationStore: ObservationStore;
  /** Where requests that matched no route are counted for the report; not counted there when absent (metrics still are). */
  unknownTrafficStore?: UnknownTrafficStore;
  /** Front doors to open; all three by default. */
  services?: readonly Service[];
  /** Randomness for mismatch-body sampling (tests pin it). */
  random?: () => number;
  /** Intentional differences live comparisons absorb; parity/accepted-differences.yaml unless given. */
  accepted?: AcceptedRegistry;
  /**
   * Stateful shadowing (proxy/correlation-shadow.ts). Job-id pairs are always kept in memory;
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
  /** Stops accepting, ends connections, flushes observations, closes upstream pools. The store stays open (the caller owns it). */
  close(): Promise<void>;
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
  const recorder = new ObservationRecorder(options.observationStore, metrics, {
    redactor,
    ...proxyOptions.observations,
    mismatchBodySampleRate: proxyOptions.shadow.mismatchBodySampleRate,
    mismatchBodyMaxBytes: proxyOptions.shadow.mismatchBodyMaxBytes,
    ...(options.random ? { random: options.random } : {}),
    // Entries are checked against the real catalogue by their own test; a test catalogue may lack their routes.
    accepted: options.accepted ?? loadAcceptedDifferences(),
    noise: options.noise ?? pinnedNoise(catalogue),
  });
  const unknownTraffic = new UnknownTrafficRecorder(options.unknownTrafficStore, proxyOptions.observations.flushIntervalMs, redactor);
  const upstreams = new Upstreams(config);
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
    await stateParity?.close();
    await unknownTraffic.close();
    await upstreams.close();
  };
  try {
    for (const service of options.services ?? (['gateway', 'sync', 'narrator'] as const)) {
      const parts = { service, catalogue, flags: flagSource, upstreams, metrics, recorder, unknownTraffic, budget, stateful, options: proxyOptions, tap: options.tap };
      const handler = createFrontDoor(parts);
      const server = createServer({ keepAliveTimeout: keepAliveTimeoutMs }, handler);
      // A malformed request line or header costs that connection only.
      server.on('clientError', (_error, socket) => {
        if (socket.writable) socket.end(badRequestAnswer);
        else socket.destroy();
      });
      httpServers.push(server);
      // With the fast lane, a plain TCP server takes connections and hands node:http what the lane does not relay.
      let listener: Server | NetServer = server;
      if (proxyOptions.fastLane) {
        const lane = createFastLane(parts, server, { keepAliveTimeoutMs });
        lanes.push(lane);
        listener = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => lane.accept(socket));
        // node:http tracks its connections (closeAllConnections, headers and request timeouts) from its 'listening' event on.
        listener.once('listening', () => server.emit('listening'));
      }
      listeners.push(listener);
      const { host, port } = proxyOptions[service];
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
  return { urls, metrics, health, flushObservations, close };
}
