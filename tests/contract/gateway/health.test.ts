// Contract: legacy gateway GET /health, /health/live, /health/ready (legacy-contract.md section 2).
import { describe, expect, it } from 'vitest';
import { call } from './gateway-client.js';

const naiveUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;

describe('gateway health', () => {
  it('reports itself healthy with every component up while sync and its database run', async () => {
    const reply = await call('/health');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      service: 'TerraFusion API Gateway',
      status: 'healthy',
      version: '0.1.0',
      timestamp: expect.stringMatching(naiveUtc),
      components: { api_gateway: 'up', sync_service: 'up', database: 'up' },
    });
  });

  it('answers with keys sorted the way Flask jsonify sorts them', async () => {
    const reply = await call('/health');
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(reply.text.indexOf('"components"')).toBeLessThan(reply.text.indexOf('"service"'));
    expect(reply.text.indexOf('"service"')).toBeLessThan(reply.text.indexOf('"version"'));
  });

  it('says it is alive on /health/live', async () => {
    const reply = await call('/health/live');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ status: 'alive', service: 'TerraFusion API Gateway', timestamp: expect.stringMatching(naiveUtc) });
  });

  it('says it is ready on /health/ready with its dependencies up', async () => {
    const reply = await call('/health/ready');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      status: 'ready',
      details: { dependencies: { database: 'up', sync_service: 'up' } },
      timestamp: expect.stringMatching(naiveUtc),
    });
  });
});
