import { Gauge, Registry } from 'prom-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminServer, type AdminServer } from '../../flags/admin-server.js';
import { createFakeFlagStore, type FakeFlagStore } from '../../flags/fake-flag-store.js';
import { loadConfig } from '../../src/config/load.js';
import { contractCatalogue } from './flag-store.contract.js';

const token = 'admin-token-for-tests-0123456789';
const anaToken = 'ana-admin-token-for-tests-0123456789';

describe('the admin API', () => {
  let admin: AdminServer;
  let store: FakeFlagStore;
  let base: string;
  const call = (method: string, path: string, body?: unknown, bearer: string | null = token) =>
    fetch(`${base}${path}`, {
      method,
      headers: { ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    store = createFakeFlagStore({ catalogue: contractCatalogue });
    const registry = new Registry();
    new Gauge({ name: 'cutover_test_gauge', help: 'a metric the proxy would register', registers: [registry] }).set(7);
    const config = loadConfig({ overrides: { proxy: { admin: { host: '127.0.0.1', port: 0 }, adminToken: token, adminTokens: { ana: anaToken } } } });
    admin = createAdminServer({ config, flagStore: store, flagSource: store.source(), metricsRegistry: registry, catalogue: contractCatalogue, health: () => ({ proxy: 'up' }) });
    base = (await admin.listen()).url;
  });
  afterAll(() => admin?.close());

  it('answers 401 without a token, with a wrong one and with one of another length', async () => {
    for (const bearer of [null, 'admin-token-for-tests-0123456780', 'short', '']) {
      const response = await call('GET', '/flags', undefined, bearer);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'CUTOVER_ERR_ADMIN_UNAUTHORIZED' });
    }
    const basic = await fetch(`${base}/flags`, { headers: { authorization: `Basic ${token}` } });
    expect(basic.status).toBe(401);
    expect((await call('PUT', '/kill-switch', { engaged: true, reason: 'x' }, 'wrong')).status).toBe(401);
    expect((await store.snapshot()).killSwitch).toBe(false);
  });

  it('sets a glob through PUT /flags/:pattern and reads it back', async () => {
    const response = await call('PUT', '/flags/sync.gis-export.*', { mode: 'canary', percent: 20, reason: 'canary the export' }, anaToken);
    expect(response.status).toBe(200);
    const { changed } = (await response.json()) as { changed: Array<{ routeId: string; percent: number }> };
    expect(changed.map((flag) => flag.routeId)).toContain('sync.gis-export.run');
    const one = await (await call('GET', '/flags/sync.gis-export.run')).json();
    expect(one).toMatchObject({ routeId: 'sync.gis-export.run', mode: 'canary', percent: 20, owner: 'team-gis', updatedBy: 'ana' });
    const all = (await (await call('GET', '/flags')).json()) as { killSwitch: boolean; flagSource: string; routes: Array<{ routeId: string; mode: string }> };
    expect(all.flagSource).toBe('live');
    expect(all.routes).toHaveLength(contractCatalogue.routes.length);
    expect(all.routes.find((row) => row.routeId === 'sync.health')?.mode).toBe('legacy');
  });

  it('records API changes in the history as the name of the token that made them', async () => {
    await call('PUT', '/flags/narrator.summarize', { mode: 'shadow', reason: 'compare the narrator' });
    const { entries } = (await (await call('GET', '/history?route=narrator.summarize')).json()) as { entries: Array<Record<string, unknown>> };
    expect(entries).toMatchObject([{ routeId: 'narrator.summarize', from: 'legacy', to: 'shadow', reason: 'compare the narrator', actor: 'admin' }]);
    await call('PUT', '/kill-switch', { engaged: true, reason: 'ana tries the switch' }, anaToken);
    await call('PUT', '/kill-switch', { engaged: false, reason: 'ana releases it' }, anaToken);
    const switched = (await (await call('GET', '/history?route=*&limit=2')).json()) as { entries: Array<{ actor: string; reason: string }> };
    expect(switched.entries.map(({ actor, reason }) => ({ actor, reason }))).toEqual([
      { actor: 'ana', reason: 'ana releases it' },
      { actor: 'ana', reason: 'ana tries the switch' },
    ]);
    const limited = (await (await call('GET', '/history?limit=1')).json()) as { entries: unknown[] };
    expect(limited.entries).toHaveLength(1);
  });

  it('refuses a body that names its own actor, and changes nothing', async () => {
    const before = (await store.history({ limit: 10_000 })).length;
    for (const [path, body] of [
      ['/flags/sync.health', { mode: 'shadow', reason: 'forged', actor: 'someone-else' }],
      ['/kill-switch', { engaged: true, reason: 'forged', actor: 'someone-else' }],
    ] as const) {
      const response = await call('PUT', path, body, anaToken);
      expect({ path, status: response.status, body: await response.json() }).toMatchObject({ path, status: 400, body: { error: 'CUTOVER_ERR_FLAG_INVALID' } });
    }
    expect((await store.history({ limit: 10_000 })).length).toBe(before);
    expect((await store.snapshot()).killSwitch).toBe(false);
  });

  it('engages and releases the kill switch', async () => {
    expect(await (await call('PUT', '/kill-switch', { engaged: true, reason: 'parity collapsed' })).json()).toEqual({ engaged: true, changed: true });
    expect(await (await call('GET', '/kill-switch')).json()).toEqual({ engaged: true });
    expect(store.source().current().killSwitch).toBe(true);
    expect(await (await call('PUT', '/kill-switch', { engaged: false, reason: 'fixed' })).json()).toEqual({ engaged: false, changed: true });
  });

  it('refuses a change without a reason, a bad mode or percent and an unknown route with named errors', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['PUT', '/flags/sync.health', { mode: 'shadow' }, 400, 'CUTOVER_ERR_FLAG_REASON_REQUIRED'],
      ['PUT', '/kill-switch', { engaged: true, reason: '  ' }, 400, 'CUTOVER_ERR_FLAG_REASON_REQUIRED'],
      ['PUT', '/flags/sync.health', { mode: 'sideways', reason: 'x' }, 400, 'CUTOVER_ERR_FLAG_INVALID'],
      ['PUT', '/flags/sync.health', { mode: 'canary', percent: 150, reason: 'x' }, 400, 'CUTOVER_ERR_FLAG_INVALID'],
      ['PUT', '/flags/sync.nothing', { mode: 'shadow', reason: 'x' }, 404, 'CUTOVER_ERR_FLAG_ROUTE_UNKNOWN'],
      ['GET', '/flags/sync.nothing', undefined, 404, 'CUTOVER_ERR_FLAG_ROUTE_UNKNOWN'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const response = await call(method, path, body);
      expect({ path, status: response.status, body: await response.json() }).toMatchObject({ path, status, body: { error: code } });
    }
  });

  it('serves health with the flag store state and the metrics registry without a token', async () => {
    const health = await call('GET', '/health', undefined, null);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', flagStore: { state: 'live' }, proxy: 'up' });
    const metrics = await call('GET', '/metrics', undefined, null);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('cutover_test_gauge 7');
  });

  it('generates a token when the config has none', () => {
    const config = loadConfig({ overrides: { proxy: { admin: { port: 0 }, adminToken: '' } } });
    const other = createAdminServer({ config, flagStore: store, flagSource: store.source(), metricsRegistry: new Registry(), catalogue: contractCatalogue });
    expect(other.generatedToken).toBe(true);
    expect(other.adminToken.length).toBeGreaterThanOrEqual(32);
  });
});

describe('wrong admin tokens, counted per client address', () => {
  const guesses = 3;
  const servers: AdminServer[] = [];
  // Another loopback address of this host: its own count, as another client's would be.
  const elsewhere = new Agent({ localAddress: '127.0.0.2' });
  const started = async (windowMs: number) => {
    const registry = new Registry();
    const config = loadConfig({ overrides: { proxy: { admin: { host: '0.0.0.0', port: 0 }, adminToken: token, adminCredentialFailures: { max: guesses, windowMs } } } });
    const admin = createAdminServer({ config, flagStore: createFakeFlagStore({ catalogue: contractCatalogue }), flagSource: createFakeFlagStore({ catalogue: contractCatalogue }).source(), metricsRegistry: registry, catalogue: contractCatalogue });
    servers.push(admin);
    const base = `http://127.0.0.1:${(await admin.listen()).port}`;
    return {
      flags: (bearer: string, dispatcher?: Agent) => undiciFetch(`${base}/flags`, { headers: { authorization: `Bearer ${bearer}` }, dispatcher }),
      signIn: (candidate: string) => fetch(`${base}/console/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ token: candidate }) }),
      refusals: async (reason: string) => {
        const match = new RegExp(`cutover_admin_credentials_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(await registry.metrics());
        return match ? Number(match[1]) : 0;
      },
    };
  };
  // A window far longer than any test takes, so no failure leaves it while a test looks.
  let limited: Awaited<ReturnType<typeof started>>;

  beforeAll(async () => {
    limited = await started(600_000);
  });
  afterAll(async () => {
    await Promise.all(servers.map((admin) => admin.close()));
    await elsewhere.close();
  });

  it('refuses an address with 429 and Retry-After once it guessed wrong too often, the right token included, on the API and at sign-in', async () => {
    for (let guess = 0; guess < guesses - 1; guess++) expect((await limited.flags(`guess-${guess}-0123456789012345678901234567`)).status).toBe(401);
    expect((await limited.signIn('a-wrong-sign-in-token-0123456789012')).status).toBe(401);
    const refused = await limited.flags(token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ error: 'CUTOVER_ERR_ADMIN_RATE_LIMITED' });
    const signInRefused = await limited.signIn(token);
    expect(signInRefused.status).toBe(429);
    expect(signInRefused.headers.get('set-cookie')).toBeNull();
    expect(await limited.refusals('wrong')).toBe(guesses);
    expect(await limited.refusals('rate-limited')).toBe(2);
  });

  it('keeps counting other addresses on their own', async () => {
    expect((await limited.flags(token)).status).toBe(429);
    expect((await limited.flags(token, elsewhere)).status).toBe(200);
  });

  it('lets the address in again once the Retry-After it was given has passed', async () => {
    const brief = await started(1_000);
    // Guess until refused: on a slow machine an early guess may leave the 1 s window before the last one lands.
    let refused: Awaited<ReturnType<typeof brief.flags>> | undefined;
    for (let guess = 0; guess < 50 && refused === undefined; guess++) {
      const answer = await brief.flags(`guess-${guess}-0123456789012345678901234567`);
      if (answer.status === 429) refused = answer;
      else expect(answer.status).toBe(401);
    }
    expect(refused?.status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, Number(refused!.headers.get('retry-after')) * 1000 + 100));
    expect((await brief.flags(token)).status).toBe(200);
  });
});
