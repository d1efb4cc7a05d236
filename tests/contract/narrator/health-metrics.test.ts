/** Contract: GET /api/v1/health and GET /api/v1/metrics of the narrator. */
import { describe, expect, it } from 'vitest';
import { ai, callNarrator, metricsText, nonce, platform, sample } from './narrator-client.js';

describe('GET /api/v1/health', () => {
  it('reports healthy with Ollama connected and the models of its /api/tags', async () => {
    const reply = await callNarrator('/api/v1/health');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ status: 'healthy', ollama: { status: 'connected', models: expect.any(Array) } });
    const tags = (await (await fetch(`${platform.ollamaUrl}/api/tags`)).json()) as { models: Array<{ name: string }> };
    expect(reply.json.ollama.models).toEqual(tags.models.map((model) => model.name));
  });
});

describe('GET /api/v1/metrics', () => {
  it('serves Prometheus text with ai_jobs_total and ai_latency_seconds', async () => {
    const response = await fetch(`${platform.narratorUrl}/api/v1/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toContain('# TYPE ai_jobs_total counter');
    expect(text).toContain('# TYPE ai_latency_seconds histogram');
  });

  it('counts a successful narration under its task, model and status "success", and times it', async () => {
    const labels = { task_type: 'explain', model_name: ai.model };
    const before = await metricsText();
    await callNarrator('/api/v1/explain', { text: `Parcel ${nonce()} land value.` });
    const after = await metricsText();
    expect(sample(after, 'ai_jobs_total', { ...labels, status: 'success' })).toBeGreaterThanOrEqual(sample(before, 'ai_jobs_total', { ...labels, status: 'success' }) + 1);
    expect(sample(after, 'ai_latency_seconds_count', labels)).toBeGreaterThanOrEqual(sample(before, 'ai_latency_seconds_count', labels) + 1);
  });
});
