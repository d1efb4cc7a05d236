import { describe, expect, it } from 'vitest';
import type { SideResult } from '../../proxy/serving/capture.js';
import { compareAnswers } from '../../proxy/shadow/compare.js';

const side = (body: string, overrides: Partial<SideResult> = {}): SideResult => ({
  side: 'legacy',
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(body),
  truncated: false,
  latencyMs: 1,
  failure: undefined,
  ...overrides,
});
const rules = (ignore: string[] = [], headers: string[] = []) => ({ ignore, headers });

describe('comparison', () => {
  it('matches JSON bodies that differ only in key order', () => {
    expect(compareAnswers(side('{"a":1,"b":[1,2]}'), side('{"b":[1,2],"a":1}'), rules()).verdict).toBe('matched');
  });

  it('sees 1.0 and 1 as different numbers, as a client would', () => {
    const result = compareAnswers(side('{"v":1.0}'), side('{"v":1}'), rules());
    expect(result.differences).toEqual([
      { path: '$.v', serving: '1.0', shadow: '1', kind: 'number-rendering', disposition: { as: 'mismatch' }, detail: expect.stringContaining('same value') },
    ]);
  });

  it('reports missing and extra keys and array items with the value that is there', () => {
    const result = compareAnswers(side('{"a":1,"list":[1,2,3]}'), side('{"b":2,"list":[1,2]}'), rules());
    expect(result.verdict).toBe('mismatched');
    expect(result.differences).toEqual([
      { path: '$.a', serving: '1', kind: 'missing', disposition: { as: 'mismatch' } },
      { path: '$.list[2]', serving: '3', kind: 'missing', disposition: { as: 'mismatch' } },
      { path: '$.b', shadow: '2', kind: 'extra', disposition: { as: 'mismatch' } },
    ]);
  });

  it('compares non-JSON bodies by bytes and length', () => {
    const result = compareAnswers(side('abc'), side('abcd'), rules());
    expect(result.verdict).toBe('mismatched');
    expect(result.differences[0]!.path).toBe('$');
    expect(result.differences[0]!.serving).toMatch(/^"3 bytes, sha256 [0-9a-f]{16}"$/);
    expect(compareAnswers(side('same bytes'), side('same bytes'), rules()).verdict).toBe('matched');
  });

  it('gives ignored, with the rules, when every difference is explained; mismatched when one is not', () => {
    const serving = side('[{"id":"a","at":"x","v":1},{"id":"b","at":"y","v":2}]');
    const ignored = compareAnswers(serving, side('[{"id":"c","at":"z","v":1},{"id":"d","at":"w","v":2}]'), rules(['$[*].id', '$[*].at']));
    expect(ignored).toMatchObject({ verdict: 'ignored', ignoredBy: ['$[*].id', '$[*].at'] });
    expect(ignored.differences.every((difference) => difference.ignoredBy)).toBe(true);
    const mismatched = compareAnswers(serving, side('[{"id":"c","at":"z","v":1},{"id":"d","at":"w","v":3}]'), rules(['$[*].id', '$[*].at']));
    expect(mismatched.verdict).toBe('mismatched');
  });

  it('lets `$` ignore a whole body but never a status difference', () => {
    expect(compareAnswers(side('a'), side('b'), rules(['$'])).verdict).toBe('ignored');
    expect(compareAnswers(side('a'), side('b', { status: 201 }), rules(['$'])).verdict).toBe('mismatched');
  });

  it('compares only the configured headers', () => {
    const other = side('{}', { headers: { 'content-type': 'text/html', 'x-request-id': '2' } });
    expect(compareAnswers(side('{}'), other, rules()).verdict).toBe('matched');
    expect(compareAnswers(side('{}'), other, rules([], ['content-type'])).differences).toEqual([
      { path: 'headers.content-type', serving: '"application/json"', shadow: '"text/html"', kind: 'header', disposition: { as: 'mismatch' } },
    ]);
  });

  it('gives errored with the side that failed', () => {
    const failure = { code: 'CUTOVER_ERR_UPSTREAM_TIMEOUT', message: 'slow' };
    expect(compareAnswers(side('{}'), side('', { status: undefined, failure }), rules())).toMatchObject({ verdict: 'errored', erroredSide: 'shadow' });
    expect(compareAnswers(side('', { failure }), side('', { failure }), rules()).erroredSide).toBe('both');
  });

  it('does not claim a match for bodies too large to compare', () => {
    expect(compareAnswers(side('{}', { truncated: true }), side('{}'), rules())).toMatchObject({ verdict: 'ignored', ignoredBy: ['compare.max-body'] });
  });
});
