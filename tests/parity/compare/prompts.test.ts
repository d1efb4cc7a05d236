import { describe, expect, it } from 'vitest';
import { comparePrompts } from '../../../parity/compare/prompts.js';
import type { ReceivedRequest } from '../../../src/ollama/standin-log.js';

let seq = 0;
const sent = (body: string): ReceivedRequest => ({
  seq: ++seq, method: 'POST', path: '/api/generate', query: '', headers: {}, rawBody: Buffer.from(body), body,
  json: (() => { try { return JSON.parse(body); } catch { return null; } })(), receivedAt: new Date().toISOString(),
});
const prompt = (text: string, temperature = '0.7') => `{"model":"llama3.2","prompt":"${text}","stream":false,"options":{"num_predict":1000,"temperature":${temperature},"top_k":40,"top_p":0.9}}`;

describe('prompts sent to the LLM', () => {
  it('are equal only when every request is identical, byte for byte, in order', () => {
    expect(comparePrompts([sent(prompt('Summarize: a'))], [sent(prompt('Summarize: a'))])).toEqual([]);
    expect(comparePrompts([sent(prompt('Summarize: a'))], [sent(prompt('Summarise: a'))])[0]).toMatchObject({ path: 'prompts[0].body', kind: 'text', detail: expect.stringContaining('character') });
  });

  it('see a serialisation difference of the same JSON (0.7 vs 0.70) and a missing request', () => {
    expect(comparePrompts([sent(prompt('x'))], [sent(prompt('x', '0.70'))])[0]!.detail).toContain('serialisation differs');
    expect(comparePrompts([sent(prompt('x')), sent(prompt('y'))], [sent(prompt('x'))])).toEqual([expect.objectContaining({ path: 'prompts', kind: 'length', legacy: 2, reimpl: 1 })]);
  });
});
