// The observation queue is bounded in bytes, not only in count: while the store is slow, the
// bodies kept for comparison and for storing pile up to proxy.observations.maxQueuedBytes, and
// new exchanges beyond it are dropped and counted; serving never waits for any of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import type { Observation } from '../../proxy/observe/observation.js';
import { call, eventually, startTestProxy, startUpstreams, stopTestProxy, type ProxyUnderTest, type Upstreams } from './harness.js';

/** A store whose writes wait until the test opens it, as a PostgreSQL under load would. */
class SlowStore extends FakeObservationStore {
  private open: (() => void) | undefined;
  private readonly opened = new Promise<void>((resolve) => (this.open = resolve));

  override async append(observations: readonly Observation[]): Promise<void> {
    await this.opened;
    await super.append(observations);
  }

  release(): void {
    this.open!();
  }
}

let upstreams: Upstreams;
let subject: ProxyUnderTest;
const store = new SlowStore();
const bodyBytes = 8000;

beforeAll(async () => {
  upstreams = await startUpstreams();
  // Both sides answer 8000 bytes that differ: each mismatch keeps both bodies (~17 KiB) until written.
  upstreams.legacy.behave((_req, res) => res.end(Buffer.alloc(bodyBytes, 'l')));
  upstreams.reimpl.behave((_req, res) => res.end(Buffer.alloc(bodyBytes, 'r')));
  subject = await startTestProxy(upstreams, { proxy: { observations: { maxQueuedBytes: 40_000, batchSize: 1 } } }, store);
  subject.flags.set('sync.health', 'shadow');
});
afterAll(async () => {
  store.release();
  await stopTestProxy(subject, upstreams);
});

const queuedBytes = async () => {
  const text = await subject.proxy.metrics.registry.getSingleMetricAsString('cutover_proxy_observations_queued_bytes');
  return Number(/ (\d+)$/m.exec(text)![1]);
};

describe('the observation queue', () => {
  it('drops and counts exchanges beyond its byte bound while the store is slow, serves them all, and frees the bytes once written', async () => {
    for (const expected of [1, 2]) {
      expect((await call(`${subject.url}/health`)).body.length).toBe(bodyBytes);
      await eventually(() => (subject.proxy.health().observationsQueued === expected ? true : undefined));
    }
    expect(await queuedBytes()).toBeGreaterThan(4 * bodyBytes);
    // A third pair would pass 40,000 bytes: served the same, not queued.
    expect((await call(`${subject.url}/health`)).body.toString()).toBe('l'.repeat(bodyBytes));
    expect(await subject.proxy.metrics.registry.metrics()).toContain('cutover_proxy_shadow_dropped_total{route="sync.health",reason="queue_bytes"} 1');
    expect(subject.proxy.health().observationsQueued).toBe(2);

    store.release();
    await subject.proxy.flushObservations();
    expect(await queuedBytes()).toBe(0);
    await call(`${subject.url}/health`);
    await subject.proxy.flushObservations();
    const recorded = await store.list();
    expect(recorded.map((observation) => [observation.verdict, observation.serving.body?.length, observation.shadow.body?.length])).toEqual([
      ['mismatched', bodyBytes, bodyBytes],
      ['mismatched', bodyBytes, bodyBytes],
      ['mismatched', bodyBytes, bodyBytes],
    ]);
  });
});
