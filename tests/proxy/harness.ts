/**
 * Test harness of the proxy tests: real node:http upstreams on ephemeral ports standing in
 * for legacy and reimplementation services, a small route catalogue, and a proxy started
 * with ephemeral ports pointing at them.
 */
import { connect } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { emptySnapshot, type FlagMode, type FlagSnapshot, type FlagSource, type RouteFlag } from '../../flags/flag.js';
import { parseRouteCatalogue, type RouteCatalogue } from '../../flags/route-catalogue.js';
import { loadConfig } from '../../src/config/load.js';
import { refusingPort } from '../../src/platform/ports.js';
import type { ConfigInput, CutoverConfig } from '../../src/config/schema.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import type { ObservationStore } from '../../proxy/observe/observation.js';
import type { UnknownTrafficStore } from '../../src/report/unknown-traffic.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';

export interface SeenRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Behaviour = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export interface TestUpstream {
  url: string;
  port: number;
  seen: SeenRequest[];
  /** Replaces what the upstream answers. */
  behave(behaviour: Behaviour): void;
  /** Answers again as it did when started (the echo below). */
  restore(): void;
  close(): Promise<void>;
}

/** An upstream answering `{"side": name, "method", "url", "body"}` unless told otherwise. */
export async function startUpstream(name: string): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const echo: Behaviour = (req, res, body) => {
    const answer = JSON.stringify({ side: name, method: req.method, url: req.url, body: body.toString('utf8') });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  };
  let behaviour = echo;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, headers: req.headers, body });
      behaviour(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    behave: (next) => {
      behaviour = next;
    },
    restore: () => {
      behaviour = echo;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Answers JSON with a status and a content-length: what an upstream behaviour usually does. */
export function answerJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A port nothing listens on, for as long as the test runs. */
export const closedPort = (): Promise<number> => refusingPort();

export const testCatalogue: RouteCatalogue = parseRouteCatalogue({
  version: 1,
  routes: [
    { id: 'sync.health', service: 'sync', method: 'GET', path: '/health', owner: 'tests', writes: false, compare: { ignore: [], headers: ['content-type'] } },
    { id: 'sync.echo', service: 'sync', method: 'POST', path: '/echo', owner: 'tests', writes: false },
    { id: 'sync.items', service: 'sync', method: 'GET', path: '/items/{item_id}', owner: 'tests', writes: false, compare: { ignore: ['$.generated_at', '$.rows[*].id'], headers: [] } },
    { id: 'sync.gis-export.run', service: 'sync', method: 'POST', path: '/plugins/v1/gis-export/run', owner: 'tests', writes: true, upstream: 'gisExport' },
    { id: 'sync.gis-export.status', service: 'sync', method: 'GET', path: '/plugins/v1/gis-export/status/{job_id}', owner: 'tests', writes: false, upstream: 'gisExport' },
  ],
});

/** A flag source the test flips by hand. */
export class ManualFlags implements FlagSource {
  private snapshot: FlagSnapshot = { ...emptySnapshot('live'), loadedAt: new Date() };

  current(): FlagSnapshot {
    return this.snapshot;
  }

  set(routeId: string, mode: FlagMode, percent = 0): void {
    const flags = new Map<string, RouteFlag>(this.snapshot.flags);
    flags.set(routeId, { routeId, mode, percent });
    this.snapshot = { ...this.snapshot, flags };
  }

  kill(on: boolean): void {
    this.snapshot = { ...this.snapshot, killSwitch: on };
  }
}

export interface Upstreams {
  legacy: TestUpstream;
  reimpl: TestUpstream;
  gisExport: TestUpstream;
  shadowLegacy: TestUpstream;
  shadowReimpl: TestUpstream;
  shadowGisExport: TestUpstream;
}

export async function startUpstreams(): Promise<Upstreams> {
  const [legacy, reimpl, gisExport, shadowLegacy, shadowReimpl, shadowGisExport] = await Promise.all(
    ['legacy', 'reimpl', 'gis-export', 'shadow-legacy', 'shadow-reimpl', 'shadow-gis-export'].map(startUpstream),
  );
  return { legacy: legacy!, reimpl: reimpl!, gisExport: gisExport!, shadowLegacy: shadowLegacy!, shadowReimpl: shadowReimpl!, shadowGisExport: shadowGisExport! };
}

export function configFor(upstreams: Upstreams, overrides: { proxy?: ConfigInput['proxy'] } = {}): CutoverConfig {
  const at = (upstream: TestUpstream) => ({ host: '127.0.0.1', port: upstream.port });
  return loadConfig({
    env: {},
    overrides: {
      legacy: { sync: at(upstreams.legacy) },
      reimpl: { sync: at(upstreams.reimpl), gisExport: at(upstreams.gisExport) },
      shadowLegacy: { sync: at(upstreams.shadowLegacy) },
      shadowReimpl: { sync: at(upstreams.shadowReimpl), gisExport: at(upstreams.shadowGisExport) },
      proxy: {
        gateway: { port: 0 },
        sync: { port: 0 },
        narrator: { port: 0 },
        ...overrides.proxy,
        shadow: { timeoutMs: 1000, ...overrides.proxy?.shadow },
        observations: { flushIntervalMs: 20, ...overrides.proxy?.observations },
      },
    },
  });
}

/** Stops a test proxy and then its upstreams. */
export async function stopTestProxy(subject: ProxyUnderTest, upstreams: Upstreams): Promise<void> {
  await subject.proxy.close();
  await Promise.all(Object.values(upstreams).map((upstream: TestUpstream) => upstream.close()));
}

/** Between tests: what the upstreams saw forgotten, every test route back to legacy. */
export function resetSeenAndFlags(subject: ProxyUnderTest, upstreams: Upstreams): void {
  for (const upstream of Object.values(upstreams) as TestUpstream[]) upstream.seen.length = 0;
  for (const route of testCatalogue.routes) subject.flags.set(route.id, 'legacy');
}

export interface ProxyUnderTest {
  proxy: RunningProxy;
  flags: ManualFlags;
  store: ObservationStore & Partial<FakeObservationStore>;
  url: string;
}

export async function startTestProxy(
  upstreams: Upstreams,
  overrides: { proxy?: ConfigInput['proxy'] } = {},
  store: ObservationStore = new FakeObservationStore(),
  unknownTrafficStore?: UnknownTrafficStore,
): Promise<ProxyUnderTest> {
  const flags = new ManualFlags();
  const proxy = await startProxy({
    config: configFor(upstreams, overrides),
    catalogue: testCatalogue,
    flagSource: flags,
    observationStore: store,
    ...(unknownTrafficStore ? { unknownTrafficStore } : {}),
    services: ['sync'],
    random: () => 0,
  });
  return { proxy, flags, store, url: proxy.urls.sync! };
}

/** A sync proxy whose legacy side is the server on `legacyPort` (a raw upstream that misbehaves below HTTP, say). */
export async function startProxyWithLegacyAt(upstreams: Upstreams, legacyPort: number, overrides: { proxy?: ConfigInput['proxy'] } = {}, flags: FlagSource = new ManualFlags()): Promise<RunningProxy> {
  const config = configFor(upstreams, overrides);
  return startProxy({
    config: { ...config, legacy: { ...config.legacy, sync: { host: '127.0.0.1', port: legacyPort } } },
    catalogue: testCatalogue,
    flagSource: flags,
    observationStore: new FakeObservationStore(),
    services: ['sync'],
  });
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  const response = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: response.headers, body };
}

/**
 * Polls `check` until it returns a value that is not undefined, or fails after `ms`. The default
 * leaves room for a comparison worker process to start on a loaded machine (about 0.8 s seen) plus
 * a flush: observation tests once timed out at 3 s under load. A met condition returns at once.
 */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Whether a process with this pid exists (signal 0 only checks). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends one request as raw bytes (so headers undici would refuse, like Connection lists, reach the proxy) and answers the raw response text. */
export function rawRequest(baseUrl: string, text: string): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(text));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}
