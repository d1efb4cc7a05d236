/**
 * The whole harness as `cutover up` and the main job run it: the legacy platform, the
 * TypeScript reimplementations beside it, the shadow instances that take shadowed writes,
 * and in front of all of it `cutover proxy` (proxy-server.ts: the doors, live flags,
 * observation store and admin API), started exactly as that command starts it.
 *
 * Start order matters in two places: the harness schema and the shadow schemas exist before
 * anything reads them, and the proxy listens before the services whose service-to-service
 * hops (SYNC_SERVICE_URL / NARRATOR_URL) go through it.
 */
import { resolve } from 'node:path';
import type { RunningProxy } from '../../proxy/start.js';
import type { CutoverConfig, Endpoint } from '../config/schema.js';
import { migrate, migrateHarness } from '../db/migrate.js';
import { ensureDatabase, openDatabaseServer, redactUrl, type DatabaseServer } from '../db/server.js';
import { legacyServiceSpecs } from './legacy-services.js';
import { startPlatform, type Platform } from './platform.js';
import { reimplEdgeServiceSpecs, reimplServiceSpecs } from './reimpl-services.js';
import type { ServiceSpec } from './service-spec.js';
import { lineEventLog } from './event-log.js';
import { checkUpstreams, reportUpstreamProblems, startProxyServer, type ProxyServer } from './proxy-server.js';
import { Supervisor, type RunningService } from './supervisor.js';
import { PgResourceSampleStore } from '../../gate/pg-resource-sample-store.js';
import { createResourceSampler, upstreamRequestCounts } from './resource-sampler.js';
import { ensureSystemPackages } from './system-packages.js';

export const shadowSchemas = { legacy: 'shadow_legacy', reimpl: 'shadow_reimpl' } as const;

/** The platform, and `cutover proxy`'s parts (proxy, admin API, catalogue, flag and observation stores) in front of it. */
export interface CutoverStack extends Omit<ProxyServer, 'shutdown' | 'close'> {
  config: CutoverConfig;
  database: DatabaseServer;
  databaseUrl: string;
  legacy: Platform;
  /** Reimplementations and shadow instances, started after the legacy platform. */
  services: readonly RunningService[];
  /** CPU and memory samples of every service above, every gate.resourceSampleIntervalMs (the gate's resources criterion). */
  resourceSamples: PgResourceSampleStore;
  /** Takes a sample now (the main job does before it judges, so its window's end is measured). */
  sampleResources(): Promise<unknown>;
  stop(): Promise<void>;
}

const url = (endpoint: Endpoint) => `http://${endpoint.host}:${endpoint.port}`;

/** The reimplementations and the shadow instances, in start order. */
function besideLegacySpecs(config: CutoverConfig, databaseUrl: string, ollamaUrl: string, proxy: RunningProxy): ServiceSpec[] {
  const exportDir = resolve(config.stateDir, 'exports');
  const shadowExports = (side: string) => resolve(config.stateDir, 'shadow-exports', side);
  // Service-to-service hops of the serving reimplementations go through the proxy, like legacy's.
  const throughProxy = { syncServiceUrl: proxy.urls.sync!, narratorUrl: proxy.urls.narrator! };
  const reimpl = [
    // The GIS export is its own service (:8190) behind the proxy, so sync does not mount it.
    ...reimplServiceSpecs(config, { databaseUrl, exportDir, mountGisExport: false }),
    ...reimplEdgeServiceSpecs(config, { databaseUrl, exportDir, ollamaUrl, ...throughProxy }),
  ];
  // Shadow instances take the shadow copies of writing routes (docs/decisions/0002-shadow-writes.md):
  // job tables in their own schema, reference data read from public. Their gateways call their
  // own sync directly, so a shadowed write never reaches a serving instance.
  const shadowLegacy = legacyServiceSpecs(
    config,
    {
      databaseUrl,
      dbSchema: `${shadowSchemas.legacy},public`,
      exportDir: shadowExports('legacy'),
      ollamaUrl,
      syncServiceUrl: url(config.shadowLegacy.sync),
      narratorUrl: proxy.urls.narrator!,
    },
    config.shadowLegacy,
    'shadow-legacy',
  ).filter((spec) => !spec.id.endsWith('.narrator'));
  const shadowReimplEnv = { databaseUrl, dbSchema: `${shadowSchemas.reimpl},public`, exportDir: shadowExports('reimpl') };
  const shadowReimpl = [
    // The shadow reimpl gateway reaches GIS export routes through its sync, so that one mounts it.
    ...reimplServiceSpecs(config, { ...shadowReimplEnv, mountGisExport: true }, config.shadowReimpl, { idPrefix: 'shadow-reimpl', only: ['sync'] }),
    ...reimplServiceSpecs(config, { ...shadowReimplEnv, mountGisExport: false }, config.shadowReimpl, { idPrefix: 'shadow-reimpl', only: ['gis-export'] }),
    ...reimplEdgeServiceSpecs(
      config,
      { ...shadowReimplEnv, ollamaUrl, syncServiceUrl: url(config.shadowReimpl.sync), narratorUrl: proxy.urls.narrator! },
      config.shadowReimpl,
      // The narrator too: a shadowed analysis of a correlated GIS job is sent to the instance that reads the shadow schema's jobs.
      { idPrefix: 'shadow-reimpl', only: ['gateway', 'narrator'] },
    ),
  ];
  return [...reimpl, ...shadowLegacy, ...shadowReimpl];
}

/** Starts everything; on any failure stops what it had started and rethrows the named error. */
export async function startCutoverStack(config: CutoverConfig, log: (line: string) => void): Promise<CutoverStack> {
  ensureSystemPackages();
  const undo: Array<() => Promise<unknown>> = [];
  const rollback = async () => {
    for (const step of undo.reverse()) await step().catch((error) => log(`while stopping: ${String(error)}`));
  };
  try {
    const database = await openDatabaseServer(config, log);
    undo.push(() => database.stop());
    const databaseUrl = config.database.url ?? (await ensureDatabase(database, config.database.name));
    log(`PostgreSQL (${database.kind}) at ${redactUrl(databaseUrl)}`);
    await migrate(databaseUrl);
    await migrateHarness(databaseUrl);
    for (const schema of Object.values(shadowSchemas)) await migrate(databaseUrl, { schema, sets: ['jobs'] });

    // Job rows are compared in public against the shadow schemas: the services' tables are in this database.
    const front = await startProxyServer({ config, databaseUrl, log: lineEventLog(log), stateParity: { databaseUrl, servingSchema: 'public', shadowSchemas } });
    undo.push(() => front.close());
    const { proxy } = front;

    const legacy = await startPlatform({
      config,
      databaseUrl,
      ports: config.legacy,
      exportDir: resolve(config.stateDir, 'exports'),
      logDir: resolve(config.stateDir, 'logs'),
      seed: config.seed.counties,
      syncServiceUrl: proxy.urls.sync,
      narratorUrl: proxy.urls.narrator,
      log,
    });
    undo.push(() => legacy.stop());

    const supervisor = new Supervisor(resolve(config.stateDir, 'logs'));
    undo.push(() => supervisor.stopAll());
    // Independent services start side by side: on two cores this halves the wait.
    await Promise.all(
      besideLegacySpecs(config, databaseUrl, legacy.ollamaUrl, proxy).map(async (spec) => {
        const service = await supervisor.start(spec);
        log(`${spec.id} healthy at ${service.url} (pid ${service.pid})`);
      }),
    );

    // From here on each side's processes are sampled, so the gate can hold their CPU and memory per request side by side.
    const resourceSamples = new PgResourceSampleStore(databaseUrl);
    undo.push(() => resourceSamples.close());
    const sampler = createResourceSampler({
      processes: () => [...legacy.services, ...supervisor.services].map((service) => ({ id: service.spec.id, pid: service.pid })),
      catalogue: front.catalogue,
      requests: () => upstreamRequestCounts(proxy.metrics.registry),
      store: resourceSamples,
      intervalMs: config.gate.resourceSampleIntervalMs,
      log,
    });
    await sampler.sample();
    sampler.start();
    undo.push(() => sampler.stop());

    // Every upstream should answer now; one that does not is named, as `cutover proxy` names it.
    reportUpstreamProblems(await checkUpstreams(config, front.catalogue, Object.keys(proxy.urls)), lineEventLog(log), false);

    const { shutdown: _drain, close: _close, ...parts } = front;
    return { config, database, databaseUrl, legacy, services: supervisor.services, resourceSamples, sampleResources: () => sampler.sample(), ...parts, stop: rollback };
  } catch (error) {
    await rollback();
    throw error;
  }
}

/** A table of what runs where, for the terminal. */
export function describeStack(stack: CutoverStack): string {
  const rows: Array<[string, string, string]> = [
    ['postgresql', stack.database.kind, redactUrl(stack.databaseUrl)],
    ['ollama', stack.legacy.ollamaKind, stack.legacy.ollamaUrl],
    ['proxy.gateway', 'front door', stack.proxy.urls.gateway ?? '-'],
    ['proxy.sync', 'front door', stack.proxy.urls.sync ?? '-'],
    ['proxy.narrator', 'front door', stack.proxy.urls.narrator ?? '-'],
    ['proxy.admin', `flags ${stack.flagSource.status().state}`, stack.adminUrl],
    ...[...stack.legacy.services, ...stack.services].map((service): [string, string, string] => [service.spec.id, `pid ${service.pid}`, service.url]),
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length), 8));
  const line = (row: [string, string, string]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(['service', 'how', 'where']), line(['-------', '---', '-----']), ...rows.map(line)].join('\n');
}
