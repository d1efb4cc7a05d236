/**
 * Contract: the narrator's whole fallback chain (Ollama → OpenAI-compatible cloud → canned
 * template → 503), its timeout, a degraded health, and analyze/gis-export against a sync that
 * answers fixed jobs, a missing job or an error. Runs on narrators started for this file, with
 * their own Ollama stand-in (which also serves the OpenAI-compatible route real Ollama has).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaStandin, type OllamaStandin } from '../../../src/ollama/index.js';
import { refusingPort } from '../../../src/platform/ports.js';
import { CANNED, gisExportPrompt, ollamaBody, textPrompt } from './expected-prompts.js';
import { callNarrator, metricsText, nonce, platform, sample } from './narrator-client.js';
import { canStartNarrator, startNarrator, type NarratorInstance } from './narrator-instance.js';

const MODEL = 'llama3.2';
const CLOUD_MODEL = 'gpt-4o-mini';

const completedJob = {
  job_id: 'job-completed',
  county_id: 'benton_wa',
  export_format: 'GeoJSON',
  status: 'COMPLETED',
  message: 'Export completed successfully',
  parameters: { area_of_interest: { type: 'Polygon', coordinates: [] }, layers: ['parcels', 'roads'], simplify_tolerance: 0.0001 },
  created_at: '2025-05-15T20:49:04.385874',
  updated_at: '2025-05-15T20:49:09.120001',
  started_at: '2025-05-15T20:49:04.401002',
  completed_at: '2025-05-15T20:49:09.120001',
};
const completedResult = { file_location: '/plugins/v1/gis-export/download/job-completed', file_size_kb: 412, record_count: 1873, data: null };

/** A sync stand-in answering the GIS export status/results the narrator reads. */
function startFakeSync(): Promise<Server> {
  const server = createServer((request, response) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const path = request.url ?? '';
    if (path === '/plugins/v1/gis-export/status/job-completed') return send(200, completedJob);
    if (path === '/plugins/v1/gis-export/results/job-completed') return send(200, { ...completedJob, result: completedResult });
    if (path === '/plugins/v1/gis-export/status/job-broken') return send(500, { detail: 'Internal Server Error' });
    send(404, { detail: `GIS export job ${path.split('/').pop()} not found` });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe.runIf(canStartNarrator(platform.target))('the narrator’s fallback chain', () => {
  let ollama: OllamaStandin;
  let sync: Server;
  /** Cloud fallback on, templates on, sync = the fake sync. */
  let withCloud: NarratorInstance;
  /** No cloud, templates off, a 1 s model timeout, sync unreachable. */
  let strict: NarratorInstance;

  beforeAll(async () => {
    ollama = await startOllamaStandin({ models: [MODEL, CLOUD_MODEL] });
    sync = await startFakeSync();
    const closedPort = await refusingPort();
    const common = { OLLAMA_URL: ollama.url, AI_MODEL_NAME: MODEL, AI_MAX_TOKENS: '1000', AI_TEMPERATURE: '0.7' };
    [withCloud, strict] = await Promise.all([
      startNarrator(platform.target, {
        ...common,
        SYNC_SERVICE_URL: `http://127.0.0.1:${(sync.address() as AddressInfo).port}`,
        ENABLE_CLOUD_AI: 'true',
        OPENAI_API_KEY: 'sk-test-narrator',
        OPENAI_BASE_URL: ollama.url,
        OPENAI_MODEL: CLOUD_MODEL,
      }),
      startNarrator(platform.target, {
        ...common,
        SYNC_SERVICE_URL: `http://127.0.0.1:${closedPort}`,
        ENABLE_CLOUD_AI: '',
        ENABLE_TEMPLATE_FALLBACK: 'false',
        AI_TIMEOUT_SECONDS: '1',
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([withCloud?.stop(), strict?.stop()]);
    await ollama?.close();
    await new Promise((resolve) => sync?.close(resolve));
  });
  afterEach(() => ollama.setFaults(undefined));

  it('answers from the cloud, flagged, when Ollama fails and cloud AI is enabled', async () => {
    const marker = nonce();
    ollama.setFaults({ status: 500, paths: ['/api/generate'] });
    const text = `Parcel ${marker} sold twice this year.`;
    const reply = await callNarrator('/api/v1/summarize', { text }, withCloud.url);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ model_used: CLOUD_MODEL, success: true, fallback: true, fallback_source: 'cloud' });
    expect(reply.json.result.length).toBeGreaterThan(20);

    const sent = ollama.received().filter((request) => request.body.includes(marker));
    expect(sent.map((request) => request.path)).toEqual(['/api/generate', '/v1/chat/completions']);
    expect(sent[0]!.body).toBe(ollamaBody(MODEL, textPrompt('summarize', text), 1000, 0.7));
    expect(sent[1]!.headers.authorization).toBe('Bearer sk-test-narrator');
    expect(sent[1]!.json).toEqual({ model: CLOUD_MODEL, messages: [{ role: 'user', content: textPrompt('summarize', text) }], max_tokens: 1000, temperature: 0.7 });
  });

  it('answers with the canned template when both Ollama and the cloud fail', async () => {
    ollama.setFaults({ status: 503 });
    const reply = await callNarrator('/api/v1/explain', { text: `Parcel ${nonce()}.` }, withCloud.url);
    expect(reply.json).toMatchObject({ result: CANNED.explain, model_used: 'template-fallback', fallback: true, fallback_source: 'template' });
  });

  it('counts cloud and template fallbacks apart', async () => {
    const text = await metricsText(withCloud.url);
    expect(sample(text, 'ai_jobs_total', { task_type: 'summarize', model_name: CLOUD_MODEL, status: 'cloud_fallback' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ai_jobs_total', { task_type: 'explain', model_name: 'template-fallback', status: 'template_fallback' })).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 "AI processing failed" when every link fails, and counts it as an error', async () => {
    ollama.setFaults({ status: 500, paths: ['/api/generate'] });
    const reply = await callNarrator('/api/v1/classify', { text: `Parcel ${nonce()}.` }, strict.url);
    expect(reply.status).toBe(503);
    expect(reply.json).toEqual({ error: 'AI processing failed', details: expect.stringContaining('ollama') });
    expect(sample(await metricsText(strict.url), 'ai_jobs_total', { task_type: 'classify', model_name: MODEL, status: 'error' })).toBe(1);
  });

  it('gives up on Ollama after AI_TIMEOUT_SECONDS', async () => {
    ollama.setFaults({ latencyMs: 2500, paths: ['/api/generate'] });
    const started = performance.now();
    const reply = await callNarrator('/api/v1/summarize', { text: `Parcel ${nonce()}.` }, strict.url);
    expect(reply.status).toBe(503);
    expect(reply.json.details).toMatch(/within 1(\.0)? s/);
    expect(performance.now() - started).toBeLessThan(2400);
  });

  it('reports degraded health, still 200, when Ollama’s /api/tags fails', async () => {
    ollama.setFaults({ status: 500, paths: ['/api/tags'] });
    const reply = await callNarrator('/api/v1/health', undefined, strict.url);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ status: 'degraded', ollama: { status: 'disconnected', models: [] } });
  });

  it('narrates a completed GIS export job from sync with the exact contract prompt', async () => {
    const reply = await callNarrator('/api/v1/ai/analyze/gis-export', { job_id: 'job-completed' }, withCloud.url);
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.json).sort()).toEqual(['id', 'job_id', 'job_status', 'model_used', 'processing_time_ms', 'result', 'success']);
    expect(reply.json).toMatchObject({ job_id: 'job-completed', job_status: 'COMPLETED', model_used: MODEL, success: true });
    const [sent] = ollama.received().filter((request) => request.body.includes('job-completed'));
    const prompt = gisExportPrompt(completedJob, completedResult);
    expect(prompt).toContain('Layers: parcels, roads\n');
    expect(prompt).toContain('Records exported: 1873\nFile size (KB): 412\n');
    expect(sent!.body).toBe(ollamaBody(MODEL, prompt, 1000, 0.7));
  });

  it('falls back to a canned GIS export narrative naming the job when no model answers', async () => {
    ollama.setFaults({ status: 500 });
    const reply = await callNarrator('/api/v1/ai/analyze/gis-export', { job_id: 'job-completed' }, withCloud.url);
    expect(reply.json.result).toBe(
      'GIS export job job-completed for benton_wa (GeoJSON) is COMPLETED: Export completed successfully. Records exported: 1873. File size (KB): 412. ' +
        'An AI narrative is not available right now because the language model could not be reached.',
    );
    expect(reply.json).toMatchObject({ model_used: 'template-fallback', fallback: true, job_status: 'COMPLETED' });
  });

  it('answers 404 when sync does not know the job, with sync’s detail', async () => {
    const reply = await callNarrator('/api/v1/ai/analyze/gis-export', { job_id: 'job-missing' }, withCloud.url);
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ error: 'GIS export job not found', details: 'GIS export job job-missing not found' });
  });

  it('answers 502 when sync fails or cannot be reached', async () => {
    const broken = await callNarrator('/api/v1/ai/analyze/gis-export', { job_id: 'job-broken' }, withCloud.url);
    expect(broken.status).toBe(502);
    expect(broken.json).toEqual({ error: 'SyncService is not available', details: expect.stringContaining('500') });
    const unreachable = await callNarrator('/api/v1/ai/analyze/gis-export', { job_id: 'job-completed' }, strict.url);
    expect(unreachable.status).toBe(502);
    expect(unreachable.json.error).toBe('SyncService is not available');
  });
});
