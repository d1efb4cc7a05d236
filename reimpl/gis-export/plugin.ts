/**
 * The GIS export as one fastify plugin: job store, runner and routes. Served alone by
 * reimpl/gis-export/main.ts (:8190) and mounted in-process by the reimplemented sync service
 * when configured to, so one sync base URL answers every legacy sync route
 * (docs/decisions/0004-gis-export-plugin-mounting.md).
 */
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { CountyConfigs } from '../shared/county-configs.js';
import { GisJobStore } from './job-store.js';
import type { GisExportMetrics } from './metrics-text.js';
import { gisExportRoutes } from './routes.js';
import { ExportRunner } from './runner.js';
import type { WorkerLifetime } from './export-worker.js';

export interface GisExportOptions {
  pool: pg.Pool;
  counties: CountyConfigs;
  metrics: GisExportMetrics;
  databaseUrl: string;
  schema?: string;
  exportDir: string;
  workers: number;
  workerLifetime: WorkerLifetime;
  honourCancel: boolean;
}

/** Registers the GIS export routes on `app` and stops the export workers when it closes. */
export async function registerGisExport(app: FastifyInstance, options: GisExportOptions): Promise<ExportRunner> {
  const store = new GisJobStore(options.pool);
  const runner = new ExportRunner({
    store, databaseUrl: options.databaseUrl, schema: options.schema, exportDir: options.exportDir,
    workers: options.workers, workerLifetime: options.workerLifetime, metrics: options.metrics, honourCancel: options.honourCancel,
    log: (line) => app.log.error(line),
  });
  await gisExportRoutes(app, { store, counties: options.counties, runner, exportDir: options.exportDir, metrics: options.metrics });
  app.addHook('onClose', async () => runner.stop());
  return runner;
}
