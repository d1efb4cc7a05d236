/**
 * The web console over HTTP, against the admin server on a real PostgreSQL: the page and its
 * assets served locally, sign-in into a signed httpOnly SameSite=Strict cookie that never holds
 * the token, 401 without a session, 403 for a change without the session's CSRF token or from
 * another origin, and the console's views and actions through the admin API's own code paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionKeys } from '../../flags/admin-session.js';
import { runGate } from '../../gate/gate.js';
import { percentile } from '../../gate/statistics/percentile.js';
import { loadConfig } from '../../src/config/load.js';
import { adminToken, anaToken, openEventStream, shadowObservation, startConsoleServer, type ConsoleServer } from './console-server.js';

let server: ConsoleServer;
let origin: string;

beforeAll(async () => {
  server = await startConsoleServer('console_http');
  origin = server.url;
});
afterAll(() => server?.close());

interface Signed {
  cookie: string;
  csrf: string;
  setCookie: string;
  body: string;
}

async function signIn(token: string): Promise<Signed> {
  const response = await fetch(`${origin}/console/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ token }) });
  expect(response.status).toBe(200);
  const setCookie = response.headers.get('set-cookie') ?? '';
  const body = await response.text();
  return { cookie: setCookie.split(';')[0]!, csrf: (JSON.parse(body) as { csrf: string }).csrf, setCookie, body };
}

function withSession(signed: Signed, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(`${origin}${path}`, {
    method,
    headers: { cookie: signed.cookie, origin, 'x-cutover-csrf': signed.csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('the console page', () => {
  it('is served at / with its script and stylesheet, needing no sign-in and nothing from another host', async () => {
    const page = await fetch(`${origin}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('src="/console/assets/app.js"');
    const script = await fetch(`${origin}/console/assets/app.js`);
    const css = await fetch(`${origin}/console/assets/console.css`);
    expect([script.status, css.status]).toEqual([200, 200]);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    const code = await script.text();
    expect(code).toContain('/console/sign-in');
    // Every asset is this server's own: no absolute URL to anywhere in the page, script or style.
    for (const text of [html, code, await css.text()]) expect(text).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
  });
});

describe('console sign-in', () => {
  it('refuses a wrong token with CUTOVER_ERR_CONSOLE_SIGN_IN_FAILED and sets no cookie', async () => {
    const response = await fetch(`${origin}/console/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ token: `${anaToken}x` }) });
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
    const body = await response.text();
    expect(JSON.parse(body)).toMatchObject({ error: 'CUTOVER_ERR_CONSOLE_SIGN_IN_FAILED' });
    expect(body).not.toContain(anaToken);
  });

  it('refuses a sign-in posted from another origin', async () => {
    const response = await fetch(`${origin}/console/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: JSON.stringify({ token: anaToken }) });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: 'CUTOVER_ERR_CSRF_REJECTED' });
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('gives an httpOnly, SameSite=Strict, expiring cookie naming the actor, never the token', async () => {
    const signed = await signIn(anaToken);
    const attributes = signed.setCookie.split(';').map((part) => part.trim());
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
    expect(attributes.find((part) => part.startsWith('Max-Age='))).toBe(`Max-Age=${8 * 3600}`);
    expect(signed.setCookie).not.toContain(anaToken);
    expect(signed.body).not.toContain(anaToken);
    expect(JSON.parse(signed.body)).toMatchObject({ actor: 'ana', csrf: expect.any(String), expiresAt: expect.any(String) });
    const session = await withSession(signed, 'GET', '/console/session');
    expect(await session.json()).toMatchObject({ actor: 'ana', csrf: signed.csrf });
  });

  it('answers 401 on the API without a cookie, with a forged one and with one signed for another actor', async () => {
    const signed = await signIn(anaToken);
    const [payloadVersion, , expires, nonce, mac] = signed.cookie.split('=')[1]!.split('.');
    const asAdmin = `cutover_console=${payloadVersion}.${Buffer.from('admin').toString('base64url')}.${expires}.${nonce}.${mac}`;
    for (const cookie of [undefined, 'cutover_console=v1.garbage', asAdmin, `${signed.cookie.slice(0, -2)}xx`]) {
      const response = await fetch(`${origin}/routes`, { headers: cookie === undefined ? {} : { cookie } });
      expect({ cookie, status: response.status }).toEqual({ cookie, status: 401 });
      expect(await response.json()).toMatchObject({ error: 'CUTOVER_ERR_ADMIN_UNAUTHORIZED' });
    }
  });

  it('refuses a cookie past its expiry, and one of a token since rotated', () => {
    const keys = createSessionKeys('a session secret of 32 characters!', { ana: anaToken }, 60_000);
    const { cookieValue } = keys.open('ana', 1_000_000);
    expect(keys.verify(cookieValue, 1_000_000 + 59_000)).toMatchObject({ actor: 'ana' });
    expect(keys.verify(cookieValue, 1_000_000 + 60_000)).toBeUndefined();
    const rotated = createSessionKeys('a session secret of 32 characters!', { ana: `${anaToken}-rotated` }, 60_000);
    expect(rotated.verify(cookieValue, 1_000_000)).toBeUndefined();
    const otherSecret = createSessionKeys('another secret of 32 characters!!', { ana: anaToken }, 60_000);
    expect(otherSecret.verify(cookieValue, 1_000_000)).toBeUndefined();
  });

  it('signs out by clearing the cookie', async () => {
    const signed = await signIn(anaToken);
    const response = await withSession(signed, 'DELETE', '/console/session');
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toMatch(/^cutover_console=; .*Max-Age=0/);
  });
});

describe('console changes', () => {
  it('refuse a change without the CSRF token, with another session\'s, from another origin or without one, and change nothing', async () => {
    const signed = await signIn(anaToken);
    const other = await signIn(anaToken);
    const before = await server.flagStore.history({ limit: 1000 });
    const change = { mode: 'shadow', reason: 'csrf probe' };
    const attempts = [
      withSession(signed, 'PUT', '/flags/sync.health', change, { 'x-cutover-csrf': '' }),
      withSession(signed, 'PUT', '/flags/sync.health', change, { 'x-cutover-csrf': other.csrf }),
      withSession(signed, 'PUT', '/flags/sync.health', change, { origin: 'http://evil.example' }),
      withSession(signed, 'PUT', '/flags/sync.health', change, { origin: 'null' }),
      fetch(`${origin}/flags/sync.health`, { method: 'PUT', headers: { cookie: signed.cookie, 'x-cutover-csrf': signed.csrf, 'content-type': 'application/json' }, body: JSON.stringify(change) }),
      withSession(signed, 'PUT', '/kill-switch', { engaged: true, reason: 'csrf probe' }, { 'x-cutover-csrf': 'forged' }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: 'CUTOVER_ERR_CSRF_REJECTED' });
    }
    expect(await server.flagStore.history({ limit: 1000 })).toEqual(before);
  });

  it('go through PUT /flags with the session and its CSRF token, recorded as the token\'s name', async () => {
    const signed = await signIn(anaToken);
    const response = await withSession(signed, 'PUT', '/flags/sync.health', { mode: 'shadow', reason: 'shadow it from the console' });
    expect(response.status).toBe(200);
    const [entry] = await server.flagStore.history({ routeId: 'sync.health', limit: 1 });
    expect(entry).toMatchObject({ actor: 'ana', from: 'legacy', to: 'shadow', reason: 'shadow it from the console' });
  });

  it('put a promotion to the readiness gate: refused with the failed criteria, forced with a reason that is audited', async () => {
    const signed = await signIn(anaToken);
    const refused = await withSession(signed, 'PUT', '/flags/sync.counties.list', { mode: 'canary', percent: 10, reason: 'try a canary' });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: 'CUTOVER_ERR_GATE_NOT_PASSED', message: expect.stringContaining('evidence.compared') });
    const forced = await withSession(signed, 'PUT', '/flags/sync.counties.list', { mode: 'canary', percent: 10, reason: 'incident drill', force: true });
    expect(await forced.json()).toMatchObject({ forced: [{ routeId: 'sync.counties.list', verdict: 'INSUFFICIENT_EVIDENCE' }] });
    const [entry] = await server.flagStore.history({ routeId: 'sync.counties.list', limit: 1 });
    expect(entry!.reason).toMatch(/^FORCED past the readiness gate .*: incident drill$/);
  });

  it('still take a bearer token without a CSRF token (scripts and the CLI)', async () => {
    const response = await fetch(`${origin}/flags/sync.metrics`, { method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'shadow', reason: 'by script' }) });
    expect(response.status).toBe(200);
  });

  it('pause, resume and abort a rollout through rollout-service, the abort audited as the signed-in actor', async () => {
    const signed = await signIn(anaToken);
    await server.flagStore.set({ pattern: 'sync.counties.get', mode: 'canary', percent: 5, actor: 'test', reason: 'rollout under test' });
    await server.rollouts.create({ routeId: 'sync.counties.get', steps: [5, 50, 100], stepDurationMs: 600_000, checks: 3, reason: 'roll it', actor: 'test', startedAt: new Date() });
    const paused = await withSession(signed, 'POST', '/rollouts/sync.counties.get/pause', {});
    expect(await paused.json()).toMatchObject({ rollouts: [{ routeId: 'sync.counties.get', state: 'paused' }] });
    const resumed = await withSession(signed, 'POST', '/rollouts/sync.counties.get/resume', {});
    expect(await resumed.json()).toMatchObject({ rollouts: [{ state: 'running' }] });
    const noReason = await withSession(signed, 'POST', '/rollouts/sync.counties.get/abort', {});
    expect(noReason.status).toBe(400);
    expect(await noReason.json()).toMatchObject({ error: 'CUTOVER_ERR_FLAG_REASON_REQUIRED' });
    const aborted = await withSession(signed, 'POST', '/rollouts/sync.counties.get/abort', { reason: 'budget looks bad' });
    expect(await aborted.json()).toMatchObject({ rollouts: [{ state: 'aborted' }] });
    const [entry] = await server.flagStore.history({ routeId: 'sync.counties.get', limit: 1 });
    expect(entry).toMatchObject({ actor: 'ana', to: 'shadow', reason: 'rollout aborted: budget looks bad' });
    const listed = await withSession(signed, 'GET', '/rollouts?route=sync.counties.get');
    expect(await listed.json()).toMatchObject({ rollouts: [{ state: 'aborted' }] });
  });

  it('start a rollout as the signed-in actor: refused by the gate without evidence, started when forced with a reason, at the config defaults where the form left fields out', async () => {
    const signed = await signIn(anaToken);
    const routeId = 'sync.sync-sources.list';
    const refused = await withSession(signed, 'POST', `/rollouts/${routeId}/start`, { reason: 'roll it from the console' });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: 'CUTOVER_ERR_GATE_NOT_PASSED' });
    expect(await server.rollouts.list(routeId)).toEqual([]);
    const forged = await withSession(signed, 'POST', `/rollouts/${routeId}/start`, { reason: 'x', actor: 'someone-else', force: true });
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ error: 'CUTOVER_ERR_ROLLOUT_INVALID' });
    const noReason = await withSession(signed, 'POST', `/rollouts/${routeId}/start`, { reason: ' ', force: true });
    expect(await noReason.json()).toMatchObject({ error: 'CUTOVER_ERR_FLAG_REASON_REQUIRED' });
    const badSteps = await withSession(signed, 'POST', `/rollouts/${routeId}/start`, { reason: 'drill', steps: [50, 10], force: true });
    expect(await badSteps.json()).toMatchObject({ error: 'CUTOVER_ERR_ROLLOUT_INVALID' });
    const started = await withSession(signed, 'POST', `/rollouts/${routeId}/start`, { reason: 'incident drill', steps: [10, 100], force: true });
    expect(started.status).toBe(200);
    const defaults = loadConfig().rollout;
    expect(await started.json()).toMatchObject({
      started: [{ routeId, state: 'running', steps: [10, 100], stepDurationMs: defaults.stepDurationMs, checks: defaults.checks, actor: 'ana', reason: 'incident drill' }],
      forced: [{ routeId }],
    });
    const flag = (await server.flagStore.snapshot()).flags.get(routeId);
    expect(flag).toMatchObject({ mode: 'canary', percent: 10 });
    const [entry] = await server.flagStore.history({ routeId, limit: 1 });
    expect(entry).toMatchObject({ actor: 'ana', to: 'canary:10' });
    expect(entry!.reason).toMatch(/^FORCED past the readiness gate .*rollout start \(steps 10,100\): incident drill$/);
    const again = await withSession(signed, 'POST', `/rollouts/${routeId}/start`, { reason: 'twice', force: true });
    expect(await again.json()).toMatchObject({ error: 'CUTOVER_ERR_ROLLOUT_INVALID' });
    const listed = await withSession(signed, 'GET', `/rollouts?route=${routeId}`);
    expect(await listed.json()).toMatchObject({ rollouts: [{ routeId, state: 'running' }], defaults: { steps: defaults.steps } });
  });
});

describe('console views', () => {
  it('give each route the gate\'s verdict, parity with its Wilson bound, evidence, both sides\' latency, errors and drops', async () => {
    const signed = await signIn(anaToken);
    await server.observations.append([
      ...Array.from({ length: 9 }, (_, index) => shadowObservation('sync.properties.list', { legacyMs: 10 + index, reimplMs: 5 + index })),
      shadowObservation('sync.properties.list', { mismatch: true }),
    ]);
    server.drops.labels('sync.properties.list', 'route_budget').inc(3);
    const overview = (await (await withSession(signed, 'GET', '/routes')).json()) as { routes: Array<Record<string, unknown> & { routeId: string; parity: { lowerBound: number } }> };
    expect(overview.routes).toHaveLength(server.catalogue.routes.length);
    const row = overview.routes.find((entry) => entry.routeId === 'sync.properties.list');
    // The verdict and the bound are the gate's own, not a second computation of them.
    const config = loadConfig();
    const gate = await runGate({ observations: server.observations, catalogue: server.catalogue, thresholds: config.gate.thresholds }, { route: 'sync.properties.list', since: new Date(Date.now() - config.gate.windowHours * 3_600_000) });
    const judged = gate.routes[0]!;
    const legacySamples = [...Array.from({ length: 9 }, (_, index) => 10 + index), 12].sort((a, b) => a - b);
    expect(row).toMatchObject({
      owner: 'team-sync',
      mode: 'legacy',
      verdict: judged.verdict,
      failed: judged.failed,
      parity: { matched: 9, compared: 10, estimate: 0.9, lowerBound: judged.criteria.find((criterion) => criterion.id === 'parity.lower-bound')!.value },
      samples: { compared: 10, needed: config.gate.thresholds.minCompared },
      latencyMs: { legacy: { count: 10, p50: percentile(legacySamples, 50), p99: percentile(legacySamples, 99) }, reimpl: { count: 10 } },
      errors: { legacy: { errors: 0, trials: 10 }, reimpl: { errors: 0, trials: 10 }, errored: 0 },
      shadowDrops: 3,
    });
    expect(judged.verdict).toBe('NOT_READY');
    const bound = row!.parity.lowerBound;
    expect(bound).toBeGreaterThan(0.5);
    expect(bound).toBeLessThan(0.9);
  });

  it('show a route\'s mismatches with legacy\'s value beside the reimplementation\'s, its charts, rules and noise', async () => {
    const signed = await signIn(anaToken);
    const detail = (await (await withSession(signed, 'GET', '/routes/sync.properties.list')).json()) as Record<string, unknown> & { charts: Record<string, string>; mismatches: unknown[] };
    expect(detail.mismatches).toMatchObject([{ differences: [{ path: '$.count', legacy: '41', reimpl: '42', disposition: 'mismatch' }], bodies: { legacy: '{"status":"ok","count":41}', reimpl: '{"status":"ok","count":42}' } }]);
    expect(detail.charts.latencyLegacy).toMatch(/^<svg /);
    expect(detail.charts.latencyLegacy).toContain('data-kind="latency-legacy"');
    expect(detail).toMatchObject({ verdict: { routeId: 'sync.properties.list' }, rules: { writes: false, compare: { ignore: expect.any(Array) } }, noise: { learned: null } });
    const unknown = await withSession(signed, 'GET', '/routes/sync.no-such-route');
    expect(unknown.status).toBe(404);
  });

  it('stream a flag change made in the store, and a rollout changed elsewhere, to an open event stream', { timeout: 60_000 }, async () => {
    const signed = await signIn(anaToken);
    const stream = await openEventStream(origin, signed.cookie);
    expect(stream.contentType).toContain('text/event-stream');
    await stream.seen('event: flags');
    await server.flagStore.set({ pattern: 'narrator.summarize', mode: 'shadow', actor: 'cli-user', reason: 'changed elsewhere' });
    await stream.seen('"routeId":"narrator.summarize","mode":"shadow"');
    // A rollout paused elsewhere (the CLI, another instance) raises no NOTIFY: the console reads the rollouts itself.
    const rollout = await server.rollouts.create({ routeId: 'narrator.summarize', steps: [10, 100], stepDurationMs: 600_000, checks: 2, reason: 'stream test', actor: 'cli-user', startedAt: new Date() });
    await stream.seen('"routeId":"narrator.summarize","state":"running"');
    await server.rollouts.update(rollout.id, { state: 'paused' }, new Date());
    await stream.seen('"routeId":"narrator.summarize","state":"paused"');
    await stream.close();
    const refused = await fetch(`${origin}/events`);
    expect(refused.status).toBe(401);
  });
});
