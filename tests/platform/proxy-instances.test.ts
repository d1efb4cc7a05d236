/**
 * Several instances, one truth: three `cutover proxy` processes behind Debian's haproxy on
 * loopback, with one PostgreSQL. A flag change reaches all three within a second; their
 * observations make one report; an instance killed under load costs no request at haproxy
 * (it retries idempotent requests elsewhere) and a bounded, counted number of observations;
 * one stopped with SIGTERM costs none.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, eventually, startUpstream, type TestUpstream } from '../proxy/harness.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';
import { startHaproxy, type RunningHaproxy } from './haproxy.js';
import { setFlag, startProxyProcess, type ProxyProcess } from './proxy-process.js';

const flushIntervalMs = 100;
let database: IsolatedDatabase;
let legacy: TestUpstream;
let reimpl: TestUpstream;
let instances: ProxyProcess[];
let haproxy: RunningHaproxy;
let db: pg.Client;

beforeAll(async () => {
  database = await createIsolatedDatabase('instances');
  [legacy, reimpl] = (await Promise.all(['legacy', 'reimpl'].map(startUpstream))) as [TestUpstream, TestUpstream];
  const nowhere = `http://127.0.0.1:${await closedPort()}`;
  const configFile = join(mkdtempSync(join(tmpdir(), 'cutover-instances-')), 'cutover.config.json');
  // The rollout controller checks every half second here, so the one that leads says so soon.
  writeFileSync(configFile, JSON.stringify({ proxy: { observations: { flushIntervalMs }, drainTimeoutMs: 10_000 }, rollout: { checkIntervalMs: 500 } }));
  const env = {
    DATABASE_URL: database.url,
    CUTOVER_CONFIG: configFile,
    CUTOVER_UPSTREAM_LEGACY_SYNC: legacy.url,
    CUTOVER_UPSTREAM_REIMPL_SYNC: reimpl.url,
    ...Object.fromEntries(['LEGACY_GATEWAY', 'LEGACY_NARRATOR', 'REIMPL_GATEWAY', 'REIMPL_NARRATOR', 'REIMPL_GIS_EXPORT'].map((name) => [`CUTOVER_UPSTREAM_${name}`, nowhere])),
  };
  // Started side by side: the harness migrations take an advisory lock, so concurrent starts are safe.
  instances = await Promise.all([0, 1, 2].map(() => startProxyProcess(env)));
  haproxy = await startHaproxy(instances.map((instance, index) => ({ name: `proxy${index}`, url: instance.doors.sync, adminUrl: instance.adminUrl })));
  db = new pg.Client({ connectionString: database.url });
  await db.connect();
}, 180_000);

afterAll(async () => {
  await db?.end();
  await haproxy?.stop();
  for (const instance of instances ?? []) instance.signal('SIGKILL');
  await Promise.all((instances ?? []).map((instance) => instance.exited));
  await Promise.all([legacy?.close(), reimpl?.close()]);
  await database?.drop();
}, 60_000);

/** The mode an instance decides `route` with now, as its own metrics say (the flag gauges read its live snapshot). */
async function modeIn(instance: ProxyProcess, route: string): Promise<string | undefined> {
  const text = await (await fetch(`${instance.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith('cutover_flag_mode{') && entry.includes(`route="${route}"`) && entry.endsWith(' 1'));
  return line?.match(/mode="([a-z]+)"/)?.[1];
}

/** Milliseconds from `since` until `instance` decides `route` in `mode`; rejects after the deadline. */
async function seenAfter(instance: ProxyProcess, route: string, mode: string, since: number, deadlineMs = 10_000): Promise<number> {
  for (;;) {
    if ((await modeIn(instance, route)) === mode) return Date.now() - since;
    if (Date.now() - since > deadlineMs) throw new Error(`instance ${instance.pid} never saw ${route} in ${mode}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function observationsOf(pathPrefix: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM cutover.observations WHERE path LIKE $1', [`${pathPrefix}%`]);
  return Number(rows[0]!.n);
}

/**
 * The observations of `pathPrefix` once every live instance has nothing left in flight: no
 * shadow copy out and nothing queued for comparison or writing (their admin /health says).
 */
async function settledObservations(pathPrefix: string, deadlineMs = 60_000): Promise<number> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const live = instances.filter((instance) => !instance.gone());
    const facts = await Promise.all(live.map(async (instance) => (await (await fetch(`${instance.adminUrl}/health`)).json()) as { shadowInFlight: number; observationsQueued: number }));
    if (facts.every((fact) => fact.shadowInFlight === 0 && fact.observationsQueued === 0)) return observationsOf(pathPrefix);
    if (Date.now() > deadline) throw new Error(`instances still busy after ${deadlineMs} ms: ${JSON.stringify(facts)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface LoadOutcome {
  sent: number;
  statuses: Record<string, number>;
  /** Requests completed (any outcome) before the signal was sent, and completion times. */
  completedAt: number[];
  signalledAt: number;
}

/**
 * Bounded load through haproxy: `total` GETs, `concurrency` at a time, numbered in their path;
 * `signal` runs once `signalAfter` of them have completed, while the rest keep coming.
 */
async function loadWith(phase: string, total: number, concurrency: number, signalAfter: number, signal: () => void): Promise<LoadOutcome> {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 });
  const statuses: Record<string, number> = {};
  const completedAt: number[] = [];
  let next = 0;
  let signalledAt = 0;
  const worker = async () => {
    while (next < total) {
      const n = next++;
      const outcome = await request(`${haproxy.url}/health?phase=${phase}&n=${n}`, { dispatcher: agent }).then(
        async (response) => {
          await response.body.text();
          return String(response.statusCode);
        },
        (error: Error & { code?: string }) => error.code ?? error.message,
      );
      statuses[outcome] = (statuses[outcome] ?? 0) + 1;
      completedAt.push(Date.now());
      if (completedAt.length === signalAfter) {
        signalledAt = Date.now();
        signal();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await agent.close();
  return { sent: total, statuses, completedAt, signalledAt };
}

describe('three cutover proxy instances behind haproxy, one PostgreSQL', () => {
  it('see a flag change made on one of them within one second, all three', async () => {
    // A first change warms the admin API and its connections up; the one measured is the second.
    await setFlag(instances[0]!, 'sync.metrics', 'legacy');
    const since = Date.now();
    await setFlag(instances[0]!, 'sync.health', 'shadow');
    const answered = Date.now() - since;
    const delays = await Promise.all(instances.map((instance) => seenAfter(instance, 'sync.health', 'shadow', since)));
    console.log(`flag propagation, ms from sending the PUT to each instance deciding with it: ${delays.join(', ')} (the PUT answered after ${answered} ms)`);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(1000);
  });

  it('put the observations of all three in one report', async () => {
    await setFlag(instances[1]!, 'sync.counties.list', 'shadow');
    await setFlag(instances[2]!, 'sync.properties.list', 'shadow');
    await Promise.all(instances.flatMap((instance) => [seenAfter(instance, 'sync.counties.list', 'shadow', Date.now()), seenAfter(instance, 'sync.properties.list', 'shadow', Date.now())]));
    // Each instance is asked directly for a route of its own, so each route's observations are one instance's.
    const asks: Array<[ProxyProcess, string]> = [
      [instances[0]!, '/health?phase=report'],
      [instances[1]!, '/counties?phase=report'],
      [instances[2]!, '/properties?phase=report'],
    ];
    for (const [instance, path] of asks) {
      for (let n = 0; n < 5; n++) expect((await fetch(`${instance.doors.sync}${path}&n=${n}`)).status).toBe(200);
    }
    for (const [, path] of asks) expect(await settledObservations(path)).toBe(5);
    const out = mkdtempSync(join(tmpdir(), 'cutover-instances-report-'));
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'cutover.mjs'), 'report', '--out', out], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: database.url },
        stdio: 'ignore',
      });
      child.once('exit', resolve);
    });
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { routes: Array<{ routeId: string; observations: number; errored: number }> };
    const byRoute = new Map(report.routes.map((route) => [route.routeId, route]));
    for (const route of ['sync.health', 'sync.counties.list', 'sync.properties.list']) {
      expect(byRoute.get(route)).toMatchObject({ observations: 5, errored: 0 });
    }
  }, 60_000);

  it('run the rollout controller on exactly one of them, the one holding its advisory lock', async () => {
    const leaders = async () =>
      Promise.all(
        instances.map(async (instance) => {
          const text = await (await fetch(`${instance.adminUrl}/metrics`)).text();
          const line = text.split('\n').find((entry) => entry.startsWith('cutover_rollout_leader '));
          return line === undefined ? undefined : Number(line.split(' ')[1]);
        }),
      );
    // Each instance sets its gauge on its first check; until all three have, the answer is not in.
    const seen = await eventually(async () => {
      const values = await leaders();
      return values.every((value) => value !== undefined) && values.filter((value) => value === 1).length === 1 ? values : undefined;
    }, 30_000);
    expect(seen.filter((value) => value === 1)).toHaveLength(1);
    expect(seen.filter((value) => value === 0)).toHaveLength(2);
    // Still one a few checks later: the others keep trying the lock and keep failing.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await leaders()).filter((value) => value === 1)).toHaveLength(1);
  });

  it('lose no request and no observation when one instance is stopped with SIGTERM under load', async () => {
    const stopped = instances[1]!;
    for (const server of ['proxy0', 'proxy1', 'proxy2']) await haproxy.waitForServer(server, 'UP');
    const load = await loadWith('term', 600, 6, 150, () => stopped.signal('SIGTERM'));
    expect(await stopped.exited).toBe(0);
    expect(load.statuses).toEqual({ '200': 600 });
    const stored = await settledObservations('/health?phase=term');
    console.log(`SIGTERM under load: ${load.sent} requests, all answered 200; ${stored} observations stored, ${load.sent - stored} lost`);
    expect(stored).toBe(load.sent);
    expect(stopped.events.find((entry) => entry.event === 'proxy.drained')).toMatchObject({ connectionsCut: 0, shadowsLeft: 0 });
  }, 120_000);

  it('lose no request, and only a bounded, counted number of observations, when one instance is killed with SIGKILL under load', async () => {
    const killed = instances[2]!;
    const concurrency = 6;
    // Haproxy must already hold the instance stopped above as down. While its checks still call it up, a retry
    // redispatched from the killed instance can land on the stopped one, and back, until the retries run out (a 503):
    // two dead servers of three is not the one-instance loss this test is about.
    await haproxy.waitForServer('proxy1', 'DOWN');
    await haproxy.waitForServer('proxy0', 'UP');
    await haproxy.waitForServer('proxy2', 'UP');
    const load = await loadWith('kill', 600, concurrency, 150, () => killed.signal('SIGKILL'));
    expect(await killed.exited).toBeNull();
    expect(load.statuses).toEqual({ '200': 600 });
    const stored = await settledObservations('/health?phase=kill');
    const lost = load.sent - stored;
    // What the killed instance can lose is what reached it before it died: requests answered before the signal and those
    // in flight then (at most `concurrency`). Every request after it is retried elsewhere and observed there.
    const bound = load.completedAt.filter((at) => at <= load.signalledAt).length + concurrency;
    console.log(`SIGKILL under load: ${load.sent} requests, all answered 200; ${stored} observations stored, ${lost} lost (bound ${bound})`);
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost).toBeLessThanOrEqual(bound);
  }, 120_000);
});
