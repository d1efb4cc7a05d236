import { describe, expect, it } from 'vitest';
import { compareExchanges, type CompareContext, type Exchange } from '../../../parity/compare/engine.js';
import { compareGeometries } from '../../../parity/compare/geometry.js';
import { compareNumbers } from '../../../parity/compare/number.js';
import { compareRules, type PathRuleInput } from '../../../parity/compare/rules.js';
import { compareTexts, textSimilarity } from '../../../parity/compare/text.js';
import { compareTimestamps } from '../../../parity/compare/timestamp.js';

const answer = (text: string): Exchange => ({ status: 200, headers: {}, body: Buffer.from(text) });
const withPaths = (paths: Record<string, PathRuleInput>, extra: Partial<CompareContext> = {}): CompareContext => ({ routeId: 'sync.test', rules: compareRules({ paths }), ...extra });

describe('numbers', () => {
  it('calls Python and JavaScript renderings of one value number-rendering: 1.0 vs 1, 1e-05 vs 0.00001', () => {
    expect(compareNumbers('1.0', '1')?.kind).toBe('number-rendering');
    expect(compareNumbers('1e-05', '0.00001')?.kind).toBe('number-rendering');
    expect(compareNumbers('1.5', '1.5')).toBeUndefined();
  });

  it('lets a loose rule compare values only, and keeps integers past 2^53 apart', () => {
    expect(compareNumbers('1.0', '1', { as: 'number', rendering: 'loose' })).toBeUndefined();
    expect(compareNumbers('9007199254740993', '9007199254740992')?.kind).toBe('value');
  });

  it('accepts values within an absolute or relative tolerance and says by how much when not', () => {
    expect(compareNumbers('100.0', '101.5', { as: 'number', relative: 0.02, rendering: 'strict' })).toBeUndefined();
    expect(compareNumbers('0.10', '0.1004', { as: 'number', absolute: 0.001, rendering: 'strict' })).toBeUndefined();
    expect(compareNumbers('100.0', '103.0', { as: 'number', relative: 0.02, rendering: 'strict' })).toMatchObject({ kind: 'value', detail: expect.stringContaining('beyond relative 0.02') });
  });
});

describe('timestamps', () => {
  const rule = { toleranceMs: 5000, format: 'same' as const };
  it('accepts two naive microsecond timestamps within the tolerance', () => {
    expect(compareTimestamps('2024-05-01T12:00:00.123456', '2024-05-01T12:00:03.654321', rule)).toBeUndefined();
  });
  it('refuses a zoned or millisecond rendering of a naive microsecond one, unless the format is any', () => {
    expect(compareTimestamps('2024-05-01T12:00:00.123456', '2024-05-01T12:00:00.123Z', rule)).toMatchObject({ kind: 'timestamp', detail: expect.stringContaining('format') });
    expect(compareTimestamps('2024-05-01T12:00:00.123456', '2024-05-01T12:00:00.123Z', { toleranceMs: 1, format: 'any' })).toBeUndefined();
    expect(compareTimestamps('2024-05-01T12:00:00+02:00', '2024-05-01T10:00:00Z', { toleranceMs: 0, format: 'any' })).toBeUndefined();
  });
  it('refuses instants further apart than the tolerance, and a value that is no timestamp', () => {
    expect(compareTimestamps('2024-05-01T12:00:00.000001', '2024-05-01T12:00:06.000001', rule)?.kind).toBe('timestamp');
    expect(compareTimestamps('2024-05-01T12:00:00', 'yesterday', rule)?.kind).toBe('type');
  });
});

describe('geometries', () => {
  const square = { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]] };
  it('ignores where a ring starts and which way it turns', () => {
    expect(compareGeometries(square, { type: 'Polygon', coordinates: [[[1, 1], [1, 0], [0, 0], [0, 1], [1, 1]]] }, 0)).toBeUndefined();
  });
  it('accepts coordinates within epsilon and refuses beyond it', () => {
    const moved = { type: 'Polygon', coordinates: [[[0, 0], [1.0000001, 0], [1, 1], [0, 1], [0, 0]]] };
    expect(compareGeometries(square, moved, 1e-6)).toBeUndefined();
    expect(compareGeometries(square, moved, 1e-9)).toMatch(/differ beyond/);
  });
  it('compares vertex counts: a simplified ring is another geometry', () => {
    expect(compareGeometries(square, { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] }, 1)).toBe('rings[0]: 5 vs 4 vertices');
  });
  it('keeps line direction and compares types', () => {
    expect(compareGeometries({ type: 'LineString', coordinates: [[0, 0], [1, 1]] }, { type: 'LineString', coordinates: [[1, 1], [0, 0]] }, 0)).toBeDefined();
    expect(compareGeometries(square, { type: 'MultiPolygon', coordinates: [square.coordinates] }, 0)).toBe('type Polygon vs MultiPolygon');
  });
  it('applies to a geometry path inside a JSON answer', async () => {
    const legacy = answer(JSON.stringify({ geometry: square }));
    const reimpl = answer(JSON.stringify({ geometry: { type: 'Polygon', coordinates: [[[0, 1], [0, 0], [1, 0], [1, 1], [0, 1]]] } }));
    expect((await compareExchanges(legacy, reimpl, withPaths({ '$.geometry': { as: 'geometry' } }))).verdict).toBe('matched');
    expect((await compareExchanges(legacy, reimpl, withPaths({}))).verdict).toBe('mismatched');
  });
});

describe('narrator text', () => {
  const legacy = 'The parcel at 12 Main St is assessed at $250,000.';
  it('compares exactly, by normalised text, or by similarity, as the rule says', () => {
    expect(compareTexts(legacy, 'the parcel at 12 Main St  is assessed at $250,000 .', { mode: 'exact', threshold: 0.8 })).toBeDefined();
    expect(compareTexts(legacy, 'the parcel at 12 Main St  is assessed at $250,000 .', { mode: 'normalised', threshold: 0.8 })).toBeUndefined();
    expect(compareTexts(legacy, 'The parcel at 12 Main St is currently assessed at $250,000.', { mode: 'similar', threshold: 0.8 })).toBeUndefined();
    expect(compareTexts(legacy, 'No data is available for this request.', { mode: 'similar', threshold: 0.8 })).toMatch(/similarity/);
    expect(textSimilarity('a b c', 'a b c')).toBe(1);
  });
});

describe('arrays', () => {
  it('reports the same items in another order as one array-order difference', async () => {
    const result = await compareExchanges(answer('[{"id":1},{"id":2}]'), answer('[{"id":2},{"id":1}]'), withPaths({}));
    expect(result.differences).toEqual([expect.objectContaining({ path: '$', kind: 'array-order', disposition: { as: 'mismatch' } })]);
  });
  it('pairs set items by a key field, whatever the order, and names missing and extra items', async () => {
    const rules = withPaths({ $: { as: 'set', key: 'job_id' } });
    expect((await compareExchanges(answer('[{"job_id":"a","n":1},{"job_id":"b","n":2}]'), answer('[{"job_id":"b","n":2},{"job_id":"a","n":1}]'), rules)).verdict).toBe('matched');
    const result = await compareExchanges(answer('[{"job_id":"a","n":1},{"job_id":"b","n":2}]'), answer('[{"job_id":"b","n":3},{"job_id":"c","n":1}]'), rules);
    expect(result.differences.map((d) => [d.path, d.kind])).toEqual([['$[0]', 'missing'], ['$[1].n', 'value'], ['$[1]', 'extra']]);
  });
});

describe('noise', () => {
  const noise = {
    id: 'sync.test@calibration-1',
    routeId: 'sync.test',
    samples: 20,
    paths: {
      '$.created_at': { varies: 'always' as const, rate: 1, kind: 'timestamp' as const, format: '9999-99-99T99:99:99.999999', maxDelta: 2000 },
      '$.count': { varies: 'sometimes' as const, rate: 0.3, kind: 'integer' as const, range: { min: 10, max: 14 }, maxDelta: 4 },
      '$.jobs[*].id': { varies: 'always' as const, rate: 1, kind: 'uuid' as const },
    },
  };
  const body = (createdAt: string, count: string, id: string) => answer(`{"created_at":"${createdAt}","count":${count},"jobs":[{"id":"${id}"}]}`);
  const legacy = body('2024-05-01T12:00:00.000001', '12', '11111111-1111-4111-8111-111111111111');

  it('calls a difference noise when legacy-vs-legacy varies the same way there, within bounds and kind', async () => {
    const result = await compareExchanges(legacy, body('2024-05-01T12:00:01.500000', '13', '22222222-2222-4222-8222-222222222222'), withPaths({}, { noise }));
    expect(result.verdict).toBe('matched');
    expect(result.differences.map((d) => d.disposition)).toEqual([{ as: 'noise', profile: noise.id }, { as: 'noise', profile: noise.id }, { as: 'noise', profile: noise.id }]);
  });

  it('keeps checking a noisy field for its kind: a uuid stays a uuid, a timestamp its format, a count an integer', async () => {
    const broken = await compareExchanges(legacy, body('2024-05-01T12:00:01.5Z', '13.0', 'job-2'), withPaths({}, { noise }));
    expect(broken.verdict).toBe('mismatched');
    expect(broken.differences.every((d) => d.disposition.as === 'mismatch')).toBe(true);
    expect(broken.differences.map((d) => d.detail)).toEqual([
      expect.stringContaining('format'),
      expect.stringContaining('integer'),
      expect.stringContaining('uuid'),
    ]);
  });

  it('calls a difference beyond what legacy-vs-legacy does a mismatch', async () => {
    const far = await compareExchanges(legacy, body('2024-05-01T12:00:09.000001', '40', '22222222-2222-4222-8222-222222222222'), withPaths({}, { noise }));
    expect(far.differences.slice(0, 2).map((d) => [d.disposition.as, d.detail])).toEqual([
      ['mismatch', expect.stringContaining('legacy-vs-legacy at most 2000 ms')],
      ['mismatch', expect.stringContaining('legacy-vs-legacy at most 4')],
    ]);
  });
});
