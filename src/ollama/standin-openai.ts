/**
 * The OpenAI-compatible POST /v1/chat/completions that real Ollama also serves. The narrator's
 * cloud fallback (OPENAI_BASE_URL) can be pointed here, so the whole fallback chain is testable
 * without the internet. Non-streaming only; answers come from the same deterministic generator.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { isRecord, sendJson, withTag } from './standin-http.js';
import { complete } from './standin-text.js';

function openAiError(response: ServerResponse, status: number, message: string): void {
  sendJson(response, status, { error: { message, type: status === 404 ? 'api_error' : 'invalid_request_error', param: null, code: null } });
}

export function answerChatCompletion(body: unknown, models: readonly string[], response: ServerResponse): void {
  if (!isRecord(body)) return openAiError(response, 400, 'invalid JSON body');
  const { model, messages } = body;
  if (typeof model !== 'string' || model === '') return openAiError(response, 400, 'model is required');
  if (!Array.isArray(messages) || messages.length === 0 || !messages.every((m) => isRecord(m) && typeof m.role === 'string' && typeof m.content === 'string')) {
    return openAiError(response, 400, 'messages must be a non-empty list of {role, content}');
  }
  if (body.stream === true) return openAiError(response, 400, 'the stand-in serves non-streaming chat completions only');
  if (!models.includes(withTag(model))) return openAiError(response, 404, `model '${model}' not found`);

  const prompt = (messages as Array<{ role: string; content: string }>).map((m) => `${m.role}: ${m.content}`).join('\n');
  const options: Record<string, unknown> = {};
  if (typeof body.max_tokens === 'number') options.num_predict = body.max_tokens;
  if (typeof body.temperature === 'number') options.temperature = body.temperature;
  const completion = complete({ model, prompt, options });
  sendJson(response, 200, {
    id: `chatcmpl-${createHash('sha256').update(prompt).digest('hex').slice(0, 12)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    system_fingerprint: 'fp_ollama',
    choices: [{ index: 0, message: { role: 'assistant', content: completion.tokens.join('') }, finish_reason: completion.doneReason }],
    usage: {
      prompt_tokens: completion.promptEvalCount,
      completion_tokens: completion.tokens.length,
      total_tokens: completion.promptEvalCount + completion.tokens.length,
    },
  });
}
