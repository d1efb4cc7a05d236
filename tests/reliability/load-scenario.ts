/**
 * What the reliability run's load scenarios share: stand-in upstream processes, `cutover proxy`
 * started as a real process in front of them (tests/platform/proxy-process.ts, the way an
 * operator starts it), and the serving check: a fixed open-loop load (bench/load.ts) through
 * the proxy and the same requests, on the same schedule, straight to legacy, compared answer by
 * answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { latencyCeilingMs, runFixedRate, type FixedRateOutcome } from '../../bench/load.js';
import { freePort } from '../../src/platform/ports.js';
import { setFlag, startProxyProcess, type ProxyProcess } from '../platform/proxy-process.js';
import type { StandInMode } from './stand-in-upstream.js';

/** The shadowed read route the load asks: GET /properties/{property_id} on the sync door. */
export const loadRoute = 'sync.properties.get';
export const loadPath = (index: number): string => `/properties/P${index % 997}?request=${index}`;

/** How much load and for how long; the run's options, scaled down for quick runs. */
export interface LoadShape {
  /** Requests per second, open loop. */
  rate: number;
  /** Each phase's length. */
  durationMs: number;
}

export interface StandInProcess {
  url: string;
  port: number;
  mode: StandInMode;
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<void>;
}

const standInScript = join(import.meta.dirname, 'stand-in-upstream.ts');

/** Starts tests/reliability/stand-in-upstream.ts in `mode` on `port` (0: a free one); resolves once it listens. */
export function startStandIn(mode: StandInMode, port = 0): Promise<StandInProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', standInScript, mode, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stand-in ${mode} did not listen within 60 s: ${output}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stand-in ${mode} exited (${code}) before it listened: ${output}`));
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      output += text;
      const listening = /listening (\d+)/.exec(output);
      if (!listening) return;
      clearTimeout(timer);
      const at = Number(listening[1]);
      resolve({ url: `http://127.0.0.1:${at}`, port: at, mode, kill: (signal = 'SIGTERM') => void (child.exitCode === null && child.kill(signal)), exited });
    });
  });
}

/** Every upstream a proxy process may be asked about, besides legacy and reimpl sync: none listens there (named at start, never asked by the load). */
const otherUpstreams = ['LEGACY_GATEWAY', 'LEGACY_NARRATOR', 'REIMPL_GATEWAY', 'REIMPL_NARRATOR', 'REIMPL_GIS_EXPORT', 'LEGACY_GIS_EXPORT', 'SHADOW_LEGACY_SYNC', 'SHADOW_LEGACY_GATEWAY', 'SHADOW_LEGACY_NARRATOR', 'SHADOW_REIMPL_SYNC', 'SHADOW_REIMPL_GIS_EXPORT', 'SHADOW_REIMPL_GATEWAY', 'SHADOW_REIMPL_NARRATOR'];

export interface ProxyPorts {
  gateway: number;
  sync: number;
  narrator: number;
  admin: number;
}

export async function freeProxyPorts(): Promise<ProxyPorts> {
  return { gateway: await freePort(), sync: await freePort(), narrator: await freePort(), admin: await freePort() };
}

/** `cutover proxy` with legacy sync at `legacyUrl`, the reimplementation (the shadow side of a shadowed route) at `shadowUrl`, flags and observations in `databaseUrl`. */
export async function startLoadProxy(options: { databaseUrl: string; legacyUrl: string; shadowUrl: string; ports?: ProxyPorts; env?: Record<string, string> }): Promise<ProxyProcess> {
  const nowhere = `http://127.0.0.1:${await freePort()}`;
  const ports = options.ports;
  const proxy = await startProxyProcess({
    DATABASE_URL: options.databaseUrl,
    CUTOVER_UPSTREAM_LEGACY_SYNC: options.legacyUrl,
    CUTOVER_UPSTREAM_REIMPL_SYNC: options.shadowUrl,
    ...Object.fromEntries(otherUpstreams.map((name) => [`CUTOVER_UPSTREAM_${name}`, nowhere])),
    ...(ports ? { PROXY_GATEWAY_PORT: String(ports.gateway), PROXY_SYNC_PORT: String(ports.sync), PROXY_NARRATOR_PORT: String(ports.narrator), PROXY_ADMIN_PORT: String(ports.admin) } : {}),
    ...options.env,
  });
  if (!ports) return proxy;
  // The process listens where it was told; the record it returns names the ports it would have picked.
  return { ...proxy, doors: { gateway: `http://127.0.0.1:${ports.gateway}`, sync: `http://127.0.0.1:${ports.sync}`, narrator: `http://127.0.0.1:${ports.narrator}` }, adminUrl: `http://127.0.0.1:${ports.admin}` };
}

/** Sets the load route to shadow and waits until the proxy decides with it (its flag gauge says so). */
export async function shadowLoadRoute(proxy: ProxyProcess): Promise<void> {
  await setFlag(proxy, loadRoute, 'shadow');
  await until(async () => (await metricSum(proxy.adminUrl, 'cutover_flag_mode', [`route="${loadRoute}"`, 'mode="shadow"'])) === 1, 30_000, `the proxy deciding ${loadRoute} with its shadow flag`);
}

/** Sum of the samples of a metric family whose labels contain every one of `labels`. */
export async function metricSum(adminUrl: string, family: string, labels: readonly string[] = []): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== family) continue;
    if (labels.every((label) => (match[2] ?? '').includes(label))) sum += Number(match[3]);
  }
  return sum;
}

/** The proxy admin's /health: flag state, shadow copies in flight, observations queued. */
export async function proxyHealth(adminUrl: string): Promise<{ flagState: string; shadowInFlight: number; observationsQueued: number }> {
  const body = (await (await fetch(`${adminUrl}/health`)).json()) as { flagStore: { state: string }; shadowInFlight: number; observationsQueued: number };
  return { flagState: body.flagStore.state, shadowInFlight: body.shadowInFlight, observationsQueued: body.observationsQueued };
}

/** Polls `check` until it holds; throws naming `what` at the deadline. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() >= deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The serving side of a load phase, judged against legacy asked directly. */
export interface ServingFigures {
  /** Requests sent through the proxy (and as many straight to legacy). */
  requests: number;
  /** Answered by the proxy (any status). */
  answered: number;
  /** Legacy answered directly but the proxy's answer never came (failed or timed out): by failure code. */
  lost: number;
  lostBy: Record<string, number>;
  /** Answered by both, with another status, content type or body through the proxy. */
  changed: number;
  /** Legacy itself failed directly: not judged. */
  referenceFailed: number;
  p50Ms: number;
  p99Ms: number;
  firstDifference?: string;
}

/** A step to take while the load runs, `atMs` after it started. */
export interface LoadEvent {
  atMs: number;
  run(): Promise<unknown> | void;
}

/**
 * Drives `shape` through `proxyOrigin` and straight to `legacyOrigin` at once (the same paths
 * on the same schedule), runs `events` on time meanwhile, then compares answer by answer.
 */
export async function servingAgainstReference(proxyOrigin: string, legacyOrigin: string, shape: LoadShape, events: readonly LoadEvent[] = []): Promise<ServingFigures> {
  const proxied = new Map<number, FixedRateOutcome>();
  const direct = new Map<number, FixedRateOutcome>();
  const common = { path: loadPath, rate: shape.rate, durationMs: shape.durationMs, connections: 32, timeoutMs: 30_000 };
  const timers: NodeJS.Timeout[] = [];
  const stepsDone = events.map(
    (event) =>
      new Promise<void>((resolve, reject) => {
        timers.push(setTimeout(() => Promise.resolve(event.run()).then(() => resolve(), reject), event.atMs));
      }),
  );
  const [through] = await Promise.all([
    runFixedRate({ ...common, origin: proxyOrigin, onAnswer: (index, outcome) => proxied.set(index, outcome) }),
    runFixedRate({ ...common, origin: legacyOrigin, onAnswer: (index, outcome) => direct.set(index, outcome) }),
  ]);
  await Promise.all(stepsDone);
  for (const timer of timers) clearTimeout(timer);
  const figures: ServingFigures = { requests: proxied.size, answered: 0, lost: 0, lostBy: {}, changed: 0, referenceFailed: 0, p50Ms: through.p50Ms, p99Ms: through.p99Ms };
  for (const [index, answer] of proxied) {
    const reference = direct.get(index);
    if ('status' in answer) figures.answered++;
    if (!reference || 'failure' in reference) {
      figures.referenceFailed++;
      continue;
    }
    if ('failure' in answer) {
      figures.lost++;
      figures.lostBy[answer.failure] = (figures.lostBy[answer.failure] ?? 0) + 1;
      figures.firstDifference ??= `${loadPath(index)}: no answer through the proxy (${answer.failure})`;
    } else if (answer.status !== reference.status || answer.contentType !== reference.contentType || !answer.body.equals(reference.body)) {
      figures.changed++;
      figures.firstDifference ??= `${loadPath(index)}: ${answer.status} ${answer.contentType} ${answer.body.subarray(0, 200).toString()} through the proxy, ${reference.status} ${reference.contentType} ${reference.body.subarray(0, 200).toString()} from legacy`;
    }
  }
  return figures;
}

/** A percentile, "≥ 2000 ms" when it is the load histogram's last bucket. */
const latency = (ms: number) => (ms >= latencyCeilingMs ? `≥ ${latencyCeilingMs} ms (the load histogram's ceiling)` : `${ms.toFixed(2)} ms`);

/** One line of a phase's serving figures. */
export function describeServing(figures: ServingFigures): string {
  const lostBy = Object.entries(figures.lostBy).map(([code, count]) => `${count} ${code}`).join(', ');
  return `${figures.requests} requests, ${figures.lost} serving answers lost${lostBy ? ` (${lostBy})` : ''} and ${figures.changed} changed against legacy asked directly; serving p50 ${latency(figures.p50Ms)}, p99 ${latency(figures.p99Ms)}${figures.referenceFailed ? `; ${figures.referenceFailed} not judged (legacy itself failed)` : ''}${figures.firstDifference ? `; first difference: ${figures.firstDifference}` : ''}`;
}

/** A few seconds of the load, not measured: connections opened, code paths warm, before the counters are read. */
export async function warmUp(proxyOrigin: string, legacyOrigin: string, shape: LoadShape): Promise<void> {
  await servingAgainstReference(proxyOrigin, legacyOrigin, { rate: shape.rate, durationMs: Math.min(3_000, shape.durationMs / 4) });
}

/** Waits until the proxy holds no shadow copy in flight and no observation queued, so counters and the table agree. */
export async function settled(adminUrl: string, timeoutMs = 120_000): Promise<void> {
  await until(async () => {
    const health = await proxyHealth(adminUrl);
    return health.shadowInFlight === 0 && health.observationsQueued === 0;
  }, timeoutMs, 'settled proxy (shadow copies in flight or observations queued)');
}

/**
 * Where each shadowed request the proxy answered went, from its metrics and the table: stored,
 * or dropped and counted (copy not sent, comparison failed, batch not written).
 */
export interface ObservationCounts {
  stored: number;
  /** cutover_proxy_shadow_dropped_total of the load route (budget or queue full). */
  dropped: number;
  /** cutover_proxy_comparison_failures_total of the load route. */
  comparisonFailed: number;
  /** cutover_proxy_observation_write_failures_total (the store refused the batch). */
  writeFailed: number;
}

export async function observationCounts(adminUrl: string, databaseUrl: string): Promise<ObservationCounts> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM cutover.observations WHERE route_id = $1', [loadRoute]);
    return {
      stored: Number(rows[0]!.count),
      dropped: await metricSum(adminUrl, 'cutover_proxy_shadow_dropped_total', [`route="${loadRoute}"`]),
      comparisonFailed: await metricSum(adminUrl, 'cutover_proxy_comparison_failures_total', [`route="${loadRoute}"`]),
      writeFailed: await metricSum(adminUrl, 'cutover_proxy_observation_write_failures_total'),
    };
  } finally {
    await client.end();
  }
}

export function countsSince(after: ObservationCounts, before: ObservationCounts): ObservationCounts {
  return { stored: after.stored - before.stored, dropped: after.dropped - before.dropped, comparisonFailed: after.comparisonFailed - before.comparisonFailed, writeFailed: after.writeFailed - before.writeFailed };
}

/** Stops a proxy process for good (SIGKILL when SIGTERM did not end it within 30 s). */
export async function stopProxy(proxy: ProxyProcess): Promise<number | null> {
  proxy.signal('SIGTERM');
  const timer = setTimeout(() => proxy.signal('SIGKILL'), 30_000);
  const code = await proxy.exited;
  clearTimeout(timer);
  return code;
}
