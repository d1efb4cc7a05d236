/**
 * The Ollama stand-in: an HTTP server speaking the part of Ollama's protocol the narrators use
 * (/api/generate, /api/chat, /api/tags, /api/version, /api/pull, and the OpenAI-compatible
 * /v1/chat/completions real Ollama also serves), answering deterministically, recording
 * every request byte for byte, and injecting faults on demand. The harness starts it when no
 * real Ollama answers at OLLAMA_URL. node:http rather than fastify: it must keep the exact raw
 * body and be able to drop a connection mid-request, both of which fastify works against.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CutoverError } from '../errors.js';
import { FaultPlan, faultSchema, type Fault, type FaultSpec } from './standin-faults.js';
import { isRecord, parseJson, sendJson, withTag } from './standin-http.js';
import { RequestLog, type ReceivedRequest } from './standin-log.js';
import { answerChatCompletion } from './standin-openai.js';
import { answerPull, type StandinRegistry } from './standin-pull.js';
import { complete, type Completion } from './standin-text.js';

/** What /api/version answers; the `-standin` suffix (and the header below) tell it from a real Ollama. */
export const STANDIN_VERSION = '0.6.4-standin';
/** Header on every stand-in answer, so a probe can tell the stand-in from a real Ollama. */
export const STANDIN_HEADER = 'x-ollama-standin';
export const DEFAULT_MODELS: readonly string[] = ['llama3.2', 'llama3.2:latest'];

export interface OllamaStandinOptions {
  host?: string;
  /** 0 picks an ephemeral port. */
  port?: number;
  /** Models the stand-in "has"; a name without a tag also answers to `:latest`. */
  models?: readonly string[];
  /** A fault active from the start. */
  faults?: FaultSpec;
  /** How many requests the log keeps (the newest); default 10 000. */
  maxRecorded?: number;
  /** The simulated registry /api/pull pulls from (default: online, every model). */
  registry?: StandinRegistry;
}

export interface OllamaStandin {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Every request received, oldest first (GET / and the control routes under /_standin are not recorded). */
  received(): ReceivedRequest[];
  clear(): void;
  /** Replace the active fault; undefined clears it. */
  setFaults(spec: FaultSpec | undefined): void;
}

interface ModelEntry {
  name: string;
  model: string;
  modified_at: string;
  size: number;
  digest: string;
  details: Record<string, unknown>;
}

function modelEntry(name: string): ModelEntry {
  return {
    name,
    model: name,
    // Fixed, so /api/tags is identical on every run and every machine.
    modified_at: '2025-05-15T20:49:04.385874Z',
    size: 2019393189,
    digest: createHash('sha256').update(name).digest('hex'),
    details: {
      parent_model: '',
      format: 'gguf',
      family: 'llama',
      families: ['llama'],
      parameter_size: '3.2B',
      quantization_level: 'Q4_K_M',
    },
  };
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Ollama's timings are nanoseconds; these are derived from the token counts so answers stay deterministic. */
function timings(completion: Completion) {
  const load = 1_250_000;
  const promptEval = completion.promptEvalCount * 180_000;
  const evalDuration = completion.tokens.length * 16_000_000;
  return {
    total_duration: load + promptEval + evalDuration,
    load_duration: load,
    prompt_eval_count: completion.promptEvalCount,
    prompt_eval_duration: promptEval,
    eval_count: completion.tokens.length,
    eval_duration: evalDuration,
  };
}

type GenerationKind = 'generate' | 'chat';

interface ChatMessage {
  role: string;
  content: string;
}

/** Why a generation request is malformed, or null when it can be answered. */
function invalidGeneration(kind: GenerationKind, body: Record<string, unknown>): string | null {
  if (typeof body.model !== 'string' || body.model === '') return 'model is required';
  if (body.options !== undefined && !isRecord(body.options)) return 'options must be an object';
  if (kind === 'generate' && body.prompt !== undefined && typeof body.prompt !== 'string') return 'prompt must be a string';
  if (kind === 'chat') {
    const messages = body.messages ?? [];
    if (!Array.isArray(messages) || !messages.every((m) => isRecord(m) && typeof m.role === 'string' && typeof (m.content ?? '') === 'string')) {
      return 'messages must be a list of {role, content}';
    }
  }
  return null;
}

function answerGeneration(kind: GenerationKind, body: Record<string, unknown>, response: ServerResponse): void {
  const model = body.model as string;
  const messages = (kind === 'chat' ? (body.messages as ChatMessage[] | undefined) ?? [] : []).map((m) => ({ role: m.role, content: m.content ?? '' }));
  const prompt = kind === 'generate' ? ((body.prompt as string | undefined) ?? '') : messages.map((m) => `${m.role}: ${m.content}`).join('\n');
  const stream = body.stream !== false;
  const createdAt = () => new Date().toISOString();

  // Like Ollama: an empty prompt (or no messages) only loads the model.
  if (prompt === '') {
    const loaded = { model, created_at: createdAt(), ...(kind === 'generate' ? { response: '' } : { message: { role: 'assistant', content: '' } }), done: true, done_reason: 'load' };
    if (stream) {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.end(`${JSON.stringify(loaded)}\n`);
    } else sendJson(response, 200, loaded);
    return;
  }

  const completion = complete({
    model,
    prompt,
    ...(typeof body.system === 'string' ? { system: body.system } : {}),
    options: (body.options as Record<string, unknown> | undefined) ?? {},
  });
  const text = completion.tokens.join('');
  const piece = (content: string) => (kind === 'generate' ? { response: content } : { message: { role: 'assistant', content } });
  const final = {
    model,
    created_at: createdAt(),
    ...piece(stream ? '' : text),
    done: true,
    done_reason: completion.doneReason,
    ...(kind === 'generate' ? { context: completion.context } : {}),
    ...timings(completion),
  };
  if (!stream) {
    sendJson(response, 200, final);
    return;
  }
  response.writeHead(200, { 'content-type': 'application/x-ndjson' });
  for (const token of completion.tokens) {
    response.write(`${JSON.stringify({ model, created_at: createdAt(), ...piece(token), done: false })}\n`);
  }
  response.end(`${JSON.stringify(final)}\n`);
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts the stand-in; resolves once it listens. */
export async function startOllamaStandin(options: OllamaStandinOptions = {}): Promise<OllamaStandin> {
  const host = options.host ?? '127.0.0.1';
  const models = [...new Set((options.models ?? DEFAULT_MODELS).map(withTag))];
  const log = new RequestLog(options.maxRecorded);
  const faults = new FaultPlan();
  faults.set(options.faults);

  const control = async (request: IncomingMessage, response: ServerResponse, path: string, raw: Buffer) => {
    const method = request.method ?? 'GET';
    if (path === '/_standin/received') {
      if (method === 'GET') return sendJson(response, 200, { requests: log.toJson() });
      if (method === 'DELETE') {
        log.clear();
        return sendJson(response, 200, { cleared: true });
      }
    }
    if (path === '/_standin/faults') {
      if (method === 'GET') return sendJson(response, 200, { fault: faults.current() });
      if (method === 'DELETE') {
        faults.set(undefined);
        return sendJson(response, 200, { fault: null });
      }
      if (method === 'PUT' || method === 'POST') {
        const parsed = faultSchema.safeParse(parseJson(raw.toString('utf8')) ?? {});
        if (!parsed.success) return sendJson(response, 400, { error: `invalid fault: ${parsed.error.message}` });
        faults.set(parsed.data);
        return sendJson(response, 200, { fault: faults.current() });
      }
    }
    return sendJson(response, 405, { error: `${method} ${path} is not a stand-in control route` });
  };

  const api = async (request: IncomingMessage, response: ServerResponse, path: string, entry: ReceivedRequest) => {
    const method = request.method ?? 'GET';
    const fault: Fault | undefined = faults.take(path, entry.body);
    if (fault?.latencyMs) await delay(fault.latencyMs);
    if (fault?.drop) {
      request.socket.destroy();
      return;
    }
    if (fault?.status !== undefined) return sendJson(response, fault.status, { error: fault.errorMessage });

    if (method === 'GET' && path === '/api/version') return sendJson(response, 200, { version: STANDIN_VERSION });
    if (method === 'GET' && path === '/api/tags') return sendJson(response, 200, { models: models.map(modelEntry) });
    if (method === 'POST' && (path === '/api/generate' || path === '/api/chat')) {
      const kind: GenerationKind = path === '/api/generate' ? 'generate' : 'chat';
      if (!isRecord(entry.json)) return sendJson(response, 400, { error: entry.body.trim() === '' ? 'missing request body' : 'invalid JSON body' });
      const invalid = invalidGeneration(kind, entry.json);
      if (invalid) return sendJson(response, 400, { error: invalid });
      const model = entry.json.model as string;
      if (!models.includes(withTag(model))) return sendJson(response, 404, { error: `model '${model}' not found` });
      return answerGeneration(kind, entry.json, response);
    }
    if (method === 'POST' && path === '/api/pull') return answerPull(entry.json, models, options.registry ?? {}, response);
    if (method === 'POST' && path === '/v1/chat/completions') return answerChatCompletion(entry.json, models, response);
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('404 page not found');
  };

  const server = createServer((request, response) => {
    response.setHeader(STANDIN_HEADER, '1');
    const url = new URL(request.url ?? '/', 'http://standin');
    const path = url.pathname;
    readBody(request)
      .then(async (raw) => {
        if (path.startsWith('/_standin/')) return control(request, response, path, raw);
        if (path === '/' && (request.method === 'GET' || request.method === 'HEAD')) {
          response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
          return response.end('Ollama is running');
        }
        const body = raw.toString('utf8');
        const entry = log.record({
          method: request.method ?? 'GET',
          path,
          query: url.search,
          headers: Object.fromEntries(Object.entries(request.headers).map(([key, value]) => [key, Array.isArray(value) ? value.join(', ') : (value ?? '')])),
          rawBody: raw,
          body,
          json: parseJson(body),
          receivedAt: new Date().toISOString(),
        });
        return api(request, response, path, entry);
      })
      .catch((error: unknown) => {
        if (!response.headersSent) sendJson(response, 500, { error: `stand-in failure: ${(error as Error).message}` });
        else response.destroy();
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new CutoverError('CUTOVER_ERR_PORT_IN_USE', `the Ollama stand-in cannot listen on ${host}:${options.port ?? 0}: the port is in use`, { cause: error })
          : error,
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets of clients would otherwise hold close() open.
        server.closeAllConnections();
      }),
    received: () => log.all(),
    clear: () => log.clear(),
    setFaults: (spec) => void faults.set(spec),
  };
}
