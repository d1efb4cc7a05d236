/**
 * `cutover proxy` in front of services the harness did not start: legacy sync and the
 * reimplemented sync run by their own commands on ephemeral ports, the proxy a real process
 * reading its upstream URLs from CUTOVER_UPSTREAM_* and keeping flags and observations in
 * DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgObservationStore } from '../../proxy/observe/pg-observation-store.js';
import { closedPort } from '../proxy/harness.js';
import { ask, startSideBySide, type SideBySide } from '../reimpl/side-by-side.js';
import { setFlag, startProxyProcess, type ProxyProcess } from './proxy-process.js';

let services: SideBySide;
let proxy: ProxyProcess;
let nowhere: string;
let env: Record<string, string>;

beforeAll(async () => {
  services = await startSideBySide('proxycmd');
  nowhere = `http://127.0.0.1:${await closedPort()}`;
  env = {
    DATABASE_URL: services.databaseUrl,
    CUTOVER_UPSTREAM_LEGACY_SYNC: services.legacyUrl,
    CUTOVER_UPSTREAM_REIMPL_SYNC: services.reimplUrl,
    CUTOVER_UPSTREAM_REIMPL_GIS_EXPORT: services.reimplUrl,
    // Nothing listens for the other services and the shadow instances here: each is named at start.
    ...Object.fromEntries(
      ['LEGACY_GATEWAY', 'LEGACY_NARRATOR', 'REIMPL_GATEWAY', 'REIMPL_NARRATOR', 'SHADOW_LEGACY_SYNC', 'SHADOW_LEGACY_GATEWAY', 'SHADOW_LEGACY_NARRATOR', 'SHADOW_REIMPL_SYNC', 'SHADOW_REIMPL_GIS_EXPORT', 'SHADOW_REIMPL_GATEWAY', 'SHADOW_REIMPL_NARRATOR'].map((name) => [`CUTOVER_UPSTREAM_${name}`, nowhere]),
    ),
  };
  proxy = await startProxyProcess(env);
}, 180_000);

afterAll(async () => {
  proxy?.signal('SIGKILL');
  await proxy?.exited;
  await services?.stop();
}, 60_000);

describe('cutover proxy in front of services it did not start', () => {
  it('serves the legacy sync by its URL from the environment, answering as legacy does', async () => {
    const direct = await ask(`${services.legacyUrl}/counties`);
    const proxied = await ask(`${proxy.doors.sync}/counties`);
    expect(proxied.status).toBe(200);
    expect(proxied.json).toEqual(direct.json);
  });

  it('shadows a route to the reimplementation and records the observation in the PostgreSQL of DATABASE_URL', async () => {
    await setFlag(proxy, 'sync.counties.list', 'shadow');
    const store = new PgObservationStore(services.databaseUrl);
    try {
      // The flag reaches the proxy by LISTEN/NOTIFY; ask until an observation of the route is stored.
      const deadline = Date.now() + 20_000;
      let observations = await store.list({ routeId: 'sync.counties.list' });
      while (observations.length === 0 && Date.now() < deadline) {
        expect((await ask(`${proxy.doors.sync}/counties`)).status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 200));
        observations = await store.list({ routeId: 'sync.counties.list' });
      }
      expect(observations.length).toBeGreaterThan(0);
      const [observation] = observations;
      expect(observation).toMatchObject({ mode: 'shadow', service: 'sync', path: '/counties', serving: { status: 200 }, shadow: { status: 200 } });
      expect(observation!.verdict).not.toBe('errored');
    } finally {
      await store.close();
    }
  });

  it('names every unreachable upstream at start, and answers 502 for its side while serving the others', async () => {
    const named = proxy.events.filter((entry) => entry.event === 'upstream.unreachable').map((entry) => `${entry.side}.${entry.upstream}`);
    expect(named).toEqual(expect.arrayContaining(['legacy.gateway', 'legacy.narrator', 'shadowLegacy.sync', 'shadowReimpl.gisExport']));
    expect(named).not.toContain('legacy.sync');
    expect(named).not.toContain('reimpl.sync');
    expect(proxy.events.find((entry) => entry.event === 'upstream.unreachable')?.level).toBe('warn');
    const answer = await ask(`${proxy.doors.gateway}/health/live`);
    expect(answer.status).toBe(502);
    expect(answer.json).toMatchObject({ code: 'CUTOVER_ERR_UPSTREAM_UNREACHABLE', side: 'legacy' });
  });

  it('logs each served request as one JSON line with its request id, the client\'s when it sent one', async () => {
    const answer = await fetch(`${proxy.doors.sync}/counties?logged=1`, { headers: { 'x-request-id': 'req-7f3a' } });
    expect(answer.status).toBe(200);
    await answer.arrayBuffer();
    const entry = await proxy.waitFor('request', 10_000, (line) => line.requestId === 'req-7f3a');
    expect(entry).toMatchObject({ level: 'info', service: 'sync', route: 'sync.counties.list', method: 'GET', path: '/counties?logged=1', servedBy: 'legacy', status: 200 });
    expect(typeof entry.time).toBe('string');
    // Without one, the entry gets an id of its own.
    expect((await fetch(`${proxy.doors.sync}/health?logged=2`)).status).toBe(200);
    const own = await proxy.waitFor('request', 10_000, (line) => line.path === '/health?logged=2');
    expect(own.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('says it is alive and ready on the admin port', async () => {
    expect((await fetch(`${proxy.adminUrl}/livez`)).status).toBe(200);
    const ready = await fetch(`${proxy.adminUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', flagStore: 'live' });
  });

  it('with --strict, refuses to start while an upstream is unreachable, naming it', async () => {
    const strict = await startProxyProcess(env, ['--strict'], { waitReady: false });
    const code = await strict.exited;
    expect(code).toBe(1);
    expect(strict.otherOutput()).toMatch(/CUTOVER_ERR_UPSTREAM_UNREACHABLE: --strict: .*legacy gateway unreachable/);
    expect(strict.events.find((entry) => entry.event === 'upstream.unreachable')?.level).toBe('error');
  }, 120_000);

  it('on SIGTERM drains, flushes its observations and exits 0', async () => {
    proxy.signal('SIGTERM');
    expect(await proxy.exited).toBe(0);
    const drained = proxy.events.find((entry) => entry.event === 'proxy.drained');
    expect(drained).toMatchObject({ connectionsCut: 0, shadowsLeft: 0 });
    expect(proxy.events.at(-1)?.event).toBe('proxy.stopped');
  }, 60_000);
});
