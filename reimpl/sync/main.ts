/**
 * Entry point of the reimplemented sync service (legacy: `uvicorn terrafusion_sync.app:app`).
 * Reads the legacy services' env (HOST, PORT default 8180, DATABASE_URL, DB_SCHEMA,
 * COUNTY_CONFIGS_DIR, EXPORT_DIR) and stops cleanly on SIGTERM/SIGINT.
 */
import { readServiceEnv } from '../shared/service-env.js';
import { buildSyncApp } from './app.js';

const env = readServiceEnv(process.env, 8180);
const app = await buildSyncApp(env);
await app.listen({ host: env.host, port: env.port });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().finally(() => process.exit(0));
  });
}
