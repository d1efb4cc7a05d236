// Contract: what the legacy gateway answers when sync or the narrator cannot be reached
// (503 "not available") or answers garbage (500 "communication error").
import { createServer as createNetServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusingPort } from '../../../src/platform/ports.js';
import { startExtraGateway, type ExtraGateway } from './extra-gateway.js';
import { call, mintToken, platform } from './gateway-client.js';

const syncOffline = { error: 'SyncService is not available', message: 'The SyncService component is currently offline.' };
const narratorOffline = { error: 'Narrator service is not available', message: 'The Narrator AI component is currently offline.' };
const noJob = '00000000-0000-0000-0000-000000000000';

/** A server that answers every request with a broken chunked body. */
function startBrokenServer(): Promise<{ server: Server; url: string }> {
  const server = createNetServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk'));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` });
    }),
  );
}

describe('gateway with sync and narrator unreachable', () => {
  let gateway: ExtraGateway;
  let token: string;

  beforeAll(async () => {
    // Nothing listens on these ports: connections are refused.
    const dead = `http://127.0.0.1:${await refusingPort()}`;
    gateway = await startExtraGateway(platform, { syncServiceUrl: dead, narratorUrl: dead });
    token = await mintToken();
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('answers 503 SyncService is not available on sync passthroughs', async () => {
    const calls = [
      call(`/api/v1/gis-export/status/${noJob}`, { token, baseUrl: gateway.url }),
      call('/api/v1/gis-export/list', { token, baseUrl: gateway.url }),
      call('/api/v1/reporting/run', { token, baseUrl: gateway.url, body: { county_id: 'test_county', report_type: 'x' } }),
      call('/api/counties', { token, baseUrl: gateway.url }),
    ];
    for (const reply of await Promise.all(calls)) {
      expect(reply.status).toBe(503);
      expect(reply.json).toEqual(syncOffline);
    }
  });

  it('answers 503 Narrator service is not available on AI passthroughs', async () => {
    const reply = await call('/api/v1/ai/explain', { token, baseUrl: gateway.url, body: { text: 'Why?' } });
    expect(reply.status).toBe(503);
    expect(reply.json).toEqual(narratorOffline);
  });

  it('still checks credentials before trying sync', async () => {
    const reply = await call(`/api/v1/gis-export/status/${noJob}`, { baseUrl: gateway.url });
    expect(reply.status).toBe(401);
  });

  it('stays healthy but degraded: its own database is up', async () => {
    const health = await call('/health', { baseUrl: gateway.url });
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({
      status: 'degraded',
      components: { api_gateway: 'up', sync_service: 'down', database: 'up' },
    });
    const ready = await call('/health/ready', { baseUrl: gateway.url });
    expect(ready.status).toBe(200);
    expect(ready.json.details).toEqual({ dependencies: { database: 'up', sync_service: 'down' } });
  });
});

describe('gateway with a sync that answers garbage', () => {
  let gateway: ExtraGateway;
  let broken: { server: Server; url: string };

  beforeAll(async () => {
    broken = await startBrokenServer();
    gateway = await startExtraGateway(platform, { syncServiceUrl: broken.url, narratorUrl: broken.url });
  });
  afterAll(async () => {
    await gateway?.stop();
    broken?.server.close();
  });

  it('answers 500 SyncService communication error with the cause in message', async () => {
    const reply = await call('/api/counties', { token: await mintToken(), baseUrl: gateway.url });
    expect(reply.status).toBe(500);
    expect(reply.json).toEqual({ error: 'SyncService communication error', message: expect.any(String) });
  });
});

describe('gateway whose own database is down', () => {
  let gateway: ExtraGateway;

  beforeAll(async () => {
    const deadDatabase = `postgresql://postgres@127.0.0.1:${await refusingPort()}/nothing`;
    gateway = await startExtraGateway(platform, {
      syncServiceUrl: platform.syncUrl,
      narratorUrl: platform.narratorUrl,
      databaseUrl: deadDatabase,
    });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('answers 503 unhealthy on /health and not_ready on /health/ready, but stays alive', async () => {
    const health = await call('/health', { baseUrl: gateway.url });
    expect(health.status).toBe(503);
    expect(health.json).toMatchObject({ status: 'unhealthy', components: { api_gateway: 'up', sync_service: 'up', database: 'down' } });
    const ready = await call('/health/ready', { baseUrl: gateway.url });
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: 'not_ready', details: { dependencies: { database: 'down', sync_service: 'up' } } });
    const live = await call('/health/live', { baseUrl: gateway.url });
    expect(live.status).toBe(200);
  });

  it('still logs users in and passes calls on to sync', async () => {
    const login = await call('/auth/login', { baseUrl: gateway.url, body: { username: 'auditor', password: 'auditor123' } });
    expect(login.status).toBe(200);
    const counties = await call('/api/counties', { baseUrl: gateway.url, token: login.json.access_token });
    expect(counties.status).toBe(200);
  });
});
