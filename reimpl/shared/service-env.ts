/**
 * The environment contract every reimplemented service shares with the legacy ones
 * (HOST, PORT, DATABASE_URL, DB_SCHEMA, COUNTY_CONFIGS_DIR, EXPORT_DIR, ENVIRONMENT, ENV), read
 * once at start into a frozen object.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportWorkerDefaults } from '../../src/config/export-worker-defaults.js';
import { CutoverError } from '../../src/errors.js';

export interface ServiceEnv {
  host: string;
  port: number;
  databaseUrl: string;
  schema: string | undefined;
  countyConfigsDir: string;
  exportDir: string;
  environment: string;
  /** ENV, which production's seed route reads (unset or `development` allows seeding); not ENVIRONMENT. */
  deployment: string | undefined;
  /** Parallel export jobs (legacy's GIS_EXPORT_WORKERS). */
  gisExportWorkers: number;
  /** How long an export worker process is kept and when it is replaced (config reimpl.exportWorkers). */
  gisExportWorkerLifetime: Readonly<{ idleLifetimeMs: number; rssCeilingMb: number }>;
  /** Declared differences switched on (parity/accepted-differences.yaml); `none` reproduces legacy exactly. */
  fixes: ReadonlySet<string>;
  /** Whether the sync service serves the GIS export routes itself. */
  mountGisExport: boolean;
}

export const ALL_FIXES = ['county-config-password', 'gis-export-cancel-overwritten'] as const;
/** On unless REIMPL_FIXES says otherwise. The cancel fix waits until the contract suite reads
 * the declared differences (its test still pins legacy's overwrite). */
export const DEFAULT_FIXES = ['county-config-password'] as const;

export function readServiceEnv(env: NodeJS.ProcessEnv, defaultPort: number): ServiceEnv {
  const fixes = (env.REIMPL_FIXES ?? DEFAULT_FIXES.join(',')).split(',').map((s) => s.trim()).filter((s) => s && s !== 'none');
  const unknown = fixes.filter((fix) => !(ALL_FIXES as readonly string[]).includes(fix));
  if (unknown.length) {
    throw new CutoverError('CUTOVER_ERR_REIMPL_FIX_UNKNOWN', `REIMPL_FIXES names ${unknown.join(', ')}; known declared differences: ${ALL_FIXES.join(', ')}`);
  }
  return Object.freeze({
    host: env.HOST || '127.0.0.1',
    port: Number(env.PORT || defaultPort),
    databaseUrl: env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres',
    schema: env.DB_SCHEMA?.trim() || undefined,
    countyConfigsDir: env.COUNTY_CONFIGS_DIR || resolve(fileURLToPath(new URL('../../legacy/county_configs', import.meta.url))),
    exportDir: env.EXPORT_DIR || join(tmpdir(), 'terrafusion-gis-exports'),
    environment: env.ENVIRONMENT || 'development',
    deployment: env.ENV,
    gisExportWorkers: Number(env.GIS_EXPORT_WORKERS || 2),
    gisExportWorkerLifetime: Object.freeze({
      idleLifetimeMs: Number(env.GIS_EXPORT_WORKER_IDLE_MS || exportWorkerDefaults.idleLifetimeMs),
      rssCeilingMb: Number(env.GIS_EXPORT_WORKER_RSS_CEILING_MB || exportWorkerDefaults.rssCeilingMb),
    }),
    fixes: new Set(fixes),
    mountGisExport: (env.SYNC_MOUNT_GIS_EXPORT ?? '1') !== '0',
  });
}
