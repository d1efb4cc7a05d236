import { describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { compareSides } from '../../../parity/runner/fuzz-compare.js';
import type { Exchange, SideExchanges } from '../../../parity/runner/fuzz-exchange.js';

const catalogue = loadRouteCatalogue();
const t0 = Date.parse('2026-12-02T01:00:00.000Z');
const at = (ms: number) => new Date(t0 + ms).toISOString().slice(0, 23) + '123';
const window = { jobAskedAt: t0, askedAt: t0, answeredAt: t0 + 5_000 };

function exchange(status: number, body: unknown): Exchange {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)), window };
}

function job(id: string, status: string, message: string, times: { updated: number; started?: number; completed?: number }) {
  return {
    job_id: id, county_id: 'test_county', export_format: 'GeoJSON', status, message, parameters: { layers: ['parcels'] },
    created_at: at(10), updated_at: at(times.updated), started_at: times.started === undefined ? null : at(times.started), completed_at: times.completed === undefined ? null : at(times.completed),
  };
}

const created = (id: string) => exchange(200, job(id, 'PENDING', 'Job created and pending processing', { updated: 10 }));
const notCompleted = (id: string, state: string) => exchange(400, { detail: `GIS export job ${id} is not completed (current status: ${state})` });
const completed = (id: string) => job(id, 'COMPLETED', 'Export completed successfully', { updated: 900, started: 20, completed: 900 });

/** A cancel that reached a PENDING job on legacy and a finished one on the reimplementation. */
function cancelRace(reimplAnswer: Exchange, reimplEnd = completed('R')): [SideExchanges, SideExchanges] {
  const legacy: SideExchanges = {
    setup: { answer: created('L'), createdIds: ['L'] },
    answer: exchange(200, job('L', 'CANCELLED', 'Job cancelled before processing started', { updated: 15 })),
    terminal: exchange(200, job('L', 'CANCELLED', 'Job cancelled before processing started', { updated: 15 })),
    results: notCompleted('L', 'CANCELLED'),
    createdIds: ['L'],
  };
  const reimpl: SideExchanges = {
    setup: { answer: created('R'), createdIds: ['R'] },
    answer: reimplAnswer,
    terminal: exchange(200, reimplEnd),
    results: reimplEnd.status === 'COMPLETED'
      ? exchange(200, { ...reimplEnd, result: { file_location: '/download/R', file_size_kb: 4, record_count: 12, data: null } })
      : notCompleted('R', reimplEnd.status),
    createdIds: ['R'],
  };
  return [legacy, reimpl];
}

describe('races of a differential run, settled by rules that still see a real difference', () => {
  const cancel = catalogue.byId('sync.gis-export.cancel')!;

  it('settles a cancel that found the job PENDING on one side and finished on the other as raced, not ignored', async () => {
    const [legacy, reimpl] = cancelRace(exchange(400, { detail: 'Cannot cancel job that is already COMPLETED' }));
    const result = await compareSides(cancel, catalogue, legacy, reimpl);
    expect(result.verdict).toBe('matched');
    const raced = result.parts.flatMap((part) => part.comparison.differences).filter((d) => d.disposition.as === 'raced');
    expect(raced.length).toBeGreaterThan(0);
    expect(raced[0]!.disposition).toMatchObject({ rule: 'cancel-race', detail: 'legacy CANCELLED → CANCELLED, reimpl refused COMPLETED → COMPLETED' });
    expect(result.parts.every((part) => part.comparison.ignoredBy.length === 0)).toBe(true);
  });

  it('fails a cancel whose answer no state of the job gives (a wrong message)', async () => {
    const [legacy, reimpl] = cancelRace(exchange(200, job('R', 'CANCELLED', 'Job cancelled', { updated: 15 })), job('R', 'CANCELLED', 'Job cancelled', { updated: 15 }));
    expect((await compareSides(cancel, catalogue, legacy, reimpl)).verdict).toBe('mismatched');
  });

  it('fails a cancel refused as already COMPLETED whose job then ends CANCELLED', async () => {
    const [legacy, reimpl] = cancelRace(
      exchange(400, { detail: 'Cannot cancel job that is already COMPLETED' }),
      job('R', 'CANCELLED', 'Job cancelled before processing started', { updated: 15 }),
    );
    expect((await compareSides(cancel, catalogue, legacy, reimpl)).verdict).toBe('mismatched');
  });

  it('fails a cancel answer that is not the job as it was created (another county)', async () => {
    const [legacy, reimpl] = cancelRace(exchange(200, { ...job('R', 'CANCELLING', 'Job cancellation requested', { updated: 30, started: 20 }), county_id: 'benton_wa' }));
    expect((await compareSides(cancel, catalogue, legacy, reimpl)).verdict).toBe('mismatched');
  });

  it('settles a market-analysis cancel both sides applied, one while PENDING and one while RUNNING (started_at null or set)', async () => {
    const route = catalogue.byId('sync.market-analysis.plugin.cancel')!;
    const made = (id: string) => exchange(202, { job_id: id, status: 'PENDING', message: 'Job created and queued for processing' });
    const end = (id: string, started?: number) => exchange(200, { job_id: id, county_id: 'test_county', analysis_type: 'sales_velocity', status: 'CANCELLED', message: 'Job cancelled by user', created_at: at(10), updated_at: at(30), started_at: started === undefined ? null : at(started), completed_at: null });
    const side = (id: string, started?: number): SideExchanges => ({
      setup: { answer: made(id), createdIds: [id] }, answer: exchange(200, { status: 'cancelled', job_id: id }), terminal: end(id, started),
      results: exchange(400, { detail: 'Job is not completed. Current status: CANCELLED' }), createdIds: [id],
    });
    const result = await compareSides(route, catalogue, side('L'), side('R', 20));
    expect(result.verdict).toBe('matched');
    expect(result.parts.find((part) => part.part === 'terminal')!.comparison.differences.some((d) => d.path === '$.started_at' && d.disposition.as === 'raced')).toBe(true);
  });

  const list = catalogue.byId('sync.gis-export.list')!;
  const earlier = completed('A');

  function listRace(reimplItems: unknown[]): [SideExchanges, SideExchanges] {
    return [
      { answer: exchange(200, [job('L', 'RUNNING', 'Job processing started', { updated: 20, started: 20 }), earlier]), createdIds: ['L'] },
      { answer: exchange(200, reimplItems), createdIds: ['R'] },
    ];
  }

  it('settles a list read while the request\'s own jobs ran: one side saw a job later, or not yet', async () => {
    const [legacy, reimpl] = listRace([job('R', 'PENDING', 'Job created and pending processing', { updated: 10 }), completed('L'), earlier]);
    const result = await compareSides(list, catalogue, legacy, reimpl);
    expect(result.verdict).toBe('matched');
    expect(result.parts[0]!.comparison.differences.some((d) => d.disposition.as === 'raced' && d.disposition.rule === 'list-race')).toBe(true);
  });

  it('fails a list whose older record differs, or whose job reached a state the other cannot reach', async () => {
    const [legacy, moved] = listRace([completed('L'), { ...earlier, county_id: 'benton_wa' }]);
    expect((await compareSides(list, catalogue, legacy, moved)).verdict).toBe('mismatched');
    const [again, failed] = listRace([job('L', 'FAILED', 'Export failed: boom', { updated: 30, started: 20, completed: 30 }), completed('A')]);
    const failedThenCompleted = await compareSides(list, catalogue, { ...again, answer: exchange(200, [completed('L'), earlier]) }, failed);
    expect(failedThenCompleted.verdict).toBe('mismatched');
  });

  it('fails a list that names a record the request did not make and the other side does not list', async () => {
    const [legacy, reimpl] = listRace([job('L', 'RUNNING', 'Job processing started', { updated: 20, started: 20 }), completed('X'), earlier]);
    expect((await compareSides(list, catalogue, legacy, reimpl)).verdict).toBe('mismatched');
  });
});
