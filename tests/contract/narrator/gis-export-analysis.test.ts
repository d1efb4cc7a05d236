/**
 * Contract: POST /api/v1/ai/analyze/gis-export with a real job of the platform's sync service.
 * The narrator reads the job (and its result once COMPLETED) from sync and narrates it.
 */
import { describe, expect, it } from 'vitest';
import { centralAreaOfInterest } from '../../../src/platform/gis-export-client.js';
import { gisExportPrompt, ollamaBody } from './expected-prompts.js';
import { ai, callNarrator, ollamaIsStandin, platform, receivedWith } from './narrator-client.js';

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

async function syncJson(path: string, init?: RequestInit): Promise<{ status: number; json: any }> {
  const response = await fetch(platform.syncUrl + path, init);
  return { status: response.status, json: await response.json().catch(() => null) };
}

/** Submits an export to sync and polls it to a terminal state; null when sync has no GIS export /run yet. */
async function finishedJob(format: string): Promise<any | null> {
  const run = await syncJson('/plugins/v1/gis-export/run', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      county_id: 'test_county',
      format,
      username: 'narrator-contract',
      area_of_interest: await centralAreaOfInterest(platform.databaseUrl, 'test_county'),
      layers: ['parcels', 'zoning'],
      parameters: null,
    }),
  });
  if (run.status === 404 || run.status === 405) return null;
  expect(run.status).toBe(200);
  const deadline = Date.now() + 60_000;
  let job = run.json;
  while (!TERMINAL.has(job.status)) {
    if (Date.now() > deadline) throw new Error(`job ${job.job_id} still ${job.status} after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    job = (await syncJson(`/plugins/v1/gis-export/status/${job.job_id}`)).json;
  }
  return job;
}

describe('POST /api/v1/ai/analyze/gis-export', () => {
  it('answers 404 with the error shape for a job sync does not know', async () => {
    const reply = await callNarrator('/api/v1/ai/analyze/gis-export', { job_id: '00000000-0000-4000-8000-000000000000' });
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ error: 'GIS export job not found', details: expect.any(String) });
  });

  it('refuses a body without job_id with pydantic v1’s 422 list', async () => {
    const reply = await callNarrator('/api/v1/ai/analyze/gis-export', {});
    expect(reply.status).toBe(422);
    expect(reply.json.detail[0]).toMatchObject({ loc: ['body', 'job_id'], type: 'value_error.missing' });
  });

  it('narrates a completed export with its record count and file size in the prompt', async (context) => {
    const job = await finishedJob('GeoJSON');
    if (job === null) return context.skip('sync has no /plugins/v1/gis-export/run yet');
    expect(job.status).toBe('COMPLETED');
    const { result } = (await syncJson(`/plugins/v1/gis-export/results/${job.job_id}`)).json;

    const reply = await callNarrator('/api/v1/ai/analyze/gis-export', { job_id: job.job_id });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ id: expect.any(String), job_id: job.job_id, job_status: 'COMPLETED', model_used: ai.model, success: true });
    expect(reply.json.result.length).toBeGreaterThan(0);
    if (!ollamaIsStandin) return;
    const [sent] = await receivedWith(job.job_id);
    expect(sent!.body).toBe(ollamaBody(ai.model, gisExportPrompt(job, result), ai.maxTokens, ai.temperature));
    expect(sent!.body).toContain(`Records exported: ${result.record_count}`);
  });

  it('narrates a failed export with its failure message', async (context) => {
    const job = await finishedJob('FAIL_FORMAT_SIM');
    if (job === null) return context.skip('sync has no /plugins/v1/gis-export/run yet');
    expect(job.status).toBe('FAILED');
    const reply = await callNarrator('/api/v1/ai/analyze/gis-export', { job_id: job.job_id });
    expect(reply.json).toMatchObject({ job_id: job.job_id, job_status: 'FAILED', success: true });
    if (!ollamaIsStandin) return;
    const [sent] = await receivedWith(job.job_id);
    expect(sent!.body).toBe(ollamaBody(ai.model, gisExportPrompt(job, null), ai.maxTokens, ai.temperature));
    expect(sent!.json).toMatchObject({ prompt: expect.stringContaining('Records exported: n/a') });
  });
});
