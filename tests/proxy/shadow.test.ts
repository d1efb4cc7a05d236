import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { PgObservationStore } from '../../proxy/observe/pg-observation-store.js';
import { startProxy } from '../../proxy/start.js';
import {
  call,
  closedPort,
  configFor,
  eventually,
  ManualFlags,
  resetSeenAndFlags,
  startTestProxy,
  startUpstreams,
  stopTestProxy,
  testCatalogue,
  type Answer,
  type Behaviour,
  type ProxyUnderTest,
  type Upstreams,
} from './harness.js';

let upstreams: Upstreams;
let subject: ProxyUnderTest;

const legacyAnswer: Behaviour = (_req, res) => {
  res.setHeader('set-cookie', 'legacy=1');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"status":"healthy","version":"0.1.0","n":1.0}');
};
const sameAsLegacy: Behaviour = legacyAnswer;

beforeAll(async () => {
  upstreams = await startUpstreams();
  subject = await startTestProxy(upstreams);
});
afterAll(() => stopTestProxy(subject, upstreams));
afterEach(() => resetSeenAndFlags(subject, upstreams));

/** What the client sees, minus the Date header (which differs by the second). */
const visible = (answer: Answer) => {
  const { date: _date, ...headers } = answer.headers;
  return { status: answer.status, headers, body: answer.body.toString('latin1') };
};

async function servedWithoutShadow(url: string) {
  subject.flags.set('sync.health', 'legacy');
  return visible(await call(url));
}

async function observations(store: FakeObservationStore | ProxyUnderTest['store'], count: number) {
  return eventually(async () => {
    const found = await store.list();
    return found.length >= count ? found : undefined;
  });
}

describe('the serving answer is sacred', () => {
  const failures: Array<[string, Behaviour]> = [
    ['times out', () => undefined],
    ['answers 500', (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Internal Server Error');
    }],
    ['answers garbage that is not HTTP', (_req, res) => {
      res.socket!.end('\x00\x01garbage\r\n\r\n');
    }],
    ['answers a garbage body', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status": nope');
    }],
    ['resets the connection', (_req, res) => {
      res.socket!.resetAndDestroy();
    }],
    ['answers slowly, and then the rest of its body never', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      setTimeout(() => res.write('{"status":'), 200).unref();
    }],
  ];

  for (const [what, behaviour] of failures) {
    it(`serves the same bytes, at legacy's speed, when the shadow side ${what}`, async () => {
      upstreams.legacy.behave(legacyAnswer);
      upstreams.reimpl.behave(behaviour);
      const baseline = await servedWithoutShadow(`${subject.url}/health`);
      subject.flags.set('sync.health', 'shadow');
      const started = performance.now();
      const shadowed = visible(await call(`${subject.url}/health`));
      const elapsed = performance.now() - started;
      expect({ ...shadowed, headers: { ...shadowed.headers } }).toEqual(baseline);
      // The shadow's timeout is 1 s in the harness: the serving answer never waits for it.
      expect(elapsed).toBeLessThan(500);
      await subject.proxy.flushObservations();
    });
  }

  it('serves the same bytes when the shadow side refuses connections, and records the shadow as errored', async () => {
    upstreams.legacy.behave(legacyAnswer);
    const config = configFor(upstreams);
    const store = new FakeObservationStore();
    const flags = new ManualFlags();
    const refused = await startProxy({
      config: { ...config, reimpl: { ...config.reimpl, sync: { host: '127.0.0.1', port: await closedPort() } } },
      catalogue: testCatalogue,
      flagSource: flags,
      observationStore: store,
      services: ['sync'],
    });
    try {
      const baseline = visible(await call(`${refused.urls.sync}/health`));
      flags.set('sync.health', 'shadow');
      expect(visible(await call(`${refused.urls.sync}/health`))).toEqual(baseline);
      const [observation] = await observations(store, 1);
      expect(observation).toMatchObject({ verdict: 'errored', erroredSide: 'shadow', shadow: { error: 'CUTOVER_ERR_UPSTREAM_UNREACHABLE', status: null } });
    } finally {
      await refused.close();
    }
  });
});

describe('what is shadowed', () => {
  it('does not shadow a request body over the limit, forwards it whole, and counts it', async () => {
    const small = await startTestProxy(upstreams, { proxy: { shadow: { maxRequestBodyBytes: 1000 } } });
    upstreams.legacy.behave((_req, res, body) => res.end(`got ${body.length}`));
    try {
      small.flags.set('sync.echo', 'shadow');
      const declared = await call(`${small.url}/echo`, { method: 'POST', body: Buffer.alloc(5000, 'a') });
      expect(declared.body.toString()).toBe('got 5000');
      const chunked = await call(`${small.url}/echo`, {
        method: 'POST',
        body: (async function* () {
          for (let i = 0; i < 10; i++) yield Buffer.alloc(400, 'b');
        })() as unknown as Buffer,
      });
      expect(chunked.body.toString()).toBe('got 4000');
      const within = await call(`${small.url}/echo`, { method: 'POST', body: Buffer.alloc(900, 'c') });
      expect(within.body.toString()).toBe('got 900');
      await eventually(() => (upstreams.reimpl.seen.length === 1 ? true : undefined));
      expect(upstreams.reimpl.seen[0]!.body.length).toBe(900);
      const metrics = await small.proxy.metrics.registry.metrics();
      expect(metrics).toContain('cutover_proxy_shadow_dropped_total{route="sync.echo",reason="body_too_large"} 2');
    } finally {
      await small.proxy.close();
    }
  });

  it('drops shadow copies over the per-route budget instead of queueing them, and counts them', async () => {
    const tight = await startTestProxy(upstreams, { proxy: { shadow: { perRouteConcurrency: 1 } } });
    upstreams.legacy.behave(legacyAnswer);
    const held: Array<() => void> = [];
    upstreams.reimpl.behave((_req, res) => held.push(() => res.end('{}')));
    try {
      tight.flags.set('sync.health', 'shadow');
      const answers = await Promise.all([1, 2, 3].map(() => call(`${tight.url}/health`)));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
      await eventually(() => (held.length === 1 ? true : undefined));
      const metrics = await tight.proxy.metrics.registry.metrics();
      expect(metrics).toContain('cutover_proxy_shadow_dropped_total{route="sync.health",reason="route_budget"} 2');
      for (const release of held) release();
    } finally {
      await tight.proxy.close();
    }
  });
});

describe('shadow answers past the capture bound', () => {
  it('are cut at the bound: compared as truncated, their connection closed rather than read to the end, the next copy served on a new one', async () => {
    const bounded = await startTestProxy(upstreams, { proxy: { shadow: { maxCompareBodyBytes: 1024, perRouteConcurrency: 1 } } });
    const chunk = Buffer.alloc(1 << 20, 'x');
    const chunks = 64;
    const written: number[] = [];
    upstreams.legacy.behave((_req, res) => res.end(chunk));
    // 64 MiB offered as the reader takes it: how much was taken before the connection closed tells whether the proxy read on.
    upstreams.reimpl.behave((_req, res) => {
      let sent = 0;
      res.writeHead(200, { 'content-length': chunk.length * chunks });
      const more = () => {
        while (sent < chunks && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.once('close', () => written.push(sent));
      more();
    });
    try {
      bounded.flags.set('sync.health', 'shadow');
      for (let i = 0; i < 3; i++) {
        expect((await call(`${bounded.url}/health`)).body.length).toBe(chunk.length);
        // One copy in flight at a time: each must end before the next can be sent.
        await eventually(async () => ((await bounded.store.list()).length === i + 1 ? true : undefined));
      }
      const recorded = await bounded.store.list();
      expect(recorded.map((row) => [row.verdict, row.ignoredBy.includes('compare.max-body')])).toEqual([['ignored', true], ['ignored', true], ['ignored', true]]);
      await eventually(() => (written.length === 3 ? true : undefined));
      // Loopback buffers hold a few MiB; a body read to the end would have taken all 64.
      expect(written.every((count) => count < chunks)).toBe(true);
    } finally {
      await bounded.proxy.close();
    }
  });
});

describe('observations', () => {
  it('keeps serving, and counts the lost observations, when the observation store is down', async () => {
    const down = new PgObservationStore(`postgres://postgres@127.0.0.1:${await closedPort()}/nowhere`);
    const own = await startTestProxy(upstreams, {}, down);
    upstreams.legacy.behave(legacyAnswer);
    try {
      own.flags.set('sync.health', 'shadow');
      const answers = await Promise.all([1, 2, 3].map(() => call(`${own.url}/health`)));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
      await eventually(async () => ((await own.proxy.metrics.registry.metrics()).includes('cutover_proxy_observation_write_failures_total 3') ? true : undefined));
    } finally {
      await own.proxy.close();
      await down.close();
    }
  });

  it('records a matched observation when both sides answer the same', async () => {
    upstreams.legacy.behave(legacyAnswer);
    upstreams.reimpl.behave(sameAsLegacy);
    const store = new FakeObservationStore();
    const own = await startTestProxy(upstreams, {}, store);
    try {
      own.flags.set('sync.health', 'shadow');
      await call(`${own.url}/health`);
      const [observation] = await observations(store, 1);
      expect(observation).toMatchObject({
        routeId: 'sync.health',
        mode: 'shadow',
        verdict: 'matched',
        serving: { side: 'legacy', status: 200, body: null },
        shadow: { side: 'reimpl', status: 200 },
        differences: [],
      });
      expect(observation!.serving.latencyMs).toBeGreaterThan(0);
    } finally {
      await own.proxy.close();
    }
  });

  it('records differences explained by ignore rules as ignored with the rule, never as matched', async () => {
    upstreams.legacy.behave((_req, res) => res.end('{"generated_at":"2025-01-01T00:00:00","rows":[{"id":1,"v":2}]}'));
    upstreams.reimpl.behave((_req, res) => res.end('{"generated_at":"2025-06-01T12:00:00","rows":[{"id":9,"v":2}]}'));
    const store = new FakeObservationStore();
    const own = await startTestProxy(upstreams, {}, store);
    try {
      own.flags.set('sync.items', 'shadow');
      await call(`${own.url}/items/1`);
      const [observation] = await observations(store, 1);
      expect(observation!.verdict).toBe('ignored');
      expect(observation!.ignoredBy.sort()).toEqual(['$.generated_at', '$.rows[*].id']);
      const metrics = await own.proxy.metrics.registry.metrics();
      expect(metrics).toContain('cutover_proxy_shadow_verdicts_total{route="sync.items",verdict="ignored"} 1');
      expect(metrics).not.toContain('verdict="matched"');
    } finally {
      await own.proxy.close();
    }
  });

  it('records a mismatch with each differing path, both values and the full bodies', async () => {
    upstreams.legacy.behave(legacyAnswer);
    upstreams.reimpl.behave((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end('{"n":1,"version":"0.2.0","status":"healthy"}');
    });
    const store = new FakeObservationStore();
    const own = await startTestProxy(upstreams, {}, store);
    try {
      own.flags.set('sync.health', 'shadow');
      await call(`${own.url}/health`);
      const [observation] = await observations(store, 1);
      expect(observation!.verdict).toBe('mismatched');
      expect(observation!.differences).toEqual([
        { path: 'headers.content-type', serving: '"application/json"', shadow: '"application/json; charset=utf-8"', kind: 'header', disposition: { as: 'mismatch' } },
        { path: '$.version', serving: '"0.1.0"', shadow: '"0.2.0"', kind: 'value', disposition: { as: 'mismatch' } },
        { path: '$.n', serving: '1.0', shadow: '1', kind: 'number-rendering', disposition: { as: 'mismatch' }, detail: expect.any(String) },
      ]);
      expect(observation!.serving.body).toBe('{"status":"healthy","version":"0.1.0","n":1.0}');
      expect(observation!.shadow.body).toBe('{"n":1,"version":"0.2.0","status":"healthy"}');
    } finally {
      await own.proxy.close();
    }
  });
});
