/**
 * `cutover proxy`: the front doors and the admin API in front of upstreams the harness did not
 * start, nothing else. Flags, their audit log, observations, unknown traffic and job-id
 * correlations live in the harness schema of the one PostgreSQL (`DATABASE_URL`), so several
 * instances behind a load balancer decide alike and report as one. `cutover up` starts the
 * platform and then this, the same way.
 */
import { connect, isIP } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { createConsole } from '../../console/console-routes.js';
import { createAdminServer, type AdminServer } from '../../flags/admin-server.js';
import { loadAcceptedDifferences } from '../../parity/compare/accepted-registry.js';
import { createStorageRedactor } from '../../parity/compare/redact.js';
import type { FlagStore } from '../../flags/flag-store.js';
import { createLiveFlagSource, type LiveFlagSource } from '../../flags/live-flag-source.js';
import { createPgFlagStore } from '../../flags/pg-flag-store.js';
import { loadRouteCatalogue, type RouteCatalogue } from '../../flags/route-catalogue.js';
import { gatePromotionGuard } from '../../gate/promotion-guard.js';
import { PgNoiseStore } from '../../parity/runner/noise-store.js';
import { PgCorrelationStore } from '../../proxy/stateful/correlation-store-pg.js';
import { LiveNoise } from '../../proxy/shadow/live-noise.js';
import { createObservationRetention, retentionLockKey } from '../../proxy/observe/observation-retention.js';
import { PgObservationStore } from '../../proxy/observe/pg-observation-store.js';
import type { RequestLogEntry } from '../../proxy/observe/request-log.js';
import { startProxy, type RunningProxy, type StartProxyOptions } from '../../proxy/start.js';
import { upstreamsInUse, upstreamTls, upstreamVariable, type UpstreamAddress } from '../../proxy/serving/upstream-address.js';
import type { CutoverConfig } from '../config/schema.js';
import { migrateHarness } from '../db/migrate.js';
import { CutoverError } from '../errors.js';
import { PgUnknownTrafficStore } from '../report/unknown-traffic.js';
import { createRolloutController } from '../../rollout/controller.js';
import { advisoryLeadership } from '../../rollout/leadership.js';
import { PgRolloutStore } from '../../rollout/pg-rollout-store.js';
import type { EventLog } from './event-log.js';

export interface ProxyServerOptions {
  config: CutoverConfig;
  /** The harness database (flags, observations...); `cutover proxy` takes DATABASE_URL. */
  databaseUrl: string;
  log: EventLog;
  /** The catalogue; flags/routes.yaml by default. */
  catalogue?: RouteCatalogue;
  /** Job rows compared after shadowed writes: only where the services' tables are in this database (`cutover up`). */
  stateParity?: NonNullable<StartProxyOptions['stateful']>['stateParity'];
}

export interface ProxyServer {
  proxy: RunningProxy;
  admin: AdminServer;
  adminUrl: string;
  catalogue: RouteCatalogue;
  flagStore: FlagStore;
  flagSource: LiveFlagSource;
  observations: PgObservationStore;
  unknownTraffic: PgUnknownTrafficStore;
  /** SIGTERM's path: not ready, drain within proxy.drainTimeoutMs, flush, close everything. */
  shutdown(): Promise<void>;
  /** Closes everything at once (after a failed start, or when a drain is not wanted). */
  close(): Promise<void>;
}

/** Starts the proxy and its admin API on the harness database; on any failure closes what it opened and rethrows. */
export async function startProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const { config, databaseUrl, log } = options;
  const undo: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch((error) => log('stop.error', `while stopping: ${String(error)}`, {}, 'warn'));
  };
  try {
    // Concurrent starts are safe: migrations take an advisory lock.
    await migrateHarness(databaseUrl);
    const catalogue = options.catalogue ?? loadRouteCatalogue(config.routesFile);
    upstreamTls(config); // an unreadable CA or certificate stops the start here, by name
    const flagStore = createPgFlagStore({ url: databaseUrl, catalogue });
    undo.push(() => flagStore.close());
    const flagSource = createLiveFlagSource({ url: databaseUrl, log: (line) => log('flags', line) });
    undo.push(() => flagSource.close());
    await flagSource.ready();
    const observations = new PgObservationStore(databaseUrl);
    undo.push(() => observations.close());
    const unknownTraffic = new PgUnknownTrafficStore(databaseUrl);
    undo.push(() => unknownTraffic.close());
    const correlations = new PgCorrelationStore(databaseUrl);
    undo.push(() => correlations.close());
    // What `cutover calibrate` learnt applies to live comparisons too, re-read every minute.
    const noiseStore = new PgNoiseStore(databaseUrl);
    undo.push(() => noiseStore.close());
    const noise = new LiveNoise(catalogue, noiseStore);
    await noise.start();
    undo.push(async () => noise.close());
    const proxy = await startProxy({
      config,
      catalogue,
      flagSource,
      observationStore: observations,
      unknownTrafficStore: unknownTraffic,
      stateful: { correlationStore: correlations, ...(options.stateParity ? { stateParity: options.stateParity } : {}) },
      noise: (routeId) => noise.forRoute(routeId),
      // JSON logs carry one line per served request, with its id; a terminal gets the events only.
      ...(config.proxy.logFormat === 'json'
        ? { requestLog: (entry: RequestLogEntry) => log('request', `${entry.method} ${entry.path} ${entry.status ?? entry.failure} (${entry.servedBy})`, { ...entry }) }
        : {}),
    });
    undo.push(() => proxy.close());
    // Promotions (canary, reimpl, retired) go through the readiness gate first, on every instance alike.
    const promotionGuard = gatePromotionGuard({ observations, catalogue, thresholds: config.gate.thresholds }, config.gate.windowHours);
    const rollouts = new PgRolloutStore(databaseUrl);
    undo.push(() => rollouts.close());
    // The web console at / on the admin port: a client of this admin API, over the same stores.
    const webConsole = createConsole({
      catalogue,
      flagStore,
      flagSource,
      observations,
      rollouts,
      noise: noiseStore,
      accepted: loadAcceptedDifferences(),
      thresholds: config.gate.thresholds,
      windowHours: config.gate.windowHours,
      redactor: createStorageRedactor(config.redaction.piiFields),
      metricsRegistry: proxy.metrics.registry,
      guard: promotionGuard,
      rolloutDefaults: config.rollout,
    });
    const admin = createAdminServer({
      config,
      flagStore,
      flagSource,
      metricsRegistry: proxy.metrics.registry,
      catalogue,
      health: proxy.health,
      promotionGuard,
      ready: () => proxy.state() === 'serving' && flagSource.status().state !== 'unavailable',
      console: webConsole,
    });
    const adminAddress = await admin.listen();
    undo.push(() => admin.close());
    // Every instance runs a rollout controller; the advisory lock lets exactly one of them act.
    const rolloutController = createRolloutController({
      rollouts,
      flags: flagStore,
      observations,
      catalogue,
      leadership: advisoryLeadership(databaseUrl),
      config,
      registry: proxy.metrics.registry,
      log: (line) => log('rollout', line),
    });
    rolloutController.start();
    undo.push(() => rolloutController.stop());
    // Partitions ahead and retention likewise: every instance tries, the one holding the lock does it.
    const retention = createObservationRetention({
      store: observations,
      leadership: advisoryLeadership(databaseUrl, retentionLockKey),
      retentionDays: config.proxy.observations.retentionDays,
      partitionsAheadDays: config.proxy.observations.partitionsAheadDays,
      intervalMs: config.proxy.observations.maintenanceIntervalMs,
      log: (line) => log('observations.retention', line),
    });
    retention.start();
    undo.push(() => retention.stop());
    if (admin.generatedToken) log('admin.token', `admin API token (generated for this run; set CUTOVER_ADMIN_TOKEN to fix it): ${admin.adminToken}`);
    log('proxy.listening', `proxy doors ${Object.entries(proxy.urls).map(([name, url]) => `${name} ${url}`).join(', ')}; admin ${adminAddress.url} (web console at ${adminAddress.url}/)`, { doors: proxy.urls, admin: adminAddress.url, console: `${adminAddress.url}/` });

    const shutdown = async () => {
      log('proxy.draining', `draining (up to ${config.proxy.drainTimeoutMs} ms)`, { deadlineMs: config.proxy.drainTimeoutMs });
      const outcome = await proxy.drain(config.proxy.drainTimeoutMs);
      log('proxy.drained', `drained in ${outcome.durationMs} ms: ${outcome.connectionsCut} connections cut, ${outcome.shadowsLeft} shadow copies unfinished`, { ...outcome });
      await close();
      log('proxy.stopped', 'stopped');
    };
    return { proxy, admin, adminUrl: adminAddress.url, catalogue, flagStore, flagSource, observations, unknownTraffic, shutdown, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export interface UpstreamProblem extends UpstreamAddress {
  problem: 'missing' | 'unreachable';
  detail: string;
}

/** Tries a connection (TLS for https) to every upstream the proxy's doors can reach; lists those it cannot reach. */
export async function checkUpstreams(config: CutoverConfig, catalogue: RouteCatalogue, services: readonly string[], timeoutMs = 2_000): Promise<UpstreamProblem[]> {
  const seen = new Set<string>();
  const addresses = upstreamsInUse(config, catalogue, services).filter((address) => {
    const key = `${address.side}:${address.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const tls = upstreamTls(config);
  const problems = await Promise.all(
    addresses.map(async (address): Promise<UpstreamProblem | undefined> => {
      if (!address.url) return { ...address, problem: 'missing', detail: `no URL (set ${upstreamVariable(address.side, address.name)})` };
      const failure = await tryConnect(new URL(address.url), tls, timeoutMs);
      return failure ? { ...address, problem: 'unreachable', detail: `${address.url}: ${failure}` } : undefined;
    }),
  );
  return problems.filter((problem): problem is UpstreamProblem => problem !== undefined);
}

function tryConnect(url: URL, tls: ReturnType<typeof upstreamTls>, timeoutMs: number): Promise<string | undefined> {
  const secure = url.protocol === 'https:';
  const port = Number(url.port || (secure ? 443 : 80));
  return new Promise((resolve) => {
    const socket = secure ? connectTls({ ...tls, host: url.hostname, port, ...(isIP(url.hostname) ? {} : { servername: url.hostname }) }) : connect({ host: url.hostname, port });
    const done = (failure: string | undefined) => {
      socket.destroy();
      resolve(failure);
    };
    socket.setTimeout(timeoutMs, () => done(`no connection within ${timeoutMs} ms`));
    socket.once('error', (error) => done(error.message));
    socket.once(secure ? 'secureConnect' : 'connect', () => done(undefined));
  });
}

/** Names every problem (warnings); with `strict`, the first start fails with CUTOVER_ERR_UPSTREAM_UNREACHABLE naming them all. */
export function reportUpstreamProblems(problems: readonly UpstreamProblem[], log: EventLog, strict: boolean): void {
  for (const problem of problems) {
    log('upstream.' + problem.problem, `${problem.side} upstream ${problem.name} is ${problem.problem}: ${problem.detail}; its requests are answered 502`, { side: problem.side, upstream: problem.name, url: problem.url ?? null, detail: problem.detail }, strict ? 'error' : 'warn');
  }
  if (strict && problems.length > 0) {
    throw new CutoverError('CUTOVER_ERR_UPSTREAM_UNREACHABLE', `--strict: ${problems.map((problem) => `${problem.side} ${problem.name} ${problem.problem}`).join(', ')}`);
  }
}
