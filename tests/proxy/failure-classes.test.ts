/**
 * The failure taxonomy's body classes, produced by the proxy in the situations they name, with
 * real upstreams on ephemeral ports: an answer that stalls after its headers is a timeout in the
 * body (not before the headers), on the shadow copy and on the serving answer, on both serving
 * paths (the fast lane and node:http); an answer longer than the capture bound is counted as body
 * over the bound, never as the side erring. Each as stored, as the gate and report read it, and in
 * the proxy's metrics.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyFailure, failureClasses } from '../../gate/failure-taxonomy.js';
import { routeEvidence } from '../../gate/route-evidence.js';
import type { Observation } from '../../proxy/observe/observation.js';
import { buildReport } from '../../src/report/report.js';
import { answerJson, call, eventually, resetSeenAndFlags, startTestProxy, startUpstreams, stopTestProxy, testCatalogue, type ProxyUnderTest, type Upstreams } from './harness.js';

/** Headers and the start of a body, then nothing: the connection stays open, silent. */
function stallInBody(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '64' });
  res.write('{"ok": tr');
}

async function observed(subject: ProxyUnderTest, count = 1): Promise<Observation[]> {
  return eventually(async () => {
    const list = await subject.store.list({ routeId: 'sync.health' });
    return list.length >= count ? list : undefined;
  });
}

const classOf = (side: Observation['serving']) => classifyFailure(side);

async function failureMetric(subject: ProxyUnderTest, side: string, code: string): Promise<number> {
  const text = await subject.proxy.metrics.registry.metrics();
  const match = new RegExp(`cutover_proxy_failures_total\\{route="sync\\.health",side="${side}",class="${code}"\\} (\\d+)`).exec(text);
  return match ? Number(match[1]) : 0;
}

describe.each([
  { lane: 'the fast lane', fastLane: true },
  { lane: 'node:http', fastLane: false },
])('failure classes of answers cut in the body, serving on $lane', ({ fastLane }) => {
  let upstreams: Upstreams;
  let subject: ProxyUnderTest;

  beforeAll(async () => {
    upstreams = await startUpstreams();
    // Shadow copies get 3 s, serving answers 2 s of silence: the stalls below wait them out, and an
    // answer that does come (headers, or a whole body over the bound) must come well inside them
    // even on a loaded machine, or a timeout would stand in for the class the test names.
    subject = await startTestProxy(upstreams, { proxy: { fastLane, upstreamTimeoutMs: 2000, shadow: { timeoutMs: 3000, maxCompareBodyBytes: 1024 } } });
  });
  afterAll(() => stopTestProxy(subject, upstreams));
  beforeEach(async () => {
    resetSeenAndFlags(subject, upstreams);
    // Retention drops whole days: a bound two days ahead empties the store.
    await subject.store.prune(new Date(Date.now() + 2 * 86_400_000));
    upstreams.legacy.restore();
    upstreams.reimpl.restore();
    subject.flags.set('sync.health', 'shadow');
  });

  it('calls a shadow copy that stalls after its headers a timeout in the body, with the status it had', async () => {
    upstreams.reimpl.behave((_req, res) => stallInBody(res));
    const before = await failureMetric(subject, 'reimpl', failureClasses['timeout-body'].code);
    const answer = await call(`${subject.url}/health`);
    expect(answer.status).toBe(200);
    const [observation] = await observed(subject);
    expect(observation!.shadow).toMatchObject({ side: 'reimpl', status: 200, error: 'CUTOVER_ERR_SHADOW_TIMEOUT' });
    expect(classOf(observation!.shadow)).toBe('timeout-body');
    expect(await failureMetric(subject, 'reimpl', 'CUTOVER_FAIL_TIMEOUT_BODY')).toBe(before + 1);
    const report = buildReport({ observations: [observation!], routes: testCatalogue.routes });
    expect(report.routes[0]!.failures.reimpl).toEqual({ CUTOVER_FAIL_TIMEOUT_BODY: 1 });
  });

  it('still calls a shadow copy that never sends its headers a timeout before the headers', async () => {
    upstreams.reimpl.behave(() => undefined);
    await call(`${subject.url}/health`);
    const [observation] = await observed(subject);
    expect(observation!.shadow).toMatchObject({ status: null, error: 'CUTOVER_ERR_SHADOW_TIMEOUT' });
    expect(classOf(observation!.shadow)).toBe('timeout-headers');
  });

  it('calls a serving answer that stalls after its headers a timeout in the body, and cuts the client rather than pass a half answer as whole', async () => {
    upstreams.legacy.behave((_req, res) => stallInBody(res));
    const before = await failureMetric(subject, 'legacy', failureClasses['timeout-body'].code);
    await expect(call(`${subject.url}/health`)).rejects.toThrow();
    const [observation] = await observed(subject);
    expect(observation!.serving).toMatchObject({ side: 'legacy', status: 200, error: 'CUTOVER_ERR_UPSTREAM_TIMEOUT' });
    expect(classOf(observation!.serving)).toBe('timeout-body');
    expect(await failureMetric(subject, 'legacy', 'CUTOVER_FAIL_TIMEOUT_BODY')).toBe(before + 1);
  });

  it('counts an answer over the capture bound as body over the bound: ignored by the size rule, never the side erring', async () => {
    upstreams.reimpl.behave((_req, res) => answerJson(res, 200, { ok: true, padding: 'x'.repeat(4096) }));
    upstreams.legacy.behave((_req, res) => answerJson(res, 200, { ok: true }));
    const before = await failureMetric(subject, 'reimpl', failureClasses['body-over-bound'].code);
    const answer = await call(`${subject.url}/health`);
    expect(JSON.parse(answer.body.toString('utf8'))).toEqual({ ok: true });
    const [observation] = await observed(subject);
    expect(observation!.shadow).toMatchObject({ side: 'reimpl', status: 200, error: 'CUTOVER_FAIL_BODY_OVER_BOUND' });
    expect(observation!.verdict).toBe('ignored');
    expect(observation!.ignoredBy).toEqual(['compare.max-body']);
    expect(classOf(observation!.shadow)).toBe('body-over-bound');
    expect(await failureMetric(subject, 'reimpl', 'CUTOVER_FAIL_BODY_OVER_BOUND')).toBe(before + 1);
    // The gate counts the class, but not as the side's error: the side answered, the bound is the harness's.
    const evidence = routeEvidence('sync.health', (await subject.store.tallies({ routeIds: ['sync.health'] })).routes, { since: null, now: new Date() }, 1);
    expect(evidence.sides.reimpl).toEqual({ trials: 1, errors: 0, failures: { 'body-over-bound': 1 } });
    const report = buildReport({ observations: [observation!], routes: testCatalogue.routes });
    expect(report.routes[0]!.failures.reimpl).toEqual({ CUTOVER_FAIL_BODY_OVER_BOUND: 1 });
  });
});
