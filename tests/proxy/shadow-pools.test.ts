// Shadow work never touches the serving side's connections: shadow copies and eventual-state
// polls have pools of their own, and a copy that times out is aborted for real, even while it
// still waits for a connection inside the pool (it then never reaches the shadow side).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SideResult } from '../../proxy/serving/capture.js';
import { sendShadow, type TimeoutStage } from '../../proxy/shadow/shadow.js';
import { Upstreams } from '../../proxy/serving/upstreams.js';
import { call, configFor, eventually, resetSeenAndFlags, startTestProxy, startUpstreams, stopTestProxy, testCatalogue, type ProxyUnderTest, type Upstreams as TestUpstreams } from './harness.js';

let upstreams: TestUpstreams;
const held: Array<() => void> = [];
/** Held requests whose connection the proxy closed before they were answered. */
let cutOff = 0;

beforeAll(async () => {
  upstreams = await startUpstreams();
});
afterAll(async () => {
  for (const release of held.splice(0)) release();
  await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
});
afterEach(() => {
  for (const release of held.splice(0)) release();
  for (const upstream of Object.values(upstreams)) upstream.restore();
});

/** Requests whose path starts with `prefix` are held (no answer) until the test ends; others are echoed. */
function hold(upstream: TestUpstreams['legacy'], prefix: string): void {
  upstream.behave((req, res, body) => {
    if (req.url!.startsWith(prefix)) {
      held.push(() => res.end('{}'));
      res.once('close', () => {
        if (!res.writableEnded) cutOff++;
      });
      return;
    }
    const answer = JSON.stringify({ url: req.url, body: body.toString('utf8') });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
}

describe('the upstream pools', () => {
  it('gives serving answers, shadow copies and polls of one origin three pools of their own', async () => {
    const pools = new Upstreams(configFor(upstreams, { proxy: { connectionsPerUpstream: 3, shadow: { connectionsPerUpstream: 2, pollConnectionsPerUpstream: 1 } } }));
    try {
      const route = testCatalogue.byId('sync.health')!;
      // reimpl mode: legacy is the shadow side, the same origin legacy serves from in legacy mode.
      const serving = pools.for('sync', route, 'legacy', 'serving');
      const shadow = pools.for('sync', route, 'legacy', 'shadow');
      const poll = pools.forPoll(serving);
      expect(new Set([serving.origin, shadow.origin, poll.origin]).size).toBe(1);
      // Copies and polls travel on raw sockets, node:http's serving path on undici: each kind has its own of both.
      expect(new Set([serving.sockets, shadow.sockets, poll.sockets]).size).toBe(3);
      expect(new Set([serving.pool, shadow.pool, poll.pool]).size).toBe(3);
      expect([serving.kind, shadow.kind, poll.kind]).toEqual(['serving', 'shadow', 'poll']);
      expect(pools.forPoll(shadow)).toBe(poll);
      expect(pools.for('sync', route, 'legacy', 'serving')).toBe(serving);
    } finally {
      await pools.close();
    }
  });

  for (const fastLane of [false, true]) {
    it(`serves from an origin whose one serving connection a hung shadow copy to that origin would otherwise hold (fast lane ${fastLane ? 'on' : 'off'})`, async () => {
      // One serving connection per origin, and a shadow timeout far beyond the test's: a shared pool would make /health wait.
      const subject = await startTestProxy(upstreams, { proxy: { fastLane, connectionsPerUpstream: 1, shadow: { timeoutMs: 120_000 } } });
      try {
        hold(upstreams.legacy, '/items/');
        // sync.items in reimpl mode: reimpl serves, legacy gets the copy (and holds it); sync.health stays served by legacy.
        subject.flags.set('sync.items', 'reimpl');
        const items = await call(`${subject.url}/items/7`);
        expect(items.status).toBe(200);
        await eventually(() => (held.length === 1 ? true : undefined));
        const health = await Promise.all([1, 2, 3].map(() => call(`${subject.url}/health`)));
        expect(health.map((answer) => [answer.status, JSON.parse(answer.body.toString()).url])).toEqual([
          [200, '/health'],
          [200, '/health'],
          [200, '/health'],
        ]);
        // The copy is still held by legacy while those were served.
        expect(held.length).toBe(1);
      } finally {
        resetSeenAndFlags(subject, upstreams);
        for (const release of held.splice(0)) release();
        await subject.proxy.close();
      }
    });
  }
});

describe('a shadow copy that times out', () => {
  it('still queued inside its pool, is aborted when it gets a connection, and never reaches the shadow side', async () => {
    hold(upstreams.reimpl, '/items/hang');
    const pools = new Upstreams(configFor(upstreams, { proxy: { shadow: { connectionsPerUpstream: 1 } } }));
    try {
      const upstream = pools.for('sync', testCatalogue.byId('sync.items')!, 'reimpl', 'shadow');
      const copy = (path: string, timeoutMs: number, stages: TimeoutStage[]) =>
        new Promise<SideResult>((resolve) => sendShadow(upstream, 'reimpl', { method: 'GET', path, headers: [], body: null }, { timeoutMs, captureLimit: 1024 }, resolve, (stage) => stages.push(stage)));
      // The one shadow connection is held by a copy with time to spare; the next copy waits behind it and times out there.
      const holderStages: TimeoutStage[] = [];
      const holder = copy('/items/hang-long', 60_000, holderStages);
      await eventually(() => (held.length === 1 ? true : undefined));
      const queuedStages: TimeoutStage[] = [];
      const queued = await copy('/items/hang-queued', 100, queuedStages);
      expect({ code: queued.failure?.code, stages: queuedStages }).toEqual({ code: 'CUTOVER_ERR_SHADOW_TIMEOUT', stages: ['queued'] });
      // The holder's answer frees the connection: undici hands it to the timed-out copy, which is aborted unwritten.
      for (const release of held.splice(0)) release();
      expect((await holder).status).toBe(200);
      expect(holderStages).toEqual([]);
      const after = await copy('/items/after', 5_000, []);
      expect(after.status).toBe(200);
      expect(upstreams.reimpl.seen.map((seen) => seen.url)).toEqual(['/items/hang-long', '/items/after']);
    } finally {
      upstreams.reimpl.seen.length = 0;
      await pools.close();
    }
  });

  it('sent, has its connection closed; the serving answer and the observation say so', async () => {
    const subject = await startTestProxy(upstreams, { proxy: { shadow: { timeoutMs: 300 } } });
    try {
      hold(upstreams.reimpl, '/items/hang');
      subject.flags.set('sync.items', 'shadow');
      const answer = await call(`${subject.url}/items/hang-1`);
      expect(JSON.parse(answer.body.toString()).url).toBe('/items/hang-1');
      const [observation] = await eventually(async () => {
        const found = await subject.store.list({ verdict: 'errored' });
        return found.length === 1 ? found : undefined;
      });
      expect([observation!.erroredSide, observation!.shadow.error, observation!.serving.status]).toEqual(['shadow', 'CUTOVER_ERR_SHADOW_TIMEOUT', 200]);
      expect(await subject.proxy.metrics.registry.metrics()).toContain('cutover_proxy_shadow_timeouts_total{service="sync",stage="in_flight"} 1');
      // The proxy destroyed the held request's connection: the upstream sees it close unanswered.
      expect(upstreams.reimpl.seen.map((seen) => seen.url)).toEqual(['/items/hang-1']);
      await eventually(() => (cutOff === 1 ? true : undefined));
    } finally {
      resetSeenAndFlags(subject, upstreams);
      await subject.proxy.close();
    }
  });
});
