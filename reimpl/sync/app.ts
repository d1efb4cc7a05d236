/**
 * The reimplemented sync service (legacy: terrafusion_sync/app.py): core routes, the
 * reporting, market-analysis (both doors) and valuation plugins and, when mounted, the GIS export plugin,
 * all with FastAPI's error surface.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { CountyConfigs } from '../shared/county-configs.js';
import { openPool } from '../shared/database.js';
import { installFastApiSurface, MAX_PATH_PARAM, starletteRoutedUrl } from '../shared/fastapi.js';
import type { ServiceEnv } from '../shared/service-env.js';
import { GisExportMetrics } from '../gis-export/metrics-text.js';
import { registerGisExport } from '../gis-export/plugin.js';
import { registerCoreRoutes } from './core-routes.js';
import { MarketStudies, registerMarketAnalysis } from './plugins/market-analysis.js';
import { registerMarketAnalysisPlugin } from './plugins/market-analysis-plugin.js';
import { registerReporting } from './plugins/reporting.js';
import { registerValuation } from './plugins/valuation.js';
import { registerSeedSampleData } from './seed-sample-data.js';

/** Builds the sync app (not listening); closing it closes its pool and export workers. */
export async function buildSyncApp(env: ServiceEnv): Promise<FastifyInstance> {
  // Routed as Starlette routes: a path parameter of any length (fastify's default stops at 100:
  // a 414), and an encoded slash that separates segments.
  const app = Fastify({ logger: { level: 'warn' }, maxParamLength: MAX_PATH_PARAM, rewriteUrl: (request) => starletteRoutedUrl(request.url ?? '/'), return503OnClosing: false });
  const pool = openPool({ url: env.databaseUrl, schema: env.schema, max: 16 });
  const counties = new CountyConfigs(env.countyConfigsDir);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Declared whether or not the export runs here: legacy's /metrics always lists the families.
  const gisExportMetrics = new GisExportMetrics();
  installFastApiSurface(app);
  registerCoreRoutes(app, { pool, counties, environment: env.environment, metrics: registry, gisExportMetrics, redactCountyPassword: env.fixes.has('county-config-password') });
  if (env.mountGisExport) {
    await registerGisExport(app, {
      pool, counties, metrics: gisExportMetrics, databaseUrl: env.databaseUrl, schema: env.schema, exportDir: env.exportDir,
      workers: env.gisExportWorkers, workerLifetime: env.gisExportWorkerLifetime, honourCancel: env.fixes.has('gis-export-cancel-overwritten'),
    });
  }
  registerReporting(app, pool);
  const studies = new MarketStudies(pool);
  registerMarketAnalysisPlugin(app, pool, registerMarketAnalysis(app, pool, studies), studies);
  registerValuation(app, pool);
  registerSeedSampleData(app, pool, env.deployment);
  app.addHook('onClose', async () => pool.end());
  return app;
}
