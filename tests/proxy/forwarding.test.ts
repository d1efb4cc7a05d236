import { get } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, rawRequest, closedPort, configFor, eventually, startTestProxy, startUpstreams, stopTestProxy, testCatalogue, type ProxyUnderTest, type TestUpstream, type Upstreams } from './harness.js';
import { startProxy } from '../../proxy/start.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { ManualFlags } from './harness.js';
import { FakeUnknownTrafficStore } from '../../src/report/unknown-traffic.js';

let upstreams: Upstreams;
let subject: ProxyUnderTest;

beforeAll(async () => {
  upstreams = await startUpstreams();
  subject = await startTestProxy(upstreams);
});
afterAll(() => stopTestProxy(subject, upstreams));
afterEach(() => {
  for (const upstream of Object.values(upstreams) as TestUpstream[]) {
    upstream.seen.length = 0;
    upstream.behave((req, res, body) => {
      const answer = JSON.stringify({ side: upstream.url, method: req.method, url: req.url, body: body.toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer);
    });
  }
  for (const route of testCatalogue.routes) subject.flags.set(route.id, 'legacy');
  subject.flags.kill(false);
});

const sideOf = (answer: { headers: Record<string, unknown> }) => answer.headers['x-cutover-served-by'];

describe('forwarding', () => {
  it('forwards method, path, query and body to legacy by default and says which route and side served', async () => {
    const answer = await call(`${subject.url}/echo?a=1&b=%20x`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(answer.status).toBe(200);
    expect(upstreams.legacy.seen).toHaveLength(1);
    expect(upstreams.legacy.seen[0]).toMatchObject({ method: 'POST', url: '/echo?a=1&b=%20x' });
    expect(upstreams.legacy.seen[0]!.body.toString()).toBe('hello');
    expect(answer.headers['x-cutover-route']).toBe('sync.echo');
    expect(sideOf(answer)).toBe('legacy');
  });

  it('sends a request no route matches to legacy and labels it unknown', async () => {
    const answer = await call(`${subject.url}/no/such/route`);
    expect(upstreams.legacy.seen.map((seen) => seen.url)).toEqual(['/no/such/route']);
    expect(answer.headers['x-cutover-route']).toBe('unknown');
    const metrics = await subject.proxy.metrics.registry.metrics();
    expect(metrics).toMatch(/cutover_proxy_requests_total\{service="sync",route="unknown",mode="legacy",served_by="legacy"\} [1-9]/);
  });

  it('counts unknown traffic per service, method and path (query left out) for the report', async () => {
    const unknown = new FakeUnknownTrafficStore();
    const counting = await startTestProxy(upstreams, {}, new FakeObservationStore(), unknown);
    try {
      await call(`${counting.url}/not/catalogued?x=1`);
      await call(`${counting.url}/not/catalogued?x=2`);
      await call(`${counting.url}/health`);
      await counting.proxy.flushObservations();
      const listed = await unknown.list();
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ service: 'sync', method: 'GET', path: '/not/catalogued', count: 2 });
    } finally {
      await counting.proxy.close();
    }
  });

  it('passes the answer through byte for byte: status, reason, cookies, repeated headers and binary body', async () => {
    const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
    upstreams.legacy.behave((_req, res) => {
      res.statusMessage = 'Quite Created';
      res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; HttpOnly']);
      res.setHeader('X-Custom', 'Kept As Is');
      res.writeHead(201, { 'content-type': 'application/octet-stream' });
      res.end(binary);
    });
    const answer = await call(`${subject.url}/items/7`, { headers: { cookie: 'session=abc; other=1' } });
    expect(answer.status).toBe(201);
    expect(answer.body.equals(binary)).toBe(true);
    expect(answer.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(answer.headers['x-custom']).toBe('Kept As Is');
    expect(upstreams.legacy.seen[0]!.headers.cookie).toBe('session=abc; other=1');
  });

  it('keeps the upstream reason phrase on the status line', async () => {
    upstreams.legacy.behave((_req, res) => {
      res.writeHead(418, 'I Am A Teapot Here', { 'content-length': '0' });
      res.end();
    });
    const response = await rawRequest(subject.url, 'GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(response.split('\r\n')[0]).toBe('HTTP/1.1 418 I Am A Teapot Here');
  });

  it('drops hop-by-hop headers and the ones Connection names, both ways, and keeps end-to-end ones', async () => {
    upstreams.legacy.behave((_req, res) => {
      res.writeHead(200, { connection: 'x-upstream-private', 'x-upstream-private': 'secret', 'keep-alive': 'timeout=5', 'x-end-to-end': 'yes', 'content-length': '2' });
      res.end('ok');
    });
    const response = await rawRequest(
      subject.url,
      'GET /health HTTP/1.1\r\nhost: x\r\nconnection: close, x-client-private\r\nx-client-private: secret\r\nte: trailers\r\n' +
        'proxy-connection: keep-alive\r\nx-end-to-end: yes\r\n\r\n',
    );
    const seen = upstreams.legacy.seen[0]!.headers;
    expect(seen['x-client-private']).toBeUndefined();
    expect(seen.te).toBeUndefined();
    expect(seen['proxy-connection']).toBeUndefined();
    expect(seen['x-end-to-end']).toBe('yes');
    const head = response.split('\r\n\r\n')[0]!.toLowerCase();
    expect(head).not.toContain('x-upstream-private');
    expect(head).not.toContain('timeout=5');
    expect(head).toContain('x-end-to-end: yes');
    expect(response.endsWith('\r\n\r\nok')).toBe(true);
  });

  it('streams a large answer to a client that reads slowly, with backpressure, to the last byte', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'q');
    upstreams.legacy.behave((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const pump = () => {
        while (sent < 24) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const received = await new Promise<number>((resolve, reject) => {
      get(`${subject.url}/health`, (answer) => {
        let bytes = 0;
        answer.pause();
        // Hold the stream long enough for the proxy's socket buffer to fill, then read.
        setTimeout(() => answer.resume(), 300);
        answer.on('data', (data: Buffer) => (bytes += data.length));
        answer.on('end', () => resolve(bytes));
        answer.on('error', reject);
      }).on('error', reject);
    });
    expect(received).toBe(24 * 1024 * 1024);
  });

  it('streams a large chunked request body to the upstream without shadowing in legacy mode', async () => {
    const big = Buffer.alloc(3_000_000, 'z');
    const answer = await call(`${subject.url}/echo`, { method: 'POST', body: big });
    expect(answer.status).toBe(200);
    expect(upstreams.legacy.seen[0]!.body.length).toBe(big.length);
  });
});

describe('modes', () => {
  it('shadow mode serves from legacy and sends a copy to the reimplementation', async () => {
    subject.flags.set('sync.echo', 'shadow');
    const answer = await call(`${subject.url}/echo`, { method: 'POST', body: '{"a":1}' });
    expect(sideOf(answer)).toBe('legacy');
    expect(JSON.parse(answer.body.toString()).side).toBe(upstreams.legacy.url);
    await eventually(() => (upstreams.reimpl.seen.length === 1 ? true : undefined));
    expect(upstreams.reimpl.seen[0]!.body.toString()).toBe('{"a":1}');
  });

  it('reimpl mode serves from the reimplementation and shadows legacy for reverse comparison', async () => {
    subject.flags.set('sync.echo', 'reimpl');
    const answer = await call(`${subject.url}/echo`, { method: 'POST', body: 'x' });
    expect(sideOf(answer)).toBe('reimpl');
    await eventually(() => (upstreams.legacy.seen.length === 1 ? true : undefined));
  });

  it('retired mode serves from the reimplementation only', async () => {
    subject.flags.set('sync.health', 'retired');
    const answer = await call(`${subject.url}/health`);
    expect(sideOf(answer)).toBe('reimpl');
    await subject.proxy.flushObservations();
    expect(upstreams.legacy.seen).toHaveLength(0);
  });

  it('canary at 100% serves from the reimplementation and at 0% from legacy, shadowing the other side', async () => {
    subject.flags.set('sync.health', 'canary', 100);
    expect(sideOf(await call(`${subject.url}/health`))).toBe('reimpl');
    await eventually(() => (upstreams.legacy.seen.length === 1 ? true : undefined));
    subject.flags.set('sync.health', 'canary', 0);
    expect(sideOf(await call(`${subject.url}/health`))).toBe('legacy');
    await eventually(() => (upstreams.reimpl.seen.length === 2 ? true : undefined));
  });

  it('routes with their own reimplementation upstream are served by it', async () => {
    subject.flags.set('sync.gis-export.status', 'reimpl');
    await call(`${subject.url}/plugins/v1/gis-export/status/abc`);
    expect(upstreams.gisExport.seen.map((seen) => seen.url)).toEqual(['/plugins/v1/gis-export/status/abc']);
    expect(upstreams.reimpl.seen).toHaveLength(0);
  });

  it('the kill switch sends every route to legacy with no shadow, whatever the flags say', async () => {
    subject.flags.set('sync.health', 'retired');
    subject.flags.set('sync.echo', 'shadow');
    subject.flags.kill(true);
    expect(sideOf(await call(`${subject.url}/health`))).toBe('legacy');
    expect(sideOf(await call(`${subject.url}/echo`, { method: 'POST', body: 'x' }))).toBe('legacy');
    await subject.proxy.flushObservations();
    expect(upstreams.reimpl.seen).toHaveLength(0);
  });
});

describe('upstream failures', () => {
  it('answers 502 with CUTOVER_ERR_UPSTREAM_UNREACHABLE when the serving upstream refuses connections, and stays up', async () => {
    const port = await closedPort();
    const flags = new ManualFlags();
    const config = configFor(upstreams);
    const proxy = await startProxy({
      config: { ...config, legacy: { ...config.legacy, sync: { host: '127.0.0.1', port } } },
      catalogue: testCatalogue,
      flagSource: flags,
      observationStore: new FakeObservationStore(),
      services: ['sync'],
    });
    try {
      const answer = await call(`${proxy.urls.sync}/health`);
      expect(answer.status).toBe(502);
      expect(answer.headers['content-type']).toBe('application/json');
      expect(JSON.parse(answer.body.toString())).toMatchObject({ code: 'CUTOVER_ERR_UPSTREAM_UNREACHABLE', route: 'sync.health', side: 'legacy' });
      expect((await call(`${proxy.urls.sync}/health`)).status).toBe(502);
    } finally {
      await proxy.close();
    }
  });

  it('answers 504 with CUTOVER_ERR_UPSTREAM_TIMEOUT when the serving upstream does not answer in time', async () => {
    const slow = await startTestProxy(upstreams, { proxy: { upstreamTimeoutMs: 150 } });
    upstreams.legacy.behave(() => undefined);
    try {
      const answer = await call(`${slow.url}/health`);
      expect(answer.status).toBe(504);
      expect(JSON.parse(answer.body.toString())).toMatchObject({ code: 'CUTOVER_ERR_UPSTREAM_TIMEOUT', side: 'legacy' });
      expect(JSON.parse(answer.body.toString()).hint).toMatch(/upstreamTimeoutMs/);
    } finally {
      await slow.proxy.close();
    }
  });

  it('leaves the answer headers untouched when exposeHeaders is off', async () => {
    const plain = await startTestProxy(upstreams, { proxy: { exposeHeaders: false } });
    try {
      const answer = await call(`${plain.url}/health`);
      expect(answer.headers['x-cutover-route']).toBeUndefined();
      expect(answer.headers['x-cutover-served-by']).toBeUndefined();
    } finally {
      await plain.proxy.close();
    }
  });
});
