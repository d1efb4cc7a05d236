import { Ollama } from 'ollama';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureOllama, fromJson, startOllamaStandin, type OllamaStandin, type ReceivedRequestJson } from '../../src/ollama/index.js';

let standin: OllamaStandin;
let ollama: Ollama;

beforeAll(async () => {
  standin = await startOllamaStandin({ host: '127.0.0.1', port: 0 });
  ollama = new Ollama({ host: standin.url });
});
afterAll(async () => {
  await standin.close();
});
beforeEach(() => {
  standin.clear();
  standin.setFaults(undefined);
});

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const parts: T[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

describe('the Ollama stand-in, through the real ollama client', () => {
  it('answers a non-streaming generate with prose and Ollama’s final fields', async () => {
    const answer = await ollama.generate({ model: 'llama3.2', prompt: 'Summarize the assessment of parcel 1-234.', stream: false });
    expect(answer.model).toBe('llama3.2');
    expect(answer.done).toBe(true);
    expect(answer.done_reason).toBe('stop');
    expect(String(answer.response).split(' ').length).toBeGreaterThan(10);
    expect(answer.response).toMatch(/\b(assess|parcel|value|sales|propert)/i);
    expect(answer.eval_count).toBeGreaterThan(0);
    expect(answer.prompt_eval_count).toBe(6);
    expect(answer.total_duration).toBe(answer.load_duration + Number((answer as unknown as { prompt_eval_duration: number }).prompt_eval_duration) + answer.eval_duration);
    expect(Array.isArray(answer.context)).toBe(true);
  });

  it('streams generate as chunks that join to the non-streaming answer', async () => {
    const whole = await ollama.generate({ model: 'llama3.2', prompt: 'Explain the land value.', stream: false });
    const parts = await collect(await ollama.generate({ model: 'llama3.2', prompt: 'Explain the land value.', stream: true }));
    const last = parts.at(-1)!;
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.slice(0, -1).every((part) => !part.done)).toBe(true);
    expect(last.done).toBe(true);
    expect(last.eval_count).toBe(parts.length - 1);
    expect(parts.map((part) => part.response).join('')).toBe(whole.response);
  });

  it('answers chat streaming and not, with an assistant message', async () => {
    const messages = [
      { role: 'system', content: 'You are a county assessor.' },
      { role: 'user', content: 'Why did my value go up?' },
    ];
    const whole = await ollama.chat({ model: 'llama3.2:latest', messages, stream: false });
    expect(whole.message.role).toBe('assistant');
    expect(whole.message.content.length).toBeGreaterThan(40);
    const parts = await collect(await ollama.chat({ model: 'llama3.2:latest', messages, stream: true }));
    expect(parts.at(-1)!.done).toBe(true);
    expect(parts.map((part) => part.message.content).join('')).toBe(whole.message.content);
  });

  it('lists its models with the fields of /api/tags', async () => {
    const { models } = await ollama.list();
    expect(models.map((model) => model.name)).toEqual(['llama3.2:latest']);
    expect(models[0]).toMatchObject({ model: 'llama3.2:latest', size: expect.any(Number), digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(models[0]!.details).toMatchObject({ family: 'llama', format: 'gguf' });
  });

  it('gives the same output for the same input and a different one for a different prompt or options', async () => {
    const ask = (prompt: string, temperature = 0.7) => ollama.generate({ model: 'llama3.2', prompt, stream: false, options: { temperature } }).then((a) => a.response);
    const first = await ask('Summarize parcel 7 in Benton County.');
    expect(await ask('Summarize parcel 7 in Benton County.')).toBe(first);
    expect(await ask('Summarize parcel 8 in Benton County.')).not.toBe(first);
    expect(await ask('Summarize parcel 7 in Benton County.', 0.2)).not.toBe(first);
  });

  it('answers prompts that differ only in per-run values alike, and differently when a value’s shape or order differs', async () => {
    const ask = (prompt: string) => ollama.generate({ model: 'llama3.2', prompt, stream: false }).then((a) => a.response);
    const job = (id: string, created: string, completed: string) => `Report on job ${id}.\nCreated at: ${created}\nCompleted at: ${completed}\nReport:`;
    const first = await ask(job('69f75e1e-14f9-4671-8245-695eb60298d2', '2026-12-02T16:13:41.715522', '2026-12-02T16:13:42.038229'));
    expect(await ask(job('dc123b7e-4e8c-463c-b4dc-53d49100c991', '2027-01-09T08:00:00.000001', '2027-01-09T09:30:12.778000'))).toBe(first);
    expect(await ask(job('DC123B7E-4E8C-463C-B4DC-53D49100C991', '2027-01-09T08:00:00.000001', '2027-01-09T09:30:12.778000'))).not.toBe(first);
    expect(await ask(job('dc123b7e-4e8c-163c-b4dc-53d49100c991', '2027-01-09T08:00:00.000001', '2027-01-09T09:30:12.778000'))).not.toBe(first);
    expect(await ask(job('dc123b7e-4e8c-463c-b4dc-53d49100c991', '2027-01-09T08:00:00.000001', '2027-01-09T09:30:12.778Z'))).not.toBe(first);
    expect(await ask(job('dc123b7e-4e8c-463c-b4dc-53d49100c991', '2027-01-09T08:00:00', '2027-01-09T09:30:12.778000'))).not.toBe(first);
    expect(await ask(job('dc123b7e-4e8c-463c-b4dc-53d49100c991', '2027-01-09T09:30:12.778000', '2027-01-09T08:00:00.000001'))).not.toBe(first);
  });

  it('honours num_predict as a maximum token count and says the answer was cut', async () => {
    const answer = await ollama.generate({ model: 'llama3.2', prompt: 'Describe the sales ratio study.', stream: false, options: { num_predict: 5 } });
    expect(answer.eval_count).toBe(5);
    expect(answer.done_reason).toBe('length');
    expect(String(answer.response).trim().split(/\s+/)).toHaveLength(5);
  });

  it('answers a classify prompt with one of the categories it names', async () => {
    const answer = await ollama.generate({
      model: 'llama3.2',
      prompt: 'Classify this property. Categories: Residential, Commercial, Agricultural\nText: a 3-bedroom house',
      stream: false,
    });
    expect(['Residential', 'Commercial', 'Agricultural']).toContain(String(answer.response).split('\n')[0]);
  });

  it('answers 404 with Ollama’s error for a model it does not have', async () => {
    const response = await fetch(`${standin.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'mistral', prompt: 'hi' }) });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "model 'mistral' not found" });
    await expect(ollama.generate({ model: 'mistral', prompt: 'hi', stream: false })).rejects.toThrow("model 'mistral' not found");
  });

  it('answers 400 with a named error for a body that is not JSON, and keeps serving', async () => {
    const response = await fetch(`${standin.url}/api/generate`, { method: 'POST', body: '{not json' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid JSON body' });
    expect((await fetch(`${standin.url}/api/version`)).status).toBe(200);
  });

  it('records every request byte for byte, in process and over HTTP', async () => {
    const raw = '{"model":"llama3.2","prompt":"Explain \\u00e9 and ü","stream":false,  "options":{"num_predict":3}}';
    await fetch(`${standin.url}/api/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
    const [local] = standin.received();
    expect(local).toMatchObject({ method: 'POST', path: '/api/generate', body: raw, json: { model: 'llama3.2', prompt: 'Explain é and ü', options: { num_predict: 3 } } });
    expect(local!.rawBody.equals(Buffer.from(raw))).toBe(true);

    const listed = (await (await fetch(`${standin.url}/_standin/received`)).json()) as { requests: ReceivedRequestJson[] };
    expect(listed.requests).toHaveLength(1);
    expect(fromJson(listed.requests[0]!).rawBody.equals(Buffer.from(raw))).toBe(true);

    expect((await fetch(`${standin.url}/_standin/received`, { method: 'DELETE' })).status).toBe(200);
    expect(standin.received()).toEqual([]);
  });

  it('keeps only the newest requests when told how many to keep', async () => {
    const small = await startOllamaStandin({ maxRecorded: 2 });
    try {
      for (let i = 0; i < 3; i += 1) await fetch(`${small.url}/api/tags`);
      expect(small.received().map((request) => request.seq)).toEqual([2, 3]);
    } finally {
      await small.close();
    }
  });

  it('injects a 500 for the next request only, set over HTTP', async () => {
    const set = await fetch(`${standin.url}/_standin/faults`, { method: 'PUT', body: JSON.stringify({ status: 500, times: 1, paths: ['/api/generate'] }) });
    expect(set.status).toBe(200);
    await expect(ollama.generate({ model: 'llama3.2', prompt: 'x', stream: false })).rejects.toThrow('stand-in fault injected');
    await expect(ollama.generate({ model: 'llama3.2', prompt: 'x', stream: false })).resolves.toMatchObject({ done: true });
  });

  it('faults only requests whose body contains the given text', async () => {
    standin.setFaults({ status: 503, bodyContains: 'nonce-42' });
    await expect(ollama.generate({ model: 'llama3.2', prompt: 'about nonce-42', stream: false })).rejects.toThrow('stand-in fault injected');
    await expect(ollama.generate({ model: 'llama3.2', prompt: 'about something else', stream: false })).resolves.toMatchObject({ done: true });
  });

  it('answers the OpenAI-compatible chat completions route like Ollama does', async () => {
    const request = { model: 'llama3.2', messages: [{ role: 'user', content: 'Summarize parcel 9.' }], max_tokens: 4, temperature: 0.7 };
    const post = (body: unknown) => fetch(`${standin.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: JSON.stringify(body) });
    const answer = (await (await post(request)).json()) as any;
    expect(answer).toMatchObject({ object: 'chat.completion', model: 'llama3.2', choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: 'length' }], usage: { completion_tokens: 4 } });
    expect(((await (await post(request)).json()) as any).choices[0].message.content).toBe(answer.choices[0].message.content);
    expect(standin.received().at(-1)!.headers.authorization).toBe('Bearer k');
    const missing = await post({ ...request, model: 'gpt-4o' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.message).toBe("model 'gpt-4o' not found");
  });

  it('drops the connection when told to', async () => {
    standin.setFaults({ drop: true });
    await expect(fetch(`${standin.url}/api/tags`)).rejects.toThrow();
    standin.setFaults(undefined);
    expect((await fetch(`${standin.url}/api/tags`)).status).toBe(200);
  });

  it('delays answers by the injected latency', async () => {
    standin.setFaults({ latencyMs: 150 });
    const started = performance.now();
    await ollama.list();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('rejects an invalid fault with a named error', async () => {
    const response = await fetch(`${standin.url}/_standin/faults`, { method: 'PUT', body: JSON.stringify({ status: 200 }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/^invalid fault/);
  });
});

describe('ensureOllama', () => {
  it('uses what already answers at the URL instead of starting another server', async () => {
    const ensured = await ensureOllama({ ollama: { url: standin.url, model: 'llama3.2', maxTokens: 1000, temperature: 0.7, timeoutSeconds: 30 } });
    expect(ensured).toMatchObject({ url: standin.url, kind: 'standin' });
    await ensured.close();
    expect((await fetch(`${standin.url}/api/version`)).status).toBe(200);
  });

  it('starts the stand-in on the URL’s port when nothing answers there, and stops it on close', async () => {
    const probe = await startOllamaStandin({ port: 0 });
    const free = probe.port;
    await probe.close();
    const url = `http://127.0.0.1:${free}`;
    const ensured = await ensureOllama({ ollama: { url, model: 'llama3.2', maxTokens: 1000, temperature: 0.7, timeoutSeconds: 30 } });
    expect(ensured).toMatchObject({ url, kind: 'standin' });
    expect(await (await fetch(`${url}/api/version`)).json()).toEqual({ version: expect.stringMatching(/standin$/) });
    await ensured.close();
    await expect(fetch(`${url}/api/version`)).rejects.toThrow();
  });
});
