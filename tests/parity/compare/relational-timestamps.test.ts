// Job timestamps are compared relationally: no two runs share an instant, so each side's value
// is held to that side's own window (the request that created the job to the answer that shows
// it), to the order of its siblings, and to legacy's format; a difference that keeps all of it
// is `within-window` and the observation matched, anything else a mismatch.
import { describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { compareExchanges, type Exchange, type TimeWindow } from '../../../parity/compare/engine.js';

const catalogue = loadRouteCatalogue();
const status = catalogue.byId('sync.gis-export.status')!;
const reportStatus = catalogue.byId('sync.reporting.status')!;

const at = (iso: string) => Date.parse(`${iso}Z`);

/** A job as legacy's status route answers it. */
function job(times: { created_at: string; updated_at: string; started_at: string | null; completed_at: string | null }) {
  return { job_id: '11111111-1111-4111-8111-111111111111', county_id: 'benton_wa', export_format: 'GeoJSON', status: 'COMPLETED', message: 'Export completed successfully', ...times };
}

const answer = (body: unknown, window: TimeWindow): Exchange => ({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)), window });

// Legacy's job ran 12:00:00.100 → 12:00:00.900 and was read at 12:00:01; the reimplementation's a little later.
const legacyWindow: TimeWindow = { jobAskedAt: at('2026-12-01T12:00:00.000'), askedAt: at('2026-12-01T12:00:00.950'), answeredAt: at('2026-12-01T12:00:01.000') };
const reimplWindow: TimeWindow = { jobAskedAt: at('2026-12-01T12:00:00.002'), askedAt: at('2026-12-01T12:00:00.951'), answeredAt: at('2026-12-01T12:00:01.200') };
const legacyJob = job({ created_at: '2026-12-01T12:00:00.100123', updated_at: '2026-12-01T12:00:00.900456', started_at: '2026-12-01T12:00:00.150789', completed_at: '2026-12-01T12:00:00.900456' });
const goodReimpl = job({ created_at: '2026-12-01T12:00:00.004321', updated_at: '2026-12-01T12:00:01.101010', started_at: '2026-12-01T12:00:00.050505', completed_at: '2026-12-01T12:00:01.101010' });

const compare = (reimplJob: unknown, window = reimplWindow) =>
  compareExchanges(answer(legacyJob, legacyWindow), answer(reimplJob, window), { routeId: status.id, rules: status.compare, correlations: new Map([['11111111-1111-4111-8111-111111111111', '11111111-1111-4111-8111-111111111111']]) });

describe('relational job timestamps', () => {
  it('matches a reimplementation whose timestamps differ but stay inside its own window, in order and in format', async () => {
    const comparison = await compare(goodReimpl);
    expect(comparison.verdict).toBe('matched');
    expect(comparison.ignoredBy).toEqual([]);
    const timestamps = comparison.differences.filter((difference) => difference.path.endsWith('_at'));
    expect(timestamps.map((difference) => difference.path).sort()).toEqual(['$.completed_at', '$.created_at', '$.started_at', '$.updated_at']);
    expect(timestamps.every((difference) => difference.disposition.as === 'within-window')).toBe(true);
  });

  it('calls a created_at before the request that created the job a mismatch, and says which side and why', async () => {
    const comparison = await compare({ ...goodReimpl, created_at: '2026-12-01T11:00:00.004321' });
    expect(comparison.verdict).toBe('mismatched');
    const created = comparison.differences.find((difference) => difference.path === '$.created_at')!;
    expect(created.disposition).toEqual({ as: 'mismatch' });
    expect(created.detail).toMatch(/reimplementation 2026-12-01T11:00:00.004Z is before its window opened/);
  });

  it('calls a timestamp later than the answer that shows it a mismatch (a clock in another zone, read as UTC)', async () => {
    const comparison = await compare({ ...goodReimpl, completed_at: '2026-12-01T13:00:01.101010', updated_at: '2026-12-01T13:00:01.101010' });
    expect(comparison.verdict).toBe('mismatched');
    expect(comparison.differences.find((difference) => difference.path === '$.completed_at')?.detail).toMatch(/after its answer was read/);
  });

  it('holds each side to its own window: the legacy window does not excuse the reimplementation', async () => {
    // Inside legacy's window, but the reimplementation's job was created 2 ms after legacy's and this is before that.
    const comparison = await compare({ ...goodReimpl, created_at: '2026-12-01T11:59:59.990000' });
    expect(comparison.verdict).toBe('mismatched');
  });

  it('calls timestamps out of order a mismatch: started before created, completed before started, updated before created', async () => {
    const startedFirst = await compare({ ...goodReimpl, started_at: '2026-12-01T12:00:00.003000' });
    expect(startedFirst.verdict).toBe('mismatched');
    expect(startedFirst.differences.find((difference) => difference.path === '$.started_at')?.detail).toMatch(/earlier than its created_at/);
    const completedFirst = await compare({ ...goodReimpl, completed_at: '2026-12-01T12:00:00.040000' });
    expect(completedFirst.differences.find((difference) => difference.path === '$.completed_at')?.detail).toMatch(/earlier than its started_at/);
    const updatedFirst = await compare({ ...goodReimpl, updated_at: '2026-12-01T12:00:00.003000' });
    expect(updatedFirst.verdict).toBe('mismatched');
  });

  it('matches an order legacy breaks itself when the reimplementation breaks it alike (a client set the states out of order)', async () => {
    const outOfOrder = { ...legacyJob, started_at: '2026-12-01T12:00:00.950000' };
    const reimplOutOfOrder = { ...goodReimpl, started_at: '2026-12-01T12:00:01.150000' };
    const alike = await compareExchanges(answer(outOfOrder, legacyWindow), answer(reimplOutOfOrder, reimplWindow), { routeId: status.id, rules: status.compare, correlations: new Map([['11111111-1111-4111-8111-111111111111', '11111111-1111-4111-8111-111111111111']]) });
    expect(alike.verdict).toBe('matched');
    const onlyLegacy = await compareExchanges(answer(outOfOrder, legacyWindow), answer(goodReimpl, reimplWindow), { routeId: status.id, rules: status.compare, correlations: new Map([['11111111-1111-4111-8111-111111111111', '11111111-1111-4111-8111-111111111111']]) });
    expect(onlyLegacy.verdict).toBe('mismatched');
    expect(onlyLegacy.differences.find((difference) => difference.path === '$.completed_at')?.detail).toMatch(/legacy is earlier than its started_at/);
  });

  it('calls a timestamp without microseconds, or with a zone, a mismatch even inside the window', async () => {
    const milliseconds = await compare({ ...goodReimpl, created_at: '2026-12-01T12:00:00.004' });
    expect(milliseconds.verdict).toBe('mismatched');
    expect(milliseconds.differences.find((difference) => difference.path === '$.created_at')?.detail).toMatch(/format differs/);
    const zoned = await compare({ ...goodReimpl, created_at: '2026-12-01T12:00:00.004321Z' });
    expect(zoned.verdict).toBe('mismatched');
  });

  it('still checks a body equal to legacy\'s when the windows differ (a replayed golden hours old)', async () => {
    const later: TimeWindow = { jobAskedAt: at('2026-12-01T15:00:00.000'), answeredAt: at('2026-12-01T15:00:01.000') };
    const comparison = await compare(legacyJob, later);
    expect(comparison.verdict).toBe('mismatched');
  });

  it('without any window leaves a differing instant explained by the rule (ignored), never matched', async () => {
    const comparison = await compareExchanges(answer(legacyJob, {}), answer(goodReimpl, {}), { routeId: status.id, rules: status.compare });
    expect(comparison.verdict).toBe('ignored');
    expect(comparison.ignoredBy).toContain('$.created_at as timestamp');
  });

  it('holds a duration to its kind and its window: a longer run than the window, or an integer for a decimal, is a mismatch', async () => {
    const report = (seconds: string) =>
      Buffer.from(`{"report_id":"r1","status":"COMPLETED","created_at":"2026-12-01T12:00:00.100123","updated_at":"2026-12-01T12:00:00.900456","result_metadata":{"generation_time_seconds":${seconds}}}`);
    const side = (seconds: string, window: TimeWindow): Exchange => ({ status: 200, headers: {}, body: report(seconds), window });
    const context = { routeId: reportStatus.id, rules: reportStatus.compare, correlations: new Map([['r1', 'r1']]) };
    const ok = await compareExchanges(side('0.0123', legacyWindow), side('0.0456', legacyWindow), context);
    expect(ok.verdict).toBe('matched');
    expect(ok.differences.find((difference) => difference.path.endsWith('generation_time_seconds'))?.disposition).toEqual({ as: 'within-window' });
    expect((await compareExchanges(side('0.0123', legacyWindow), side('4.5', legacyWindow), context)).verdict).toBe('mismatched');
    expect((await compareExchanges(side('0.0123', legacyWindow), side('0', legacyWindow), context)).verdict).toBe('mismatched');
  });
});
