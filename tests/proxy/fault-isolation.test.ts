// Fault isolation (issue 9 item 5), on both transports: a throw in any step of a request costs
// that request only — the client gets a 500 with its code, the process and the other front
// doors stay up (an escaped throw would end this test run as an unhandled error); a throw in
// the shadow copy's steps never changes the serving answer; a client that goes away is
// counted as a client abort, not as the serving upstream failing.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlagSnapshot, FlagSource } from '../../flags/flag.js';
import { parseRouteCatalogue, type RouteCatalogue } from '../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { call, configFor, eventually, ManualFlags, rawRequest, startUpstreams, testCatalogue, type TestUpstream, type Upstreams } from './harness.js';

/** The sync test routes and a gateway door, so that a throw on one door can be seen not to touch the other. */
const catalogue = parseRouteCatalogue({
  version: 1,
  routes: [
    ...testCatalogue.routes.map(({ id, service, method, path, owner, writes }) => ({ id, service, method, path, owner, writes })),
    { id: 'gateway.health', service: 'gateway', method: 'GET', path: '/health', owner: 'tests', writes: false },
  ],
});

/** Set to make the next shadowed `POST /echo` throw in its copy's first step (the stateful plan reads the route's correlation). */
let trapShadowStep = false;

/** The catalogue, except that matching `/boom` throws (a bug in the match step), and the shadow-step trap above. */
const throwingCatalogue: RouteCatalogue = {
  ...catalogue,
  match: (service, method, path) => {
    if (path.startsWith('/boom')) throw new Error('injected: the route catalogue threw');
    const route = catalogue.match(service, method, path);
    if (!route || route.id !== 'sync.echo' || !trapShadowStep) return route;
    trapShadowStep = false;
    let sprung = false;
    return Object.defineProperty({ ...route }, 'correlation', {
      get() {
        if (sprung) return undefined;
        sprung = true;
        throw new Error('injected: the shadow copy step threw');
      },
    });
  },
};

/** Flags that throw while `broken` is set (a bug in the decide step). */
class BreakableFlags implements FlagSource {
  broken = false;
  constructor(private readonly inner: ManualFlags) {}
  current(): FlagSnapshot {
    if (this.broken) throw new Error('injected: the flag source threw');
    return this.inner.current();
  }
}

describe.each([
  ['the fast lane', true],
  ['the node:http path', false],
])('a throw inside the proxy, on %s', (_path, fastLane) => {
  let upstreams: Upstreams;
  let proxy: RunningProxy;
  let flags: ManualFlags;
  let breakable: BreakableFlags;
  let store: FakeObservationStore;

  beforeAll(async () => {
    upstreams = await startUpstreams();
    const config = configFor(upstreams, { proxy: { fastLane } });
    flags = new ManualFlags();
    breakable = new BreakableFlags(flags);
    store = new FakeObservationStore();
    proxy = await startProxy({
      config: { ...config, legacy: { ...config.legacy, gateway: config.legacy.sync } },
      catalogue: throwingCatalogue,
      flagSource: breakable,
      observationStore: store,
      services: ['sync', 'gateway'],
      random: () => 0,
    });
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all(Object.values(upstreams).map((upstream: TestUpstream) => upstream.close()));
  });

  const internalErrors = async (step: string) => {
    const text = await proxy.metrics.registry.metrics();
    return Number(new RegExp(`cutover_proxy_internal_errors_total\\{service="sync",step="${step}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  it('answers 500 with its code when the match step throws, and the proxy, its connection handling and the other door stay up', async () => {
    const before = await internalErrors('serving');
    const answer = await call(`${proxy.urls.sync}/boom`);
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body.toString())).toMatchObject({ code: 'CUTOVER_ERR_PROXY_INTERNAL' });
    expect(await internalErrors('serving')).toBe(before + 1);
    expect((await call(`${proxy.urls.sync}/health`)).status).toBe(200);
    expect((await call(`${proxy.urls.gateway}/health`)).status).toBe(200);
  });

  it('answers 500 with its code when the decide step throws, and serves again once it does not', async () => {
    breakable.broken = true;
    try {
      const answer = await rawRequest(proxy.urls.sync!, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 500 /);
      expect(answer).toContain('CUTOVER_ERR_PROXY_INTERNAL');
    } finally {
      breakable.broken = false;
    }
    expect((await call(`${proxy.urls.sync}/health`)).status).toBe(200);
  });

  it('serves the answer unchanged when the shadow copy step throws, and records the copy as errored', async () => {
    flags.set('sync.echo', 'shadow');
    trapShadowStep = true;
    try {
      const before = await internalErrors('shadow');
      const answer = await call(`${proxy.urls.sync}/echo`, { method: 'POST', body: 'kept' });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString())).toMatchObject({ side: 'legacy', body: 'kept' });
      expect(await internalErrors('shadow')).toBe(before + 1);
      await proxy.flushObservations();
      const observed = await eventually(async () => (await store.list({ routeId: 'sync.echo' }))[0]);
      expect(observed).toMatchObject({ verdict: 'errored', erroredSide: 'shadow', serving: { status: 200 }, shadow: { error: 'CUTOVER_ERR_PROXY_INTERNAL' } });
    } finally {
      flags.set('sync.echo', 'legacy');
    }
  });

  it('counts a client that goes away mid-answer as a client abort, not as the serving upstream failing', async () => {
    // The answer streams a part every few ms and never ends; the proxy learns the client is gone when it writes the next part.
    const streaming = new Set<NodeJS.Timeout>();
    upstreams.legacy.behave((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part');
      const timer = setInterval(() => res.write('and more'), 10);
      streaming.add(timer);
      res.on('close', () => clearInterval(timer));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const { port } = new URL(proxy.urls.sync!);
        const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
        socket.once('data', () => {
          socket.destroy();
          resolve();
        });
        socket.on('error', reject);
      });
      const text = await eventually(async () => {
        const metrics = await proxy.metrics.registry.metrics();
        return /cutover_proxy_client_aborts_total\{service="sync"\} [1-9]/.test(metrics) ? metrics : undefined;
      });
      expect(text).not.toMatch(/cutover_proxy_upstream_errors_total\{[^}]*role="serving"[^}]*\}/);
    } finally {
      for (const timer of streaming) clearInterval(timer);
      upstreams.legacy.restore();
    }
  });
});
