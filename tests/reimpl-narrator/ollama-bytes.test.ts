/**
 * The TypeScript narrator sends Ollama (and the cloud fallback) exactly the bytes legacy sends,
 * and answers the same shapes: the same inputs go to both, and the stand-in's log is compared.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOllamaStandin, type OllamaStandin } from '../../src/ollama/index.js';
import { startNarratorPair, type NarratorPair } from './narrator-pair.js';

let ollama: OllamaStandin;
let sync: Server;
let pair: NarratorPair;
let counter = 0;

// Floats that Python writes differently from JavaScript (12.0, 1e-05) and unicode everywhere.
const job = {
  job_id: 'job-ü-1',
  county_id: 'benton_wa',
  export_format: 'GeoJSON',
  status: 'COMPLETED',
  message: 'Export “done” — naïve',
  parameters: { layers: ['parcels', 'roads', 3, true] },
  created_at: '2025-05-15T20:49:04.385874',
  completed_at: null,
};

function startFakeSync(): Promise<Server> {
  const server = createServer((request, response) => {
    const send = (status: number, text: string) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(text);
    };
    const url = request.url ?? '';
    if (url.startsWith('/plugins/v1/gis-export/status/job-%C3%BC-1')) return send(200, JSON.stringify(job));
    if (url.startsWith('/plugins/v1/gis-export/results/job-%C3%BC-1')) return send(200, `{"job_id":"x","result":{"record_count":1873,"file_size_kb":12.0,"extra":1e-05}}`);
    if (url.startsWith('/plugins/v1/gis-export/status/job-failed')) return send(200, JSON.stringify({ ...job, job_id: 'job-failed', status: 'FAILED', parameters: null, message: '' }));
    send(404, JSON.stringify({ detail: `GIS export job ${url.split('/').pop()} not found` }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function post(baseUrl: string, path: string, body: string): Promise<{ status: number; json: any; text: string }> {
  const response = await fetch(baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

/** Sends `body` to both narrators; answers and what the stand-in received from each. */
async function both(path: string, body: (marker: string) => string) {
  const markers = [`mk-${process.pid}-${++counter}-L`, `mk-${process.pid}-${counter}-R`];
  const [legacy, reimpl] = await Promise.all([post(pair.legacyUrl, path, body(markers[0]!)), post(pair.reimplUrl, path, body(markers[1]!))]);
  const sent = (marker: string) => ollama.received().filter((request) => request.body.includes(marker));
  return { legacy, reimpl, sentLegacy: sent(markers[0]!), sentReimpl: sent(markers[1]!), markers };
}

beforeAll(async () => {
  ollama = await startOllamaStandin({ models: ['llama3.2', 'llama3.2:latest', 'gpt-4o-mini'] });
  sync = await startFakeSync();
  pair = await startNarratorPair({
    OLLAMA_URL: ollama.url,
    SYNC_SERVICE_URL: `http://127.0.0.1:${(sync.address() as AddressInfo).port}`,
    AI_MODEL_NAME: 'llama3.2',
    AI_MAX_TOKENS: '1000',
    AI_TEMPERATURE: '0.7',
    AI_TIMEOUT_SECONDS: '2',
    ENABLE_CLOUD_AI: 'true',
    OPENAI_API_KEY: 'sk-pair',
    OPENAI_BASE_URL: ollama.url,
  });
}, 60_000);
afterAll(async () => {
  await pair?.stop();
  await ollama?.close();
  await new Promise((resolve) => sync?.close(resolve));
});
afterEach(() => ollama.setFaults(undefined));

describe('the TypeScript narrator’s Ollama requests', () => {
  const texts: Array<[string, (marker: string) => Record<string, unknown>]> = [
    ['plain text', (m) => ({ text: `Parcel ${m} is assessed at $312,000.` })],
    ['unicode, quotes, backslashes and newlines', (m) => ({ text: `Résumé ${m} “quoted” "plain" \\ back\nline\ttab 😀 \u007f end` })],
    ['a model, max_tokens and an integer temperature', (m) => ({ text: `Parcel ${m}.`, model: 'llama3.2:latest', max_tokens: 7, temperature: 1 })],
    ['a max_tokens given as a string and a float temperature', (m) => ({ text: `Parcel ${m}.`, max_tokens: '12', temperature: 0.1 })],
    ['a float max_tokens and a tiny temperature', (m) => ({ text: `Parcel ${m}.`, max_tokens: 5.9, temperature: 0.00001 })],
  ];

  for (const task of ['summarize', 'classify', 'explain']) {
    for (const [label, body] of texts) {
      it(`are byte-identical to legacy’s for ${task} with ${label}`, async () => {
        const { legacy, reimpl, sentLegacy, sentReimpl, markers } = await both(`/api/v1/${task}`, (m) => JSON.stringify(body(m)));
        expect(legacy.status).toBe(200);
        expect(reimpl.status).toBe(200);
        expect(sentLegacy).toHaveLength(1);
        expect(sentReimpl).toHaveLength(1);
        expect(sentReimpl[0]!.body.replaceAll(markers[1]!, markers[0]!)).toBe(sentLegacy[0]!.body);
        expect(sentReimpl[0]!.headers['content-type']).toBe(sentLegacy[0]!.headers['content-type']);
        expect(Object.keys(reimpl.json)).toEqual(Object.keys(legacy.json));
      });
    }
  }

  it('are byte-identical for a GIS export analysis, floats and unicode included', async () => {
    const before = ollama.received().length;
    const legacy = await post(pair.legacyUrl, '/api/v1/ai/analyze/gis-export', JSON.stringify({ job_id: 'job-ü-1' }));
    const reimpl = await post(pair.reimplUrl, '/api/v1/ai/analyze/gis-export', JSON.stringify({ job_id: 'job-ü-1' }));
    const sent = ollama.received().slice(before).filter((request) => request.path === '/api/generate');
    expect(sent).toHaveLength(2);
    expect(sent[1]!.body).toBe(sent[0]!.body);
    expect(sent[0]!.body).toContain('File size (KB): 12.0');
    expect(reimpl.text.replace(/"id":"[^"]+"/, '').replace(/"processing_time_ms":[\d.]+/, '')).toBe(
      legacy.text.replace(/"id":"[^"]+"/, '').replace(/"processing_time_ms":[\d.]+/, ''),
    );
  });

  it('are byte-identical for a failed job without parameters, and the canned answers match', async () => {
    ollama.setFaults({ status: 500 });
    const legacy = await post(pair.legacyUrl, '/api/v1/ai/analyze/gis-export', JSON.stringify({ job_id: 'job-failed' }));
    const reimpl = await post(pair.reimplUrl, '/api/v1/ai/analyze/gis-export', JSON.stringify({ job_id: 'job-failed' }));
    expect(reimpl.json).toMatchObject({ result: legacy.json.result, model_used: 'template-fallback', fallback: true, fallback_source: 'template' });
  });

  it('send the cloud fallback the same bytes when Ollama fails', async () => {
    ollama.setFaults({ status: 500, paths: ['/api/generate'] });
    const { legacy, reimpl, sentLegacy, sentReimpl, markers } = await both('/api/v1/summarize', (m) => JSON.stringify({ text: `Cloud ${m} “ü”`, temperature: 2 }));
    expect(reimpl.json).toMatchObject({ model_used: legacy.json.model_used, fallback_source: 'cloud' });
    expect(sentReimpl.map((r) => r.path)).toEqual(sentLegacy.map((r) => r.path));
    expect(sentReimpl[1]!.body.replaceAll(markers[1]!, markers[0]!)).toBe(sentLegacy[1]!.body);
    expect(sentReimpl[1]!.headers.authorization).toBe('Bearer sk-pair');
  });
});

describe('the TypeScript narrator’s answers', () => {
  const bodies = ['{}', '{"text":""}', '{"text":"x","max_tokens":0}', '{"text":"x","temperature":2.5,"max_tokens":"a"}', 'not json', '[1]', '{"text":null}', '{"job_id":""}'];
  for (const body of bodies) {
    it(`refuse ${body} with legacy’s exact 422`, async () => {
      for (const path of ['/api/v1/summarize', '/api/v1/ai/analyze/gis-export']) {
        const [legacy, reimpl] = await Promise.all([post(pair.legacyUrl, path, body), post(pair.reimplUrl, path, body)]);
        expect(reimpl.status, path).toBe(legacy.status);
        expect(reimpl.text, path).toBe(legacy.text);
      }
    });
  }

  it('answer an unknown job with legacy’s 404 body', async () => {
    const [legacy, reimpl] = await Promise.all([
      post(pair.legacyUrl, '/api/v1/ai/analyze/gis-export', '{"job_id":"nope/../x"}'),
      post(pair.reimplUrl, '/api/v1/ai/analyze/gis-export', '{"job_id":"nope/../x"}'),
    ]);
    expect(reimpl.status).toBe(404);
    expect(reimpl.text).toBe(legacy.text);
  });

  it('report the same health and the same wrong-method answer', async () => {
    const [legacy, reimpl] = await Promise.all([fetch(`${pair.legacyUrl}/api/v1/health`), fetch(`${pair.reimplUrl}/api/v1/health`)]);
    expect(await reimpl.text()).toBe(await legacy.text());
    const [l405, r405] = await Promise.all([fetch(`${pair.legacyUrl}/api/v1/summarize`), fetch(`${pair.reimplUrl}/api/v1/summarize`)]);
    expect(r405.status).toBe(l405.status);
    expect(await r405.text()).toBe(await l405.text());
  });
});
