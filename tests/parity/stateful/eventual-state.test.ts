// The job state machine tells a race (two sides at different points of the same run) from a
// real difference, and a race is ignored under rule eventual-state, never matched.
import { describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import type { SideResult } from '../../../proxy/serving/capture.js';
import { compareAnswers } from '../../../proxy/shadow/compare.js';
import { pollToTerminal, raceBetween, reachable, settleEventualState } from '../../../proxy/stateful/eventual-state.js';

const status = loadRouteCatalogue().byId('sync.gis-export.status')!;
const health = loadRouteCatalogue().byId('sync.health')!;
const job = (side: 'legacy' | 'reimpl', state: string, code = 200, extra: Record<string, unknown> = {}): SideResult => ({
  side, status: code, headers: { 'content-type': 'application/json' }, truncated: false, latencyMs: 1, failure: undefined,
  body: Buffer.from(JSON.stringify({ job_id: '0b7f3c1e-5d2a-4e8b-9c6f-1a2b3c4d5e6f', status: state, message: `m ${state}`, ...extra })),
});

describe('the job state machine', () => {
  it('knows which states can follow which, the CANCELLING→COMPLETED quirk included', () => {
    expect(reachable('PENDING', 'COMPLETED')).toBe(true);
    expect(reachable('RUNNING', 'CANCELLING')).toBe(true);
    expect(reachable('CANCELLING', 'COMPLETED')).toBe(true);
    expect(reachable('RUNNING', 'CANCELLED')).toBe(true);
    expect(reachable('COMPLETED', 'RUNNING')).toBe(false);
    expect(reachable('FAILED', 'COMPLETED')).toBe(false);
  });

  it('sees a race in RUNNING against COMPLETED, and in a "not completed (current status: RUNNING)" refusal against a result', () => {
    expect(raceBetween(status, job('legacy', 'RUNNING'), job('reimpl', 'COMPLETED'))).toEqual({ serving: 'RUNNING', shadow: 'COMPLETED' });
    const refusal: SideResult = { ...job('legacy', 'x', 400), body: Buffer.from('{"detail":"GIS export job A is not completed (current status: PENDING)"}') };
    expect(raceBetween(status, refusal, job('reimpl', 'COMPLETED'))).toEqual({ serving: 'PENDING', shadow: 'COMPLETED' });
  });

  it('sees a race in a download served on one side while the other has not written the file yet, and none when both are served', () => {
    const download = loadRouteCatalogue().byId('sync.gis-export.download')!;
    const file: SideResult = { ...job('legacy', 'x'), headers: { 'content-type': 'application/geo+json' }, body: Buffer.from('{"type":"FeatureCollection","features":[]}') };
    const notYet: SideResult = { ...job('reimpl', 'x', 404), body: Buffer.from('{"detail":"Export file for GIS export job B not found"}') };
    const otherNotFound: SideResult = { ...job('reimpl', 'x', 404), body: Buffer.from('{"detail":"GIS export job B not found"}') };
    expect(raceBetween(download, file, notYet)).toEqual({ serving: 'COMPLETED', shadow: 'RUNNING' });
    expect(raceBetween(download, file, otherNotFound)).toBeUndefined();
    expect(raceBetween(download, file, { ...file, side: 'reimpl' })).toBeUndefined();
    const settled = settleEventualState(download, file, notYet, compareAnswers(file, notYet, download.compare));
    expect(settled.verdict).toBe('ignored');
    expect(settled.ignoredBy).toEqual(['eventual-state']);
  });

  it('sees a race in a download whose served file was too large to capture whole, against the other side\'s "Export file ... not found"', () => {
    const download = loadRouteCatalogue().byId('sync.gis-export.download')!;
    const bigFile: SideResult = { ...job('legacy', 'x'), headers: { 'content-type': 'application/geo+json' }, body: Buffer.from('{"type":"FeatureCo'), truncated: true };
    const notYet: SideResult = { ...job('reimpl', 'x', 404), body: Buffer.from('{"detail":"Export file for GIS export job B not found"}') };
    expect(raceBetween(download, bigFile, notYet)).toEqual({ serving: 'COMPLETED', shadow: 'RUNNING' });
    expect(settleEventualState(download, bigFile, notYet, compareAnswers(bigFile, notYet, download.compare)).ignoredBy).toEqual(['eventual-state']);
  });

  it('sees no race between two different terminal states, unconnected states, equal states or non-job routes', () => {
    expect(raceBetween(status, job('legacy', 'FAILED'), job('reimpl', 'COMPLETED'))).toBeUndefined();
    expect(raceBetween(status, job('legacy', 'CANCELLING'), job('reimpl', 'FAILED'))).toBeUndefined();
    expect(raceBetween(status, job('legacy', 'RUNNING'), job('reimpl', 'RUNNING'))).toBeUndefined();
    expect(raceBetween(health, job('legacy', 'RUNNING'), job('reimpl', 'COMPLETED'))).toBeUndefined();
  });
});

describe('a racing comparison', () => {
  it('is ignored with rule eventual-state, each unexplained difference naming it', () => {
    const [serving, shadow] = [job('legacy', 'RUNNING'), job('reimpl', 'COMPLETED')];
    const settled = settleEventualState(status, serving, shadow, compareAnswers(serving, shadow, status.compare));
    expect(settled.verdict).toBe('ignored');
    expect(settled.ignoredBy).toEqual(['eventual-state']);
    expect(settled.differences.map((difference) => [difference.path, difference.ignoredBy])).toEqual([['$.status', 'eventual-state'], ['$.message', 'eventual-state']]);
  });

  it('stays a mismatch when the terminal states differ', () => {
    const [serving, shadow] = [job('legacy', 'FAILED'), job('reimpl', 'COMPLETED')];
    expect(settleEventualState(status, serving, shadow, compareAnswers(serving, shadow, status.compare)).verdict).toBe('mismatched');
  });

  it('is polled until both sides are terminal, or answered as last seen at the deadline', async () => {
    const servingReads = [job('legacy', 'RUNNING'), job('legacy', 'COMPLETED')];
    const read: string[] = [];
    const noWait = async () => undefined;
    const polled = await pollToTerminal(
      status,
      async (target) => {
        read.push(target);
        return target === 'serving' ? servingReads[Math.min(read.filter((t) => t === 'serving').length - 1, 1)]! : job('reimpl', 'COMPLETED');
      },
      { serving: job('legacy', 'PENDING'), shadow: job('reimpl', 'RUNNING') },
      { deadlineMs: 1000, intervalMs: 10 },
      noWait,
    );
    expect(polled).toMatchObject({ rounds: 2, settled: true });
    // The shadow side was terminal after the first round: only the serving side was read again.
    expect(read).toEqual(['serving', 'shadow', 'serving']);
    const stuck = await pollToTerminal(status, async (target) => (target === 'serving' ? job('legacy', 'RUNNING') : job('reimpl', 'COMPLETED')), { serving: job('legacy', 'RUNNING'), shadow: job('reimpl', 'COMPLETED') }, { deadlineMs: 30, intervalMs: 10 });
    expect(stuck.settled).toBe(false);
    expect(stuck.rounds).toBeGreaterThan(0);
  });

  it('polls a download until the side that had not written its file serves it, never fetching the served file again', async () => {
    const download = loadRouteCatalogue().byId('sync.gis-export.download')!;
    const file = (side: 'legacy' | 'reimpl'): SideResult => ({ ...job(side, 'x'), headers: { 'content-type': 'application/geo+json' }, body: Buffer.from('{"type":"FeatureCollection","features":[]}') });
    const notYet: SideResult = { ...job('reimpl', 'x', 404), body: Buffer.from('{"detail":"Export file for GIS export job B not found"}') };
    const shadowReads = [notYet, file('reimpl')];
    const read: string[] = [];
    const polled = await pollToTerminal(
      download,
      async (target) => {
        read.push(target);
        return shadowReads[Math.min(read.length - 1, 1)]!;
      },
      { serving: file('legacy'), shadow: notYet },
      { deadlineMs: 1000, intervalMs: 10 },
      async () => undefined,
    );
    expect(polled).toMatchObject({ rounds: 2, settled: true });
    expect(polled.shadow.status).toBe(200);
    expect(read).toEqual(['shadow', 'shadow']);
  });
});
