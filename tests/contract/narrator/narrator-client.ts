/**
 * What the narrator contract tests share: the platform under test, JSON calls to the narrator,
 * the Ollama stand-in's request log and faults (over HTTP: the stand-in lives in the harness's
 * process), and Prometheus sample reading. Tests sharing one platform run concurrently, so each
 * marks its requests with a nonce and only looks at (or faults) requests carrying it.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { fromJson, probeOllama, type FaultSpec, type ReceivedRequest, type ReceivedRequestJson } from '../../../src/ollama/index.js';

export const platform = inject('platform');
/** The AI settings the harness gave the narrator (same environment, same defaults). */
export const ai = loadConfig().ollama;
/** Request-log and fault assertions need the stand-in; against a real Ollama they are skipped. */
export const ollamaIsStandin = (await probeOllama(platform.ollamaUrl, 2000)) === 'standin';

export interface Reply {
  status: number;
  headers: Headers;
  json: any;
}

export async function callNarrator(path: string, body?: unknown, baseUrl = platform.narratorUrl): Promise<Reply> {
  const response = await fetch(baseUrl + path, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, json };
}

export const nonce = () => `ref-${randomUUID().slice(0, 8)}`;

/** Requests the stand-in at `ollamaUrl` received whose body contains `marker`. */
export async function receivedWith(marker: string, ollamaUrl = platform.ollamaUrl): Promise<ReceivedRequest[]> {
  const response = await fetch(`${ollamaUrl}/_standin/received`);
  const { requests } = (await response.json()) as { requests: ReceivedRequestJson[] };
  return requests.map(fromJson).filter((request) => request.body.includes(marker));
}

export async function setFault(spec: FaultSpec | undefined, ollamaUrl = platform.ollamaUrl): Promise<void> {
  const response = await fetch(`${ollamaUrl}/_standin/faults`, spec === undefined ? { method: 'DELETE' } : { method: 'PUT', body: JSON.stringify(spec) });
  if (!response.ok) throw new Error(`setting the stand-in fault answered ${response.status}: ${await response.text()}`);
}

/** The value of one Prometheus sample (labels in any order), 0 when absent. */
export function sample(metricsText: string, name: string, labels: Record<string, string>): number {
  for (const line of metricsText.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value) && Object.keys(found).length === Object.keys(labels).length) {
      return Number(match[3]);
    }
  }
  return 0;
}

export async function metricsText(baseUrl = platform.narratorUrl): Promise<string> {
  const response = await fetch(`${baseUrl}/api/v1/metrics`);
  return response.text();
}
