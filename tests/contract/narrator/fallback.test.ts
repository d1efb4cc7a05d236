/**
 * Contract: when Ollama fails, the narrator answers with the canned template, flagged as a
 * fallback (the harness's narrator runs without ENABLE_CLOUD_AI; the cloud link is covered in
 * cloud-fallback.test.ts). Faults are scoped to this file's own requests by a nonce.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CANNED, type TextTask } from './expected-prompts.js';
import { ai, callNarrator, metricsText, nonce, ollamaIsStandin, receivedWith, sample, setFault } from './narrator-client.js';

const faults = [
  { name: 'answers 500', spec: { status: 500 } },
  { name: 'answers 404 for the model', spec: { status: 404, errorMessage: `model '${ai.model}' not found` } },
  { name: 'drops the connection', spec: { drop: true } },
] as const;

describe.runIf(ollamaIsStandin)('the narrator when Ollama fails', () => {
  afterEach(() => setFault(undefined));

  describe.each(faults)('and Ollama $name', ({ spec }) => {
    it.each(['summarize', 'classify', 'explain'] as TextTask[])('answers %s with the canned answer, flagged as a template fallback', async (task) => {
      const marker = nonce();
      await setFault({ ...spec, paths: ['/api/generate'], bodyContains: marker });
      const reply = await callNarrator(`/api/v1/${task}`, { text: `Parcel ${marker} appeal.` });
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({
        id: expect.any(String),
        result: CANNED[task],
        model_used: 'template-fallback',
        processing_time_ms: expect.any(Number),
        success: true,
        fallback: true,
        fallback_source: 'template',
      });
      // Exactly one try: the narrator does not retry Ollama.
      expect(await receivedWith(marker)).toHaveLength(1);
    });
  });

  it('counts a template fallback as status "template_fallback" under the model "template-fallback"', async () => {
    const labels = { task_type: 'summarize', model_name: 'template-fallback', status: 'template_fallback' };
    const before = sample(await metricsText(), 'ai_jobs_total', labels);
    const marker = nonce();
    await setFault({ status: 500, paths: ['/api/generate'], bodyContains: marker });
    await callNarrator('/api/v1/summarize', { text: `Parcel ${marker}.` });
    expect(sample(await metricsText(), 'ai_jobs_total', labels)).toBeGreaterThanOrEqual(before + 1);
  });

  it('answers from Ollama again as soon as the fault is gone', async () => {
    const marker = nonce();
    await setFault({ status: 500, paths: ['/api/generate'], bodyContains: marker, times: 1 });
    expect((await callNarrator('/api/v1/explain', { text: `Parcel ${marker}.` })).json.model_used).toBe('template-fallback');
    expect((await callNarrator('/api/v1/explain', { text: `Parcel ${marker}.` })).json.model_used).toBe(ai.model);
  });
});
