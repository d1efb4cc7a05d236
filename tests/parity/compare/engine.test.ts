import { describe, expect, it } from 'vitest';
import { compareExchanges, type CompareContext, type Exchange } from '../../../parity/compare/engine.js';
import { compareRules } from '../../../parity/compare/rules.js';
import { mismatchLines } from '../../../parity/runner/fuzz-compare.js';

const answer = (body: string | object, overrides: Partial<Exchange> = {}): Exchange => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  ...overrides,
});
const context = (rules: Parameters<typeof compareRules>[0] = {}, extra: Partial<CompareContext> = {}): CompareContext => ({
  routeId: 'sync.test',
  rules: compareRules(rules),
  ...extra,
});

describe('the comparison engine', () => {
  it('matches answers that differ only in key order', async () => {
    expect(await compareExchanges(answer('{"a":1,"b":[1,2]}'), answer('{"b":[1,2],"a":1}'), context())).toMatchObject({ verdict: 'matched', differences: [] });
  });

  it('reports 1.0 against 1 as number-rendering, a mismatch a strict client sees', async () => {
    const result = await compareExchanges(answer('{"v":1.0}'), answer('{"v":1}'), context());
    expect(result.verdict).toBe('mismatched');
    expect(result.differences).toEqual([
      expect.objectContaining({ path: '$.v', kind: 'number-rendering', legacy: '1.0', reimpl: '1', disposition: { as: 'mismatch' } }),
    ]);
  });

  it('gives ignored, never matched, when only ignore rules explain the differences', async () => {
    const result = await compareExchanges(answer({ id: 'a', v: 1 }), answer({ id: 'b', v: 1 }), context({ ignore: ['$.id'] }));
    expect(result).toMatchObject({ verdict: 'ignored', ignoredBy: ['$.id'] });
    expect(result.differences[0]!.disposition).toEqual({ as: 'ignored', rule: '$.id' });
  });

  it('gives errored with the side that failed, and what it failed with', async () => {
    const failure = { code: 'CUTOVER_ERR_UPSTREAM_TIMEOUT', message: 'slow' };
    const result = await compareExchanges(answer('{}'), answer('', { failure }), context());
    expect(result).toMatchObject({ verdict: 'errored', erroredSide: 'reimpl', failures: { reimpl: failure } });
    expect(result.failures?.legacy).toBeUndefined();
    expect(mismatchLines({ verdict: 'errored', parts: [{ part: 'answer', routeId: 'sync.test', comparison: result }] })).toEqual([
      'answer errored: reimpl did not answer (reimpl CUTOVER_ERR_UPSTREAM_TIMEOUT: slow)',
    ]);
  });

  it('compares a status difference even when the whole body is ignored', async () => {
    const result = await compareExchanges(answer('a'), answer('b', { status: 500 }), context({ ignore: ['$'] }));
    expect(result.verdict).toBe('mismatched');
    expect(result.differences[0]).toMatchObject({ path: 'status', kind: 'status', legacy: '200', reimpl: '500' });
  });

  it('pairs correlated ids: a job id A on legacy and B on the reimplementation are equal', async () => {
    const correlations = new Map([['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222']]);
    const rules = { paths: { '$.job_id': { as: 'uuid' as const } } };
    const legacy = answer({ job_id: '11111111-1111-4111-8111-111111111111' });
    const paired = await compareExchanges(legacy, answer({ job_id: '22222222-2222-4222-8222-222222222222' }), context(rules, { correlations }));
    expect(paired.verdict).toBe('matched');
    expect(paired.differences[0]!.disposition).toEqual({ as: 'correlated', pair: '11111111-1111-4111-8111-111111111111↔22222222-2222-4222-8222-222222222222' });
    const wrongJob = await compareExchanges(legacy, answer({ job_id: '33333333-3333-4333-8333-333333333333' }), context(rules, { correlations }));
    expect(wrongJob.verdict).toBe('mismatched');
  });

  it('explains two different uuids by the uuid rule (ignored) when no correlation is known, and refuses a non-uuid', async () => {
    const rules = { paths: { '$.job_id': { as: 'uuid' as const } } };
    const legacy = answer({ job_id: '11111111-1111-4111-8111-111111111111' });
    expect(await compareExchanges(legacy, answer({ job_id: '22222222-2222-4222-8222-222222222222' }), context(rules))).toMatchObject({ verdict: 'ignored', ignoredBy: ['$.job_id as uuid'] });
    expect((await compareExchanges(legacy, answer({ job_id: 'job-1' }), context(rules))).differences[0]).toMatchObject({ kind: 'type', disposition: { as: 'mismatch' } });
  });

  it('reads strings as JSON does: an escape equals its character, a raw control character is not JSON', async () => {
    expect((await compareExchanges(answer('{"a":"\\u0041b"}'), answer('{"a":"Ab"}'), context())).verdict).toBe('matched');
    expect((await compareExchanges(answer('{"a":"x\ty"}'), answer('{"a":"x y"}'), context())).differences[0]).toMatchObject({ path: '$', kind: 'bytes' });
  });
});
