/**
 * The one request pipeline (proxy/pipeline/): both transports, the fast lane and node:http,
 * run the same steps, so what is decided, counted, tapped and logged of a request does not
 * depend on which of them moved its bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Route } from '../../flags/route-catalogue.js';
import type { RequestLogEntry } from '../../proxy/observe/request-log.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import type { RecordingTap, TappedExchange } from '../../proxy/pipeline/serving-call.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { call, configFor, eventually, ManualFlags, rawRequest, startUpstreams, testCatalogue, type Upstreams } from './harness.js';

/** A recording tap that wants one route and keeps what it is handed. */
class KeepingTap implements RecordingTap {
  readonly captureLimit = 1024;
  readonly kept: TappedExchange[] = [];
  constructor(private readonly routeId: string) {}
  wants(route: Route): boolean {
    return route.id === this.routeId;
  }
  submit(exchange: TappedExchange): void {
    this.kept.push(exchange);
  }
}

describe.each([
  { transport: 'the fast lane', fastLane: true },
  { transport: 'node:http', fastLane: false },
])('the request pipeline behind $transport', ({ fastLane }) => {
  let upstreams: Upstreams;
  let proxy: RunningProxy;
  const flags = new ManualFlags();
  const tap = new KeepingTap('sync.echo');
  const logged: RequestLogEntry[] = [];

  beforeAll(async () => {
    upstreams = await startUpstreams();
    proxy = await startProxy({
      config: configFor(upstreams, { proxy: { fastLane } }),
      catalogue: testCatalogue,
      flagSource: flags,
      observationStore: new FakeObservationStore(),
      services: ['sync'],
      random: () => 0,
      tap,
      requestLog: (entry) => logged.push(entry),
    });
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
  });

  it('hands a tapped exchange to the recording tap: the buffered request and the answer captured as served', async () => {
    const got = await call(`${proxy.urls.sync!}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
    expect(got.status).toBe(200);
    const tapped = await eventually(() => tap.kept.find((exchange) => exchange.path === '/echo'));
    expect(tapped.route.id).toBe('sync.echo');
    expect(tapped.body.toString()).toBe('{"n":1}');
    expect(tapped.answer.status).toBe(200);
    expect(JSON.parse(tapped.answer.body.toString())).toMatchObject({ side: 'legacy', body: '{"n":1}' });
    expect(tapped.headers['content-type']).toBe('application/json');
  });

  it('counts a request that matched no route once, as unknown traffic served by legacy, and logs it', async () => {
    const before = await proxy.metrics.registry.getSingleMetricAsString('cutover_proxy_requests_total');
    const got = await call(`${proxy.urls.sync!}/nowhere?pipeline=1`, { headers: { 'x-request-id': `unknown-${fastLane}` } });
    expect(got.status).toBe(200);
    const entry = await eventually(() => logged.find((logEntry) => logEntry.requestId === `unknown-${fastLane}`));
    expect(entry).toMatchObject({ service: 'sync', route: 'unknown', mode: 'legacy', servedBy: 'legacy', status: 200, path: '/nowhere?pipeline=1' });
    const after = await proxy.metrics.registry.getSingleMetricAsString('cutover_proxy_requests_total');
    expect(countOf(after, 'unknown') - countOf(before, 'unknown')).toBe(1);
  });

  it('counts a request the fast lane hands to node:http (HTTP/1.0) once, not once per transport', async () => {
    const before = countOf(await proxy.metrics.registry.getSingleMetricAsString('cutover_proxy_requests_total'), 'sync.health');
    const answer = await rawRequest(proxy.urls.sync!, 'GET /health HTTP/1.0\r\nHost: proxy\r\nx-request-id: handed-over\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    const after = countOf(await proxy.metrics.registry.getSingleMetricAsString('cutover_proxy_requests_total'), 'sync.health');
    expect(after - before).toBe(1);
    expect(logged.filter((entry) => entry.requestId === 'handed-over')).toHaveLength(1);
  });
});

/** The sum of cutover_proxy_requests_total over one route's series. */
function countOf(exposition: string, routeId: string): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (line.startsWith('cutover_proxy_requests_total{') && line.includes(`route="${routeId}"`)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
