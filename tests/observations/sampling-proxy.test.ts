/** A sampled route through a real proxy to real upstreams: the copies sent are exactly the requests whose ids sample in, the rest counted in the metric and the store. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRouteCatalogue } from '../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { sampledIn } from '../../proxy/serving/sampling.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { answerJson, call, configFor, eventually, ManualFlags, startUpstreams, type Upstreams } from '../proxy/harness.js';

const catalogue = parseRouteCatalogue({
  version: 1,
  routes: [{ id: 'sync.health', service: 'sync', method: 'GET', path: '/health', owner: 'tests', writes: false, sample: 0.25, compare: { ignore: [], headers: [] } }],
});
let upstreams: Upstreams;
let proxy: RunningProxy;
const store = new FakeObservationStore();

beforeAll(async () => {
  upstreams = await startUpstreams();
  for (const side of [upstreams.legacy, upstreams.reimpl]) side.behave((_req, res) => answerJson(res, 200, { ok: true }));
  const flags = new ManualFlags();
  flags.set('sync.health', 'shadow');
  proxy = await startProxy({ config: configFor(upstreams), catalogue, flagSource: flags, observationStore: store, services: ['sync'], random: () => 0 });
});
afterAll(async () => {
  await proxy.close();
  await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
});

describe('a route sampled at 0.25 behind the proxy', () => {
  it('serves every request, shadows those whose request id samples in, and counts the others', async () => {
    const ids = Array.from({ length: 200 }, (_, index) => `sampling-${index}`);
    for (let at = 0; at < ids.length; at += 20) {
      const answers = await Promise.all(ids.slice(at, at + 20).map((id) => call(`${proxy.urls.sync}/health`, { headers: { 'x-request-id': id } })));
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
    }
    const expected = ids.filter((id) => sampledIn(catalogue.routes[0]!, id)).length;
    expect(expected).toBeGreaterThan(20);
    expect(expected).toBeLessThan(80);
    const tallied = await eventually(async () => {
      const [route] = (await store.tallies()).routes;
      return route && route.observations === expected && route.sampledOut === ids.length - expected ? route : undefined;
    });
    expect(tallied.matched).toBe(expected);
    const metric = await proxy.metrics.registry.getSingleMetricAsString('cutover_proxy_shadow_sampled_out_total');
    expect(metric).toContain(`cutover_proxy_shadow_sampled_out_total{route="sync.health"} ${ids.length - expected}`);
    expect(upstreams.reimpl.seen.length).toBe(expected);
  });
});
