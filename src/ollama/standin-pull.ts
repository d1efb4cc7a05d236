/**
 * The stand-in's POST /api/pull, as Ollama's server/routes.go PullHandler answers it: NDJSON
 * status lines (`pulling manifest`, `pulling <12 hex of the layer digest>` with digest, total and
 * completed, `verifying sha256 digest`, `writing manifest`, `success`), or with `"stream": false`
 * only the last one. A failure after the stream started is an `{"error": ...}` line in a 200
 * answer (500 when not streaming), as Ollama does; offline, the manifest fetch fails with Go's
 * DNS error. The registry is simulated: a model pulls in a fixed number of steps, then /api/tags lists it.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson, withTag } from './standin-http.js';

export interface StandinRegistry {
  /** No internet: every pull fails at the manifest, as a real Ollama's does. */
  offline?: boolean;
  /** Models the registry has; default any name. */
  models?: readonly string[];
}

interface Layer {
  digest: string;
  total: number;
}

const STEPS = 4;

/** The layers of a llama3.2-like model: weights, template, license, params; digests from the name. */
function layersOf(model: string): Layer[] {
  const digest = (part: string) => `sha256:${createHash('sha256').update(`${model}/${part}`).digest('hex')}`;
  return [
    { digest: digest('model'), total: 2_019_377_376 },
    { digest: digest('template'), total: 1_429 },
    { digest: digest('license'), total: 7_711 },
    { digest: digest('params'), total: 96 },
  ];
}

/** Where Ollama fetches a model's manifest: registry.ollama.ai/v2/<namespace>/<model>/manifests/<tag>. */
function manifestUrl(model: string): string {
  const [path, tag] = withTag(model).split(/:(?=[^:/]*$)/) as [string, string];
  const repository = path.includes('/') ? path : `library/${path}`;
  return `https://registry.ollama.ai/v2/${repository}/manifests/${tag}`;
}

/** The progress lines of one pull, or the error that ends it. */
function pullLines(model: string, present: boolean, registry: StandinRegistry): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [{ status: 'pulling manifest' }];
  if (registry.offline) {
    return [...lines, { error: `pull model manifest: Get "${manifestUrl(model)}": dial tcp: lookup registry.ollama.ai: no such host` }];
  }
  if (registry.models && !registry.models.map(withTag).includes(withTag(model))) return [...lines, { error: 'pull model manifest: file does not exist' }];
  for (const layer of layersOf(model)) {
    const status = `pulling ${layer.digest.slice(7, 19)}`;
    // A layer already on disk is reported complete at once.
    const steps = present ? [layer.total] : Array.from({ length: STEPS + 1 }, (_, step) => Math.floor((layer.total * step) / STEPS));
    for (const completed of steps) lines.push({ status, digest: layer.digest, total: layer.total, completed });
  }
  return [...lines, { status: 'verifying sha256 digest' }, { status: 'writing manifest' }, { status: 'success' }];
}

/** Answers one /api/pull; `models` (tagged names) gains the model when the pull succeeds. */
export function answerPull(body: unknown, models: string[], registry: StandinRegistry, response: ServerResponse): void {
  const request = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const model = typeof request.model === 'string' && request.model ? request.model : typeof request.name === 'string' ? request.name : '';
  if (model === '') return sendJson(response, 400, { error: 'model is required' });
  const lines = pullLines(model, models.includes(withTag(model)), registry);
  const last = lines.at(-1)!;
  if (last.status === 'success' && !models.includes(withTag(model))) models.push(withTag(model));
  if (request.stream === false) return last.error ? sendJson(response, 500, { error: last.error }) : sendJson(response, 200, last);
  response.writeHead(200, { 'content-type': 'application/x-ndjson' });
  for (const line of lines) response.write(`${JSON.stringify(line)}\n`);
  response.end();
}
