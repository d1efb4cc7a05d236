// Contract: the legacy gateway's POST /api/v1/ai/{summarize,classify,explain} -> narrator /api/v1/<task>.
import { describe, expect, it } from 'vitest';
import { accessTokenOf, call, platform } from './gateway-client.js';

describe('gateway narrator passthrough', () => {
  for (const task of ['summarize', 'classify', 'explain']) {
    it(`forwards ${task} to the narrator and answers its result`, async () => {
      const reply = await call(`/api/v1/ai/${task}`, {
        token: await accessTokenOf('staff'),
        body: { text: 'Parcel 1-234 sold for $310,000 in March; its assessed value is $255,000.' },
      });
      expect(reply.status).toBe(200);
      expect(reply.json).toMatchObject({
        id: expect.any(String),
        result: expect.any(String),
        model_used: expect.any(String),
        processing_time_ms: expect.any(Number),
        success: true,
      });
    });
  }

  it('passes the narrator’s own validation error through unchanged', async () => {
    const viaGateway = await call('/api/v1/ai/summarize', { token: await accessTokenOf('staff'), body: {} });
    const viaNarrator = await call('/api/v1/summarize', { baseUrl: platform.narratorUrl, body: {} });
    expect(viaGateway.status).toBe(viaNarrator.status);
    expect(viaGateway.text).toBe(viaNarrator.text);
  });

  it('does not route tasks the narrator does not offer to it', async () => {
    const reply = await call('/api/v1/ai/translate', { token: await accessTokenOf('staff'), body: { text: 'x' } });
    expect(reply.status).toBe(404);
  });
});
