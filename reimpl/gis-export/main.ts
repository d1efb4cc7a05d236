/**
 * Entry point of the reimplemented GIS export service (legacy: the gis_export plugin of
 * terrafusion_sync, routes /plugins/v1/gis-export/*), served alone on PORT (default 8190).
 */
import Fastify from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { CountyConfigs } from '../shared/county-configs.js';
import { openPool } from '../shared/database.js';
import { installFastApiSurface, MAX_PATH_PARAM, starletteRoutedUrl } from '../shared/fastapi.js';
import { GisExportMetrics, serviceExposition } from './metrics-text.js';
import { FASTAPI_PROMETHEUS_CONTENT_TYPE } from '../shared/python-prometheus.js';
import { readServiceEnv } from '../shared/service-env.js';
import { registerGisExport } from './plugin.js';

const env = readServiceEnv(process.env, 8190);
// Routed as Starlette routes: a path parameter of any length (fastify's default stops at 100:
// a 414), and an encoded slash that separates segments.
const app = Fastify({ logger: { level: 'warn' }, maxParamLength: MAX_PATH_PARAM, rewriteUrl: (request) => starletteRoutedUrl(request.url ?? '/') });
const pool = openPool({ url: env.databaseUrl, schema: env.schema, max: 16 });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const gisExportMetrics = new GisExportMetrics();
installFastApiSurface(app);
await registerGisExport(app, {
  pool, counties: new CountyConfigs(env.countyConfigsDir), metrics: gisExportMetrics, databaseUrl: env.databaseUrl, schema: env.schema,
  exportDir: env.exportDir, workers: env.gisExportWorkers, workerLifetime: env.gisExportWorkerLifetime, honourCancel: env.fixes.has('gis-export-cancel-overwritten'),
});
app.get('/metrics', async (_request, reply) => reply.header('content-type', FASTAPI_PROMETHEUS_CONTENT_TYPE).send(await serviceExposition(await registry.metrics(), gisExportMetrics)));
app.addHook('onClose', async () => pool.end());
await app.listen({ host: env.host, port: env.port });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().finally(() => process.exit(0));
  });
}
