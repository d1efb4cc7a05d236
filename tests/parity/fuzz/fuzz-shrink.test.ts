import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzRoute } from '../../../parity/runner/fuzz.js';
import { startFuzzBench, type FuzzBench } from './fuzz-sides.js';

let bench: FuzzBench;

beforeAll(async () => {
  bench = await startFuzzBench('fuzz_shrink');
}, 180_000);
afterAll(async () => {
  await bench?.stop();
});

/**
 * A reimplementation with one planted bug: in front of the real one, it renames the county of
 * a valuation run's immediate answer when the request values a list of properties.
 */
async function plantedUpstream(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      void (async () => {
        const answer = await fetch(target + req.url, {
          method: req.method,
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
          ...(req.method === 'GET' ? {} : { body }),
        });
        let text = await answer.text();
        let request: unknown;
        try {
          request = JSON.parse(body.toString('utf8'));
        } catch {
          request = undefined;
        }
        const valuesAList = typeof request === 'object' && request !== null && 'property_ids' in request;
        if (req.url === '/plugins/v1/valuation/run' && answer.status === 202 && valuesAList) {
          text = JSON.stringify({ ...JSON.parse(text), county_id: 'planted' });
        }
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(text);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('cutover fuzz shrinking', () => {
  it('shrinks a planted difference to the smallest request that still shows it, and saves it as a fixture', async () => {
    const planted = await plantedUpstream(bench.sides.reimpl!);
    const fixturesDir = mkdtempSync(join(tmpdir(), 'fuzz-fixtures-'));
    try {
      const result = await fuzzRoute({
        routeId: 'sync.valuation.run', runs: 40, seed: 11, legacyUrl: bench.sides.legacy[0]!, reimplUrl: planted.url,
        catalogue: bench.catalogue, space: bench.space, invalid: false, maxCounterexamples: 1, fixturesDir,
      });
      expect(result.counterexamples).toHaveLength(1);
      const [found] = result.counterexamples;
      const county = bench.space.counties.find((c) => c.countyId === 'test_county')!;
      // fast-check shrinks a list to one item and constantFrom to its first value; optional parts disappear.
      expect(JSON.parse(found!.request.body!)).toEqual({ county_id: 'test_county', property_ids: [county.propertyIds[0]] });
      expect(found!.mismatches).toEqual([expect.stringMatching(/^answer \$\.county_id \(value\): legacy "test_county" \/ reimpl "planted"/)]);
      const fixture = JSON.parse(readFileSync(found!.fixtureFile!, 'utf8'));
      expect(fixture).toMatchObject({ fixture: 1, routeId: 'sync.valuation.run', request: { method: 'POST', path: '/plugins/v1/valuation/run' } });
      expect(fixture.fuzz.reimpl.body.json.county_id).toBe('planted');
    } finally {
      await planted.close();
    }
  }, 240_000);
});
