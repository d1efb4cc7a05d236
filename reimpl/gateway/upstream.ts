/**
 * Forwarding to the sync service and the narrator over undici keep-alive pools.
 * Reproduces legacy/terrafusion_gateway/upstream.py (a requests.Session): a refused, reset or
 * unresolvable connection means the component is offline (503 with its fixed body); a timeout
 * or a broken answer is a communication error (500 with the cause in `message`). Every body is
 * read to the end or destroyed, so no connection is left half used.
 */
import { Pool, errors as undiciErrors } from 'undici';
import type { FastifyReply } from 'fastify';
import { sendJsonError } from './flask-json.js';

/** An upstream's answer, fully read. */
export interface UpstreamAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A failed call, already in the shape the gateway answers with. */
export interface UpstreamFailure {
  status: 503 | 500;
  error: string;
  message: string;
}

export type CallResult = { answer: UpstreamAnswer; failure?: undefined } | { answer?: undefined; failure: UpstreamFailure };

export type QueryPairs = ReadonlyArray<readonly [string, string]>;

export interface UpstreamOptions {
  baseUrl: string;
  /** `SyncService`, `Narrator`: the prefix of the 500 error. */
  component: string;
  unavailableError: string;
  unavailableMessage: string;
  connectTimeoutSeconds: number;
  readTimeoutSeconds: number;
}

// Headers of the upstream answer worth keeping; hop-by-hop and length are recomputed.
const KEPT_RESPONSE_HEADERS = ['content-type', 'content-disposition', 'location'];

// Failures that requests reports as ConnectionError: the component is not there.
const OFFLINE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: string }).code;
    if (code && code !== 'UND_ERR_REQ_RETRY') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Python's urlencode(pairs) (quote_plus: letters, digits and `_.-~` kept, space as `+`). */
export function pyUrlencode(pairs: QueryPairs): string {
  const quote = (text: string) =>
    Array.from(Buffer.from(text, 'utf8'))
      .map((byte) => {
        const ch = String.fromCharCode(byte);
        if (/[A-Za-z0-9_.\-~]/.test(ch)) return ch;
        if (ch === ' ') return '+';
        return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      })
      .join('');
  return pairs.map(([key, value]) => `${quote(key)}=${quote(value)}`).join('&');
}

/** requests' requote_uri for a decoded path: characters outside its safe set are %-encoded. */
export function requotePath(path: string): string {
  return Array.from(Buffer.from(path, 'utf8'))
    .map((byte) => {
      const ch = String.fromCharCode(byte);
      return /[A-Za-z0-9\-._~!#$%&'()*+,/:;=?@[\]]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class Upstream {
  private readonly pool: Pool;
  private readonly origin: string;
  private readonly basePath: string;

  constructor(readonly options: UpstreamOptions) {
    const url = new URL(options.baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(this.origin, {
      connections: 32,
      connect: { timeout: options.connectTimeoutSeconds * 1000 },
      headersTimeout: options.readTimeoutSeconds * 1000,
      bodyTimeout: options.readTimeoutSeconds * 1000,
      // Below uvicorn's 5 s keep-alive, so a pooled socket is never reused as the server closes it.
      keepAliveTimeout: 4000,
      keepAliveMaxTimeout: 4000,
    });
  }

  /** GET a health path with a short timeout; true when it answers 200. */
  async probe(path: string, timeoutSeconds: number): Promise<boolean> {
    try {
      const response = await this.pool.request({
        method: 'GET',
        path: this.basePath + path,
        signal: AbortSignal.timeout(timeoutSeconds * 1000),
        headersTimeout: timeoutSeconds * 1000,
        bodyTimeout: timeoutSeconds * 1000,
      });
      await response.body.dump();
      return response.statusCode === 200;
    } catch {
      return false;
    }
  }

  /** The upstream's full answer, or the 503/500 failure legacy would answer. */
  async call(method: string, path: string, query?: QueryPairs, body?: Buffer, contentType?: string): Promise<CallResult> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (contentType) headers['content-type'] = contentType;
    const search = query && query.length ? `?${pyUrlencode(query)}` : '';
    let received = false;
    try {
      let target = this.basePath + path + search;
      // requests follows redirects (30 at most): 307/308 keep the method and body; 303, and 302 or a POST's 301, become a bodiless GET.
      for (let hop = 0; ; hop++) {
        const response = await this.pool.request({ method: method as 'GET', path: target, headers, body: body ?? (method === 'GET' ? undefined : Buffer.alloc(0)) });
        received = true;
        const data = Buffer.from(await response.body.arrayBuffer());
        const location = response.headers.location;
        const next = typeof location === 'string' && REDIRECTS.has(response.statusCode) ? new URL(location, this.origin + target) : undefined;
        if (!next || next.origin !== this.origin) return { answer: { status: response.statusCode, headers: response.headers, body: data } };
        if (hop >= 30) throw new Error('Exceeded 30 redirects.');
        if (method !== 'HEAD' && (response.statusCode === 303 || response.statusCode === 302 || (response.statusCode === 301 && method === 'POST'))) method = 'GET';
        if (response.statusCode !== 307 && response.statusCode !== 308) {
          body = undefined;
          delete headers['content-type'];
        }
        target = next.pathname + next.search;
        received = false;
      }
    } catch (error) {
      const code = causeCode(error);
      if (!received && code !== undefined && OFFLINE_CODES.has(code)) {
        return { failure: { status: 503, error: this.options.unavailableError, message: this.options.unavailableMessage } };
      }
      const reason = error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError
        ? `${this.origin}: Read timed out. (read timeout=${this.options.readTimeoutSeconds})`
        : `${(error as Error).message}${code ? ` (${code})` : ''}`;
      return { failure: { status: 500, error: `${this.options.component} communication error`, message: reason } };
    }
  }

  /** Forwards and sends the upstream's status and body unchanged, or the failure. */
  async forward(reply: FastifyReply, method: string, path: string, query?: QueryPairs, body?: Buffer, contentType?: string): Promise<FastifyReply> {
    const result = await this.call(method, path, query, body, contentType);
    return result.failure ? sendFailure(reply, result.failure) : sendAnswer(reply, result.answer);
  }

  /**
   * Relays a (file) answer in chunks with Content-Length kept, as legacy's to_flask_streamed;
   * a failure before the answer starts is the usual 503/500.
   */
  async relay(reply: FastifyReply, method: string, path: string): Promise<FastifyReply> {
    try {
      const response = await this.pool.request({ method: method as 'GET', path: this.basePath + path, headers: { accept: 'application/json' } });
      reply.code(response.statusCode);
      for (const name of [...KEPT_RESPONSE_HEADERS, 'content-length']) {
        const value = response.headers[name];
        if (value !== undefined) reply.header(name, Array.isArray(value) ? value.join(', ') : value);
      }
      if (response.headers['content-type'] === undefined) reply.header('content-type', 'text/html; charset=utf-8');
      // fastify destroys the stream if the client goes away, which releases the connection.
      return reply.send(response.body);
    } catch (error) {
      const code = causeCode(error);
      if (code !== undefined && OFFLINE_CODES.has(code)) {
        return sendFailure(reply, { status: 503, error: this.options.unavailableError, message: this.options.unavailableMessage });
      }
      return sendFailure(reply, { status: 500, error: `${this.options.component} communication error`, message: (error as Error).message });
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export function sendFailure(reply: FastifyReply, failure: UpstreamFailure): FastifyReply {
  return sendJsonError(reply, failure.status, failure.error, failure.message);
}

/** Flask's `Response(content, status, headers)`: kept headers, and Flask's default type when the upstream sent none. */
export function sendAnswer(reply: FastifyReply, answer: UpstreamAnswer): FastifyReply {
  reply.code(answer.status);
  for (const name of KEPT_RESPONSE_HEADERS) {
    const value = answer.headers[name];
    if (value !== undefined) reply.header(name, Array.isArray(value) ? value.join(', ') : value);
  }
  if (answer.headers['content-type'] === undefined) reply.header('content-type', 'text/html; charset=utf-8');
  return reply.send(answer.body);
}

/** The JSON of a 2xx answer, or undefined (requests' `.json()` failing). */
export function answerJson(answer: UpstreamAnswer): unknown {
  if (answer.status < 200 || answer.status >= 300) return undefined;
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function syncUpstream(settings: { syncServiceUrl: string; upstreamConnectTimeout: number; upstreamReadTimeout: number }): Upstream {
  return new Upstream({
    baseUrl: settings.syncServiceUrl,
    component: 'SyncService',
    unavailableError: 'SyncService is not available',
    unavailableMessage: 'The SyncService component is currently offline.',
    connectTimeoutSeconds: settings.upstreamConnectTimeout,
    readTimeoutSeconds: settings.upstreamReadTimeout,
  });
}

export function narratorUpstream(settings: { narratorUrl: string; upstreamConnectTimeout: number; narratorReadTimeout: number }): Upstream {
  return new Upstream({
    baseUrl: settings.narratorUrl,
    component: 'Narrator',
    unavailableError: 'Narrator service is not available',
    unavailableMessage: 'The Narrator AI component is currently offline.',
    connectTimeoutSeconds: settings.upstreamConnectTimeout,
    readTimeoutSeconds: settings.narratorReadTimeout,
  });
}
