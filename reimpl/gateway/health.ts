/**
 * GET /health, /health/live, /health/ready, as legacy/terrafusion_gateway/health.py: the
 * gateway's own store is the PostgreSQL at DATABASE_URL (only its loss makes /health 503); a
 * missing sync makes the gateway "degraded", still 200.
 */
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { utcNowIso } from '../shared/clock.js';
import type { GatewayContext } from './context.js';
import { sendJsonify } from './flask-json.js';

const SERVICE_NAME = 'TerraFusion API Gateway';
const VERSION = '0.1.0';

async function databaseUp(context: GatewayContext): Promise<boolean> {
  const url = context.settings.databaseUrl;
  if (!url) return false;
  // psycopg2's connect_timeout is whole seconds and at least 2 (legacy's own comment).
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: Math.max(2, Math.trunc(context.settings.healthProbeTimeout)) * 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query('SELECT 1 AS one');
    return result.rows[0]?.one === 1;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const word = (up: boolean) => (up ? 'up' : 'down');

export function registerHealthRoutes(app: FastifyInstance, context: GatewayContext): void {
  const probes = () => Promise.all([databaseUp(context), context.sync.probe('/health', context.settings.healthProbeTimeout)]);

  app.get('/health', { config: { rule: '/health' } }, async (_request, reply) => {
    const [db, sync] = await probes();
    const status = db && sync ? 'healthy' : db ? 'degraded' : 'unhealthy';
    return sendJsonify(reply, db ? 200 : 503, {
      service: SERVICE_NAME,
      status,
      version: VERSION,
      timestamp: utcNowIso(),
      components: { api_gateway: 'up', sync_service: word(sync), database: word(db) },
    });
  });

  app.get('/health/live', { config: { rule: '/health/live' } }, async (_request, reply) =>
    sendJsonify(reply, 200, { status: 'alive', service: SERVICE_NAME, timestamp: utcNowIso() }),
  );

  app.get('/health/ready', { config: { rule: '/health/ready' } }, async (_request, reply) => {
    const [db, sync] = await probes();
    return sendJsonify(reply, db ? 200 : 503, {
      status: db ? 'ready' : 'not_ready',
      details: { dependencies: { database: word(db), sync_service: word(sync) } },
      timestamp: utcNowIso(),
    });
  });
}
