// An exchange whose bodies the comparison never reads (a side cut at the capture bound, or
// failed) is judged on the proxy's loop with only the bytes its observation may keep: its
// megabytes are never queued, serialised to a comparison worker, or held until written.
import { afterAll, describe, expect, it } from 'vitest';
import { emptySnapshot, staticFlagSource } from '../../flags/flag.js';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { createProxyMetrics } from '../../proxy/observe/metrics.js';
import { bodiesUnread, ObservationRecorder, withoutUnreadBodies, type Exchange } from '../../proxy/observe/observation-recorder.js';
import { ComparePool, type CompareJob } from '../../proxy/shadow/compare-pool.js';
import type { Comparison } from '../../proxy/shadow/compare.js';
import type { SideResult } from '../../proxy/serving/capture.js';

const catalogue = loadRouteCatalogue();
const captureBound = 4 << 20;
const sampleBytes = 1000;

/** The real pool, counting the jobs it is handed. */
class CountingPool extends ComparePool {
  jobs = 0;
  override compare(job: CompareJob): Promise<Comparison> {
    this.jobs++;
    return super.compare(job);
  }
}

const side = (name: 'legacy' | 'reimpl', body: Buffer, extra: Partial<SideResult> = {}): SideResult => ({ side: name, status: 200, headers: {}, body, truncated: false, latencyMs: 1, failure: undefined, ...extra });
const exchange = (serving: SideResult, shadow: SideResult): Exchange => ({ at: new Date(), route: catalogue.byId('sync.health')!, service: 'sync', method: 'GET', path: '/health', mode: 'shadow', serving, shadow });

const pool = new CountingPool({ workers: 1, timeoutMs: 30_000 });
afterAll(() => pool.close());

describe('an exchange whose bodies the comparison never reads', () => {
  it('is compared on the loop, holds only the sample bytes, and is ignored by compare.max-body', async () => {
    const store = new FakeObservationStore();
    const metrics = createProxyMetrics(staticFlagSource(emptySnapshot()), catalogue);
    const recorder = new ObservationRecorder(store, metrics, pool, { batchSize: 10, flushIntervalMs: 10, maxQueued: 10, maxQueuedBytes: 64 << 20, inlineMaxBytes: 16_384, mismatchBodySampleRate: 1, mismatchBodyMaxBytes: sampleBytes });
    const huge = Buffer.alloc(captureBound, 'a');
    expect(recorder.submit(exchange(side('legacy', Buffer.from('{"ok":true}')), side('reimpl', huge, { truncated: true })))).toBe(true);
    // A 503 past the bound: status compared (mismatched), the body sample kept, and no more.
    expect(recorder.submit(exchange(side('legacy', Buffer.from('{"ok":true}')), side('reimpl', huge, { truncated: true, status: 503 })))).toBe(true);
    expect(recorder.queuedBytes).toBeLessThan(2 * (2 * sampleBytes + 1024));
    await recorder.flush();
    expect(pool.jobs).toBe(0);
    const byStatus = new Map((await store.list()).map((observation) => [observation.shadow.status, observation]));
    expect([...byStatus].map(([status, observation]) => [status, observation.verdict, observation.ignoredBy]).sort()).toEqual([
      [200, 'ignored', ['compare.max-body']],
      [503, 'mismatched', []],
    ]);
    expect(byStatus.get(503)!.shadow.body).toBe('a'.repeat(sampleBytes));
    expect(recorder.queuedBytes).toBe(0);
  });

  it('is one with a side cut at the bound or failed, never one whose bodies were both read whole', () => {
    const body = Buffer.from('{}');
    const failure = { code: 'CUTOVER_ERR_UPSTREAM_MALFORMED', message: 'HPE_INVALID_CONSTANT: Expected HTTP/' };
    expect(bodiesUnread(exchange(side('legacy', body), side('reimpl', body)))).toBe(false);
    expect(bodiesUnread(exchange(side('legacy', body), side('reimpl', body, { truncated: true })))).toBe(true);
    expect(bodiesUnread(exchange(side('legacy', body, { truncated: true }), side('reimpl', body)))).toBe(true);
    expect(bodiesUnread(exchange(side('legacy', body), side('reimpl', body, { failure })))).toBe(true);
    // A body read whole keeps every byte, however large.
    const whole = exchange(side('legacy', Buffer.alloc(100_000)), side('reimpl', Buffer.alloc(100_000)));
    expect(withoutUnreadBodies(whole, sampleBytes)).toBe(whole);
  });

  it('compares a burst on the loop over several turns, each stopping once its share of the turn is spent', async () => {
    const store = new FakeObservationStore();
    const metrics = createProxyMetrics(staticFlagSource(emptySnapshot()), catalogue);
    const recorder = new ObservationRecorder(store, metrics, pool, { batchSize: 100, flushIntervalMs: 10, maxQueued: 100, maxQueuedBytes: 64 << 20, inlineMaxBytes: 16_384, mismatchBodySampleRate: 0, mismatchBodyMaxBytes: sampleBytes });
    // Two ~7 KiB documents that differ in every value: each comparison walks 500 keys on both sides, far more than a few µs.
    const document = (value: number) => Buffer.from(JSON.stringify(Object.fromEntries(Array.from({ length: 500 }, (_, index) => [`key${index}`, value + index]))));
    for (let index = 0; index < 60; index++) expect(recorder.submit(exchange(side('legacy', document(0)), side('reimpl', document(1))))).toBe(true);
    const judged = async () => (await metrics.registry.getSingleMetric('cutover_proxy_shadow_verdicts_total')!.get()).values.reduce((sum, { value }) => sum + value, 0);
    expect(await judged()).toBe(0);
    // The recorder's turn was scheduled first, so it has run when this one does (its next turn is in the loop's next iteration).
    await new Promise((resolve) => setImmediate(resolve));
    const judgedInOneTurn = await judged();
    // A slice of 50 a turn, whatever it cost, would judge 50.
    expect(judgedInOneTurn).toBeGreaterThan(0);
    expect(judgedInOneTurn).toBeLessThan(50);
    await recorder.flush();
    expect(pool.jobs).toBe(0);
    expect((await store.list()).filter((observation) => observation.verdict === 'mismatched')).toHaveLength(60);
  });
});
