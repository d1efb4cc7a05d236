/**
 * The stand-in's /api/pull speaks Ollama's protocol to the real ollama client, and
 * `cutover pull-model` confirms, pulls (with progress) or explains an offline machine.
 */
import { Ollama, type ProgressResponse } from 'ollama';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pullModelCommand } from '../../src/cli/commands/pull-model.js';
import { startOllamaStandin, type OllamaStandin } from '../../src/ollama/index.js';
import { PullProgressPrinter } from '../../src/ollama/pull-progress.js';
import { freePort } from '../../src/platform/ports.js';

let standin: OllamaStandin | undefined;
afterEach(async () => {
  await standin?.close();
  standin = undefined;
});

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const parts: T[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** Runs `cutover pull-model ...` in process; returns everything it wrote to stdout. */
async function pullModel(...argv: string[]): Promise<{ code: number; out: string }> {
  const written: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void written.push(`${String(line)}\n`));
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    return { code: await pullModelCommand.run(argv), out: written.join('') };
  } finally {
    log.mockRestore();
    write.mockRestore();
  }
}

describe("the stand-in's /api/pull, through the real ollama client", () => {
  it('streams pulling manifest, each layer by digest with growing completed, verifying, writing manifest, success; then lists the model', async () => {
    standin = await startOllamaStandin({ models: [] });
    const client = new Ollama({ host: standin.url });
    const lines: ProgressResponse[] = await collect(await client.pull({ model: 'llama3.2', stream: true }));
    const statuses = [...new Set(lines.map((line) => line.status))];
    expect(statuses[0]).toBe('pulling manifest');
    expect(statuses.slice(-3)).toEqual(['verifying sha256 digest', 'writing manifest', 'success']);
    const layers = lines.filter((line) => line.digest);
    expect(new Set(layers.map((line) => line.digest)).size).toBe(4);
    for (const line of layers) {
      expect(line.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(line.status).toBe(`pulling ${line.digest.slice(7, 19)}`);
      expect(line.completed).toBeLessThanOrEqual(line.total);
    }
    const weights = layers.filter((line) => line.digest === layers[0]!.digest).map((line) => line.completed);
    expect(weights).toEqual([...weights].sort((a, b) => a - b));
    expect(weights.at(-1)).toBe(layers[0]!.total);
    expect((await client.list()).models.map((model) => model.name)).toEqual(['llama3.2:latest']);
    expect(standin.received().find((request) => request.path === '/api/pull')?.headers['content-type']).toContain('application/json');
  });

  it('answers a non-streaming pull with the last status only', async () => {
    standin = await startOllamaStandin({ models: [] });
    expect(await new Ollama({ host: standin.url }).pull({ model: 'qwen2.5:0.5b', stream: false })).toEqual({ status: 'success' });
  });

  it("fails offline at the manifest with Go's DNS error, in the stream or as a 500 without one", async () => {
    standin = await startOllamaStandin({ models: [], registry: { offline: true } });
    const client = new Ollama({ host: standin.url });
    await expect(collect(await client.pull({ model: 'llama3.2', stream: true }))).rejects.toThrow(
      'pull model manifest: Get "https://registry.ollama.ai/v2/library/llama3.2/manifests/latest": dial tcp: lookup registry.ollama.ai: no such host',
    );
    await expect(client.pull({ model: 'me/custom:7b', stream: false })).rejects.toMatchObject({ status_code: 500, error: expect.stringContaining('/v2/me/custom/manifests/7b') });
    expect((await client.list()).models).toEqual([]);
  });

  it('refuses a model its registry does not have', async () => {
    standin = await startOllamaStandin({ models: [], registry: { models: ['llama3.2'] } });
    await expect(collect(await new Ollama({ host: standin.url }).pull({ model: 'nosuchmodel', stream: true }))).rejects.toThrow('pull model manifest: file does not exist');
  });
});

describe('cutover pull-model', () => {
  it('pulls a missing model with plain progress lines, then confirms it without pulling again', async () => {
    standin = await startOllamaStandin({ models: [] });
    const first = await pullModel('--url', standin.url, '--model', 'llama3.2');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^pulling manifest$/m);
    expect(first.out).toMatch(/^pulling [0-9a-f]{12} {2}100% {2}2\.02 GB \/ 2\.02 GB$/m);
    expect(first.out).toMatch(/^success$/m);
    expect(first.out).toContain(`pulled llama3.2 into the Ollama at ${standin.url}`);
    standin.clear();
    const second = await pullModel('--url', standin.url, '--model', 'llama3.2');
    expect(second.out).toContain(`llama3.2 is present in the Ollama at ${standin.url}`);
    expect(standin.received().map((request) => `${request.method} ${request.path}`)).toEqual(['GET /api/tags']);
  });

  it('offline, names the error and says how to load a local GGUF file with ollama create', async () => {
    standin = await startOllamaStandin({ models: [], registry: { offline: true } });
    const error = await pullModel('--url', standin.url, '--model', 'llama3.2').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CUTOVER_ERR_MODEL_PULL_OFFLINE' });
    expect((error as Error).message).toContain('no such host');
    expect((error as Error).message).toContain('FROM /path/to/model.gguf');
    expect((error as Error).message).toContain('ollama create llama3.2 -f Modelfile');
  });

  it('tells an unknown model and an absent Ollama apart from an offline one', async () => {
    standin = await startOllamaStandin({ models: [], registry: { models: [] } });
    await expect(pullModel('--url', standin.url, '--model', 'nosuchmodel')).rejects.toMatchObject({ code: 'CUTOVER_ERR_MODEL_PULL_FAILED', message: expect.stringContaining('file does not exist') });
    await expect(pullModel('--url', `http://127.0.0.1:${await freePort()}`)).rejects.toMatchObject({ code: 'CUTOVER_ERR_OLLAMA_UNREACHABLE' });
    await expect(pullModel('--modle', 'x')).rejects.toMatchObject({ code: 'CUTOVER_ERR_USAGE' });
  });

  it('draws one redrawn bar per layer on a terminal', () => {
    const out: string[] = [];
    const printer = new PullProgressPrinter((text) => out.push(text), true);
    printer.line({ status: 'pulling manifest', digest: '', total: 0, completed: 0 });
    for (const completed of [0, 500, 1000]) printer.line({ status: 'pulling abc', digest: 'sha256:abc', total: 1000, completed });
    printer.line({ status: 'success', digest: '', total: 0, completed: 0 });
    printer.done();
    expect(out.join('')).toBe(
      'pulling manifest\n' +
        `\rpulling abc  [${'.'.repeat(30)}]   0%  0 B / 1.0 KB` +
        `\rpulling abc  [${'#'.repeat(15)}${'.'.repeat(15)}]  50%  500 B / 1.0 KB` +
        `\rpulling abc  [${'#'.repeat(30)}] 100%  1.0 KB / 1.0 KB\n` +
        'success\n',
    );
  });
});
