/**
 * Under shadowing, legacy's narrator analyses the serving GIS job and the TypeScript one its
 * shadow twin: a correlated id and the twin's own created_at/completed_at in an otherwise
 * identical prompt. Both narrators against one fake sync (the job and its twins) and one
 * Ollama stand-in, the reimplementation through the real `ollama` client; their answers are
 * compared under the route's rules from flags/routes.yaml, as the proxy compares them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import { compareExchanges, type Comparison, type Exchange } from '../../parity/compare/engine.js';
import { routeNoise } from '../../parity/runner/calibrate-learn.js';
import { startOllamaStandin, type OllamaStandin } from '../../src/ollama/index.js';
import { startNarratorPair, type NarratorPair } from './narrator-pair.js';

const route = loadRouteCatalogue().byId('narrator.analyze.gis-export')!;

const serving = {
  job_id: '69f75e1e-14f9-4671-8245-695eb60298d2',
  county_id: 'benton_wa',
  export_format: 'GeoJSON',
  status: 'COMPLETED',
  message: 'Export completed successfully',
  parameters: { layers: ['parcels', 'zoning', 'roads'] },
  created_at: '2026-12-02T16:13:41.715522',
  updated_at: '2026-12-02T16:13:42.038229',
  started_at: '2026-12-02T16:13:41.720011',
  completed_at: '2026-12-02T16:13:42.038229',
};
const result = { record_count: 250, file_size_kb: 155 };
// What the main job's shadow twin looked like: its own uuid4 and stamps, the same export.
const twin = { ...serving, job_id: 'dc123b7e-4e8c-463c-b4dc-53d49100c991', created_at: '2026-12-02T16:13:41.778000', started_at: '2026-12-02T16:13:41.801377', completed_at: '2026-12-02T16:13:44.090044' };

const jobs: Record<string, { job: Record<string, unknown>; result: Record<string, unknown> }> = {
  [serving.job_id]: { job: serving, result },
  [twin.job_id]: { job: twin, result },
  // Twins that are not the same export: a real difference the narration must still show.
  'a0000000-0000-4000-8000-000000000001': { job: { ...twin, job_id: 'a0000000-0000-4000-8000-000000000001' }, result: { ...result, record_count: 249 } },
  'a0000000-0000-4000-8000-000000000002': { job: { ...twin, job_id: 'a0000000-0000-4000-8000-000000000002', completed_at: '2026-12-02T16:13:44.090Z' }, result },
  'a0000000-0000-4000-8000-000000000003': { job: { ...twin, job_id: 'a0000000-0000-4000-8000-000000000003', created_at: twin.completed_at, completed_at: twin.created_at }, result },
  'a0000000-0000-4000-8000-000000000004': { job: { ...twin, job_id: 'a0000000-0000-4000-8000-000000000004', parameters: { layers: ['parcels', 'roads'] } }, result },
};

function startFakeSync(): Promise<Server> {
  const server = createServer((request, response) => {
    const [, kind, id] = /^\/plugins\/v1\/gis-export\/(status|results)\/([^/?]+)/.exec(request.url ?? '') ?? [];
    const entry = id ? jobs[id] : undefined;
    response.writeHead(entry ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(!entry ? { detail: `GIS export job ${id} not found` } : kind === 'status' ? entry.job : { job_id: id, result: entry.result }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let ollama: OllamaStandin;
let sync: Server;
let pair: NarratorPair;

beforeAll(async () => {
  ollama = await startOllamaStandin();
  sync = await startFakeSync();
  pair = await startNarratorPair({
    OLLAMA_URL: ollama.url,
    SYNC_SERVICE_URL: `http://127.0.0.1:${(sync.address() as AddressInfo).port}`,
    AI_MODEL_NAME: 'llama3.2',
    AI_TIMEOUT_SECONDS: '30',
  });
}, 60_000);
afterAll(async () => {
  await pair?.stop();
  await ollama?.close();
  await new Promise((resolve) => sync?.close(resolve));
});

async function analyse(baseUrl: string, jobId: string): Promise<Exchange> {
  const response = await fetch(`${baseUrl}/api/v1/ai/analyze/gis-export`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ job_id: jobId }) });
  return { status: response.status, headers: { 'content-type': response.headers.get('content-type') ?? '' }, body: Buffer.from(await response.arrayBuffer()) };
}

const answerOf = (exchange: Exchange) => JSON.parse(exchange.body.toString('utf8')) as { result: string; model_used: string };

/** Legacy analyses the serving job, the reimplementation `twinId`; compared as the proxy compares a correlated pair. */
async function compareWithTwin(twinId: string): Promise<{ comparison: Comparison; prompts: string[] }> {
  const before = ollama.received().length;
  const [legacy, reimpl] = await Promise.all([analyse(pair.legacyUrl, serving.job_id), analyse(pair.reimplUrl, twinId)]);
  expect([legacy.status, reimpl.status]).toEqual([200, 200]);
  // Both answered by the stand-in, not by the canned fallback.
  expect([legacy, reimpl].map((exchange) => answerOf(exchange).model_used)).toEqual(['llama3.2', 'llama3.2']);
  const prompts = ollama
    .received()
    .slice(before)
    .filter((request) => request.path === '/api/generate')
    .map((request) => (request.json as { prompt: string }).prompt);
  const noise = routeNoise(route.id, undefined, route.compare);
  const comparison = await compareExchanges(legacy, reimpl, { routeId: route.id, rules: route.compare, correlations: new Map([[serving.job_id, twinId]]), ...(noise ? { noise } : {}) });
  return { comparison, prompts };
}

const mismatchPaths = (comparison: Comparison) => comparison.differences.filter((difference) => difference.disposition.as === 'mismatch').map((difference) => difference.path);

describe('a GIS export analysis of a job and of its shadow twin', () => {
  it('is matched: the prompts differ only in the twin’s id and stamps, and the stand-in answers both alike', async () => {
    const { comparison, prompts } = await compareWithTwin(twin.job_id);
    expect(prompts).toHaveLength(2);
    // Both analyses run at once, so the stand-in may receive either prompt first: legacy's is the one naming the serving job.
    const legacyPrompt = prompts.find((prompt) => prompt.includes(`Job ID: ${serving.job_id}\n`));
    const reimplPrompt = prompts.find((prompt) => prompt !== legacyPrompt);
    expect(legacyPrompt, prompts.join('\n----\n')).toBeDefined();
    expect(reimplPrompt).toBeDefined();
    const differing = legacyPrompt!.split('\n').filter((line, index) => line !== reimplPrompt!.split('\n')[index]);
    expect(differing).toEqual([`Job ID: ${serving.job_id}`, `Created at: ${serving.created_at}`, `Completed at: ${serving.completed_at}`]);
    expect(mismatchPaths(comparison), JSON.stringify(comparison.differences)).toEqual([]);
    expect(comparison.verdict).toBe('matched');
  });

  it('is a mismatch on the result when the twin exported another record count', async () => {
    const { comparison } = await compareWithTwin('a0000000-0000-4000-8000-000000000001');
    expect(comparison.verdict).toBe('mismatched');
    expect(mismatchPaths(comparison)).toEqual(['$.result']);
  });

  // Whether two unrelated answers pass the route's similarity threshold is the rule's tolerance
  // (about 3% of pairs of stand-in answers reach 0.6); that the narration changed is the stand-in's.
  const realDifferences: Array<[string, string]> = [
    ['another record count', 'a0000000-0000-4000-8000-000000000001'],
    ['a stamp written with a zone and milliseconds', 'a0000000-0000-4000-8000-000000000002'],
    ['its created and completed stamps swapped', 'a0000000-0000-4000-8000-000000000003'],
    ['other layers', 'a0000000-0000-4000-8000-000000000004'],
  ];
  for (const [what, twinId] of realDifferences) {
    it(`is narrated differently when the twin has ${what}`, async () => {
      const [legacy, reimpl] = await Promise.all([analyse(pair.legacyUrl, serving.job_id), analyse(pair.reimplUrl, twinId)]);
      expect([legacy, reimpl].map((exchange) => answerOf(exchange).model_used)).toEqual(['llama3.2', 'llama3.2']);
      expect(answerOf(reimpl).result).not.toBe(answerOf(legacy).result);
    });
  }
});
