/** Contract: POST /api/v1/{summarize,classify,explain} (legacy-contract.md section 3). */
import { describe, expect, it } from 'vitest';
import { CATEGORIES, ollamaBody, textPrompt, type TextTask } from './expected-prompts.js';
import { ai, callNarrator, nonce, ollamaIsStandin, receivedWith } from './narrator-client.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const tasks: TextTask[] = ['summarize', 'classify', 'explain'];

describe.each(tasks)('POST /api/v1/%s', (task) => {
  it('answers 200 with id, result, model_used, processing_time_ms and success', async () => {
    const reply = await callNarrator(`/api/v1/${task}`, { text: `Parcel ${nonce()} is assessed at $312,000 after an 8% rise.` });
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.json).sort()).toEqual(['id', 'model_used', 'processing_time_ms', 'result', 'success']);
    expect(reply.json).toMatchObject({ id: expect.stringMatching(UUID), model_used: ai.model, success: true, processing_time_ms: expect.any(Number) });
    expect(reply.json.result).toEqual(reply.json.result.trim());
    expect(reply.json.result.length).toBeGreaterThan(0);
  });

  it.runIf(ollamaIsStandin)('sends Ollama the contract’s prompt and options, byte for byte', async () => {
    const text = `Parcel ${nonce()} at 12 Vine St. — land $80,000, building $232,000; "résumé" of sales.`;
    await callNarrator(`/api/v1/${task}`, { text });
    const sent = await receivedWith(text.slice(7, 19));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: 'POST', path: '/api/generate' });
    expect(sent[0]!.headers['content-type']).toBe('application/json');
    expect(sent[0]!.body).toBe(ollamaBody(ai.model, textPrompt(task, text), ai.maxTokens, ai.temperature));
  });

  it.runIf(ollamaIsStandin)('passes model, max_tokens and temperature from the request, the temperature as a float', async () => {
    const text = `Parcel ${nonce()} review.`;
    const reply = await callNarrator(`/api/v1/${task}`, { text, model: 'llama3.2:latest', max_tokens: 7, temperature: 1 });
    expect(reply.json.model_used).toBe('llama3.2:latest');
    const [sent] = await receivedWith(text.slice(7, 19));
    expect(sent!.body).toBe(ollamaBody('llama3.2:latest', textPrompt(task, text), 7, 1));
    expect(sent!.body).toContain('"temperature": 1.0');
  });

  it.runIf(ollamaIsStandin)('answers the same text with the same result when Ollama is the deterministic stand-in', async () => {
    const body = { text: `Parcel ${nonce()} has a new garage.` };
    const first = await callNarrator(`/api/v1/${task}`, body);
    const second = await callNarrator(`/api/v1/${task}`, body);
    expect(second.json.result).toBe(first.json.result);
    expect(second.json.id).not.toBe(first.json.id);
  });

  it('refuses a body without text with pydantic v1’s 422 list', async () => {
    const reply = await callNarrator(`/api/v1/${task}`, { model: 'llama3.2' });
    expect(reply.status).toBe(422);
    expect(reply.json).toEqual({ detail: [{ loc: ['body', 'text'], msg: 'field required', type: 'value_error.missing' }] });
  });

  it('refuses an empty text and a max_tokens below 1 with 422', async () => {
    expect((await callNarrator(`/api/v1/${task}`, { text: '' })).json.detail[0]).toMatchObject({ loc: ['body', 'text'], type: 'value_error.any_str.min_length' });
    expect((await callNarrator(`/api/v1/${task}`, { text: 'x', max_tokens: 0 })).json.detail[0]).toMatchObject({ loc: ['body', 'max_tokens'] });
  });
});

describe('POST /api/v1/classify', () => {
  it.runIf(ollamaIsStandin)('answers with one of the contract’s categories on the first line', async () => {
    const reply = await callNarrator('/api/v1/classify', { text: `Parcel ${nonce()}: a 3-bedroom house on a quarter acre.` });
    expect(CATEGORIES).toContain(reply.json.result.split('\n')[0]);
  });
});
