/**
 * How the reimplemented TypeScript services are started: `node dist/reimpl/<build>/<x>.mjs`
 * (bundled by reimpl-build.ts; `node --import tsx reimpl/<x>/main.ts` when no build can be made)
 * child processes with the legacy services' env contract (HOST, PORT, DATABASE_URL,
 * DB_SCHEMA, COUNTY_CONFIGS_DIR, EXPORT_DIR, ENVIRONMENT). See
 * docs/decisions/0004-gis-export-plugin-mounting.md for why sync may mount the GIS export.
 */
import type { CutoverConfig, Endpoint } from '../config/schema.js';
import { legacyServiceSpecs, type LegacyEnvironment } from './legacy-services.js';
import { countyConfigsDir, repoRoot } from './paths.js';
import { ensureReimplBuild, REIMPL_ENTRIES, type ReimplEntry } from './reimpl-build.js';
import type { ServiceSpec } from './service-spec.js';

export interface ReimplEnvironment {
  databaseUrl: string;
  /** search_path, e.g. `shadow_reimpl,public` for a shadow instance. */
  dbSchema?: string;
  exportDir: string;
  /** Serve /plugins/v1/gis-export/* from the sync process too (one base URL for every sync route). */
  mountGisExport?: boolean;
  /** Declared differences to apply (parity/accepted-differences.yaml ids); default all, [] = exact legacy. */
  fixes?: readonly string[];
}

export interface ReimplPorts {
  sync: Endpoint;
  gisExport: Endpoint;
}

function env(config: CutoverConfig, e: ReimplEnvironment): Record<string, string> {
  return {
    DATABASE_URL: e.databaseUrl,
    ...(e.dbSchema ? { DB_SCHEMA: e.dbSchema } : {}),
    COUNTY_CONFIGS_DIR: countyConfigsDir,
    EXPORT_DIR: e.exportDir,
    ENVIRONMENT: config.environment,
    SYNC_MOUNT_GIS_EXPORT: e.mountGisExport === false ? '0' : '1',
    ...(e.fixes ? { REIMPL_FIXES: e.fixes.length ? e.fixes.join(',') : 'none' } : {}),
  };
}

/** The environment of a process that writes GIS exports: glibc's arena limit (config reimpl.exportHeap.mallocArenaMax) and its workers' lifetime (reimpl.exportWorkers). */
export function exportProcessEnv(config: CutoverConfig, serviceEnv: Record<string, string>): Record<string, string> {
  const { mallocArenaMax } = config.reimpl.exportHeap;
  const { idleLifetimeMs, rssCeilingMb } = config.reimpl.exportWorkers;
  return {
    ...serviceEnv,
    ...(mallocArenaMax > 0 ? { MALLOC_ARENA_MAX: String(mallocArenaMax) } : {}),
    GIS_EXPORT_WORKER_IDLE_MS: String(idleLifetimeMs),
    GIS_EXPORT_WORKER_RSS_CEILING_MB: String(rssCeilingMb),
  };
}

/** Node's heap flags of a process that writes GIS exports (config reimpl.exportHeap). */
export function exportHeapArgs(config: CutoverConfig): string[] {
  const { maxSemiSpaceMb, maxOldSpaceMb } = config.reimpl.exportHeap;
  return [...(maxSemiSpaceMb > 0 ? [`--max-semi-space-size=${maxSemiSpaceMb}`] : []), ...(maxOldSpaceMb > 0 ? [`--max-old-space-size=${maxOldSpaceMb}`] : [])];
}

function nodeService(id: string, entry: ReimplEntry, endpoint: Endpoint, serviceEnv: Record<string, string>, healthPath: string, nodeArgs: string[] = []): ServiceSpec {
  const built = ensureReimplBuild((line) => console.error(line));
  return {
    id,
    command: process.execPath,
    args: [...nodeArgs, ...(built ? [`${built}/${entry}.mjs`] : ['--import', 'tsx', REIMPL_ENTRIES[entry]])],
    cwd: repoRoot,
    env: serviceEnv,
    host: endpoint.host,
    port: endpoint.port,
    healthPath,
  };
}

/** reimpl.sync and, unless `only` says otherwise, reimpl.gis-export, in start order. */
export function reimplServiceSpecs(
  config: CutoverConfig,
  e: ReimplEnvironment,
  ports: ReimplPorts = config.reimpl,
  options: { idPrefix?: string; only?: ReadonlyArray<'sync' | 'gis-export'> } = {},
): ServiceSpec[] {
  const prefix = options.idPrefix ?? 'reimpl';
  const only = options.only ?? ['sync', 'gis-export'];
  const shared = env(config, e);
  const specs: ServiceSpec[] = [];
  const heap = exportHeapArgs(config);
  const exporting = exportProcessEnv(config, shared);
  const mounted = e.mountGisExport !== false;
  if (only.includes('sync')) specs.push(nodeService(`${prefix}.sync`, 'sync', ports.sync, mounted ? exporting : shared, '/health', mounted ? heap : []));
  if (only.includes('gis-export')) {
    specs.push(nodeService(`${prefix}.gis-export`, 'gis-export', ports.gisExport, exporting, '/plugins/v1/gis-export/health', heap));
  }
  return specs;
}

export interface ReimplEdgePorts {
  gateway: Endpoint;
  narrator: Endpoint;
}

/**
 * reimpl.narrator and reimpl.gateway (in start order), with exactly the environment the legacy
 * gateway and narrator get (legacy-services.ts: DATABASE_URL, SYNC_SERVICE_URL, NARRATOR_URL,
 * OLLAMA_URL, JWT_SECRET_KEY, SECRET_KEY, COUNTY_CONFIGS_DIR, AI_*...), so either side can
 * stand in for the other.
 */
export function reimplEdgeServiceSpecs(
  config: CutoverConfig,
  e: LegacyEnvironment,
  ports: ReimplEdgePorts = config.reimpl,
  options: { idPrefix?: string; only?: ReadonlyArray<'gateway' | 'narrator'> } = {},
): ServiceSpec[] {
  const prefix = options.idPrefix ?? 'reimpl';
  const only = options.only ?? ['narrator', 'gateway'];
  const legacy = legacyServiceSpecs(config, e, { sync: ports.gateway, ...ports }, prefix);
  const envOf = (suffix: string) => legacy.find((spec) => spec.id === `${prefix}.${suffix}`)!.env;
  const specs: ServiceSpec[] = [];
  if (only.includes('narrator')) specs.push(nodeService(`${prefix}.narrator`, 'narrator', ports.narrator, envOf('narrator'), '/api/v1/health'));
  if (only.includes('gateway')) specs.push(nodeService(`${prefix}.gateway`, 'gateway', ports.gateway, envOf('gateway'), '/health/live'));
  return specs;
}
