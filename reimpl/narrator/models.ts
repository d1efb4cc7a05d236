/**
 * The two model back-ends: Ollama's /api/generate and /api/tags (through the `ollama` client)
 * and an OpenAI-compatible chat API. Reproduces legacy/terrafusion_narrator/models.py, its
 * request bodies byte for byte and its one-line failure reasons.
 *
 * The `ollama` client serialises requests with JSON.stringify (`{"model":"x",...}`, `0.7` but
 * `1` for 1.0, raw UTF-8), while legacy sends Python's json.dumps (`", "`/`": "`, `1.0`,
 * `\uXXXX`). So the client is given a fetch that sends the body legacy would have sent instead
 * of the client's (docs/decisions/0007-narrator-ollama-body.md); the client still owns the
 * route, headers and the answer's parsing.
 */
import { Ollama } from 'ollama';
import { floatRepr, PyFloat, pyJsonStored } from '../shared/py-json.js';
import type { NarratorSettings } from './settings.js';

/** A model back-end did not produce an answer; the message is legacy's reason. */
export class ModelUnavailable extends Error {}

/** The exact body legacy sends to Ollama: Python's json.dumps of this dict, in this key order. */
export function ollamaPayload(model: string, prompt: string, maxTokens: number, temperature: number): string {
  return pyJsonStored({
    model,
    prompt,
    stream: false,
    options: { num_predict: maxTokens, temperature: new PyFloat(temperature), top_k: 40, top_p: new PyFloat(0.9) },
  })!;
}

const isTimeout = (error: unknown) => error instanceof Error && (error.name === 'TimeoutError' || (error.cause as Error | undefined)?.name === 'TimeoutError');

/** A fetch that puts `body` on the wire in place of the client's, gives up after `timeoutSeconds`, and remembers a non-200 answer's text for the reason. */
function exactFetch(body: string | undefined, timeoutSeconds: number, seen: { status?: number; text?: string }): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, { ...init, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(timeoutSeconds * 1000) });
    seen.status = response.status;
    if (response.status !== 200) seen.text = await response.clone().text();
    return response;
  };
}

/** requests' own words for what went wrong, as legacy puts them in its reasons. */
function failureReason(url: string, error: unknown, timeoutSeconds: number, seen: { status?: number; text?: string }): string {
  if (seen.status !== undefined && seen.status !== 200) return `${url} answered ${seen.status}: ${(seen.text ?? '').slice(0, 200)}`;
  if (isTimeout(error)) return `${url} did not answer within ${floatRepr(timeoutSeconds)} s`;
  if (seen.status === 200) return `${url} answered with a body that is not JSON`;
  return `${url} unreachable: ConnectionError`;
}

/** The model's answer text from Ollama (non-streaming). */
export async function ollamaGenerate(settings: NarratorSettings, model: string, prompt: string, maxTokens: number, temperature: number): Promise<string> {
  const url = `${settings.ollamaUrl}/api/generate`;
  const seen: { status?: number; text?: string } = {};
  const client = new Ollama({ host: settings.ollamaUrl, fetch: exactFetch(ollamaPayload(model, prompt, maxTokens, temperature), settings.timeoutSeconds, seen) });
  let data: unknown;
  try {
    data = await client.generate({ model, prompt, stream: false, options: { num_predict: maxTokens, temperature, top_k: 40, top_p: 0.9 } });
  } catch (error) {
    throw new ModelUnavailable(failureReason(url, error, settings.timeoutSeconds, seen));
  }
  const text = data !== null && typeof data === 'object' ? (data as { response?: unknown }).response : undefined;
  if (typeof text !== 'string') throw new ModelUnavailable("Ollama's answer has no 'response' text");
  return text;
}

/** Names of the models Ollama has (GET /api/tags). */
export async function ollamaModels(settings: NarratorSettings, timeoutSeconds: number): Promise<unknown[]> {
  const client = new Ollama({ host: settings.ollamaUrl, fetch: exactFetch(undefined, timeoutSeconds, {}) });
  try {
    const { models } = await client.list();
    return (models ?? []).map((model) => (model as { name?: unknown }).name ?? null);
  } catch (error) {
    throw new ModelUnavailable(`Ollama /api/tags failed: ${isTimeout(error) ? 'ReadTimeout' : 'RequestException'}`);
  }
}

function chatCompletionsUrl(baseUrl: string): string {
  // OPENAI_BASE_URL may be given with or without the /v1 the OpenAI SDKs expect.
  return baseUrl.endsWith('/v1') ? `${baseUrl}/chat/completions` : `${baseUrl}/v1/chat/completions`;
}

/** The answer text from the OpenAI-compatible endpoint at OPENAI_BASE_URL. */
export async function cloudGenerate(settings: NarratorSettings, prompt: string, maxTokens: number, temperature: number): Promise<string> {
  const url = chatCompletionsUrl(settings.openaiBaseUrl);
  const body = pyJsonStored({
    model: settings.openaiModel,
    messages: [{ role: 'user', content: prompt }],
    max_tokens: maxTokens,
    temperature: new PyFloat(temperature),
  })!;
  const seen: { status?: number; text?: string } = {};
  let data: unknown;
  try {
    const response = await exactFetch(undefined, settings.timeoutSeconds, seen)(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${settings.openaiApiKey}` },
    });
    if (response.status !== 200) throw new Error('not 200');
    data = await response.json();
  } catch (error) {
    throw new ModelUnavailable(failureReason(url, error, settings.timeoutSeconds, seen));
  }
  const text = (data as { choices?: Array<{ message?: { content?: unknown } }> } | null)?.choices?.[0]?.message?.content;
  if (text === undefined) throw new ModelUnavailable('the cloud answer has no choices[0].message.content');
  if (typeof text !== 'string') throw new ModelUnavailable("the cloud answer's content is not text");
  return text;
}
