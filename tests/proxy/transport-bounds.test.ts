// Bounds on the transport (issue 9 item 4), each a config option with its code and its metric:
// a head not sent in time (slowloris) or a request not sent in time gets 408, a head too large
// 431, on the fast lane and on node:http alike; on the lane, pipelined bytes past their bound
// stop the client being read (backpressure: every request is still answered, in order), and a
// request that would wait for a busy upstream's connection past the waiters' bound gets 503.
import { connect, type Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, rawRequest, resetSeenAndFlags, startTestProxy, startUpstreams, stopTestProxy, type ProxyUnderTest, type TestUpstream, type Upstreams } from './harness.js';

const bounds = { headersTimeoutMs: 150, requestTimeoutMs: 300, maxHeaderBytes: 2048 };

async function metric(subject: ProxyUnderTest, pattern: RegExp): Promise<number> {
  const text = await subject.proxy.metrics.registry.metrics();
  return Number(pattern.exec(text)?.[1] ?? 0);
}

describe.each([
  ['the fast lane', true],
  ['the node:http path', false],
])('the client-side bounds on %s', (_path, fastLane) => {
  let upstreams: Upstreams;
  let subject: ProxyUnderTest;

  beforeAll(async () => {
    upstreams = await startUpstreams();
    subject = await startTestProxy(upstreams, { proxy: { fastLane, ...bounds } });
  });
  afterAll(() => stopTestProxy(subject, upstreams));
  afterEach(() => resetSeenAndFlags(subject, upstreams));

  it('answers 408 to a head that does not come complete within the headers timeout, and closes the connection', async () => {
    const answer = await rawRequest(subject.url, 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    // node:http has one timeout error for both bounds; the lane names the one that ran out.
    const { code } = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { code: string };
    expect(code).toBe(fastLane ? 'CUTOVER_ERR_REQUEST_HEADERS_TIMEOUT' : 'CUTOVER_ERR_REQUEST_TIMEOUT');
    expect(upstreams.legacy.seen).toEqual([]);
    expect(await metric(subject, /cutover_proxy_requests_refused_total\{service="sync",reason="(?:headers|request)_timeout"\} (\d+)/)).toBeGreaterThan(0);
  });

  it('answers 408 to a request whose body does not come complete within the request timeout, and the upstream sees no complete request', async () => {
    const answer = await rawRequest(subject.url, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'CUTOVER_ERR_REQUEST_TIMEOUT' });
    expect(upstreams.legacy.seen).toEqual([]);
  });

  it('answers 431 to a head larger than maxHeaderBytes, and serves heads within it', async () => {
    const answer = await rawRequest(subject.url, `GET /health HTTP/1.1\r\nHost: x\r\nCookie: ${'a'.repeat(4096)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'CUTOVER_ERR_REQUEST_HEADERS_TOO_LARGE' });
    expect(upstreams.legacy.seen).toEqual([]);
    expect(await metric(subject, /cutover_proxy_requests_refused_total\{service="sync",reason="header_bytes"\} (\d+)/)).toBeGreaterThan(0);
    expect((await call(`${subject.url}/health`, { headers: { cookie: 'a'.repeat(1024) } })).status).toBe(200);
  });
});

const gates: Array<() => void> = [];

/** Holds the legacy upstream's answers until released (at the latest after the test). */
function holdAnswers(upstream: TestUpstream): { release(): void; held: () => number } {
  const waiting: Array<() => void> = [];
  gates.push(() => {
    for (const answer of waiting.splice(0)) answer();
  });
  upstream.behave((req, res: ServerResponse, body) => {
    waiting.push(() => {
      const answer = JSON.stringify({ url: req.url, body: body.toString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  return {
    release: () => {
      upstream.restore();
      for (const answer of waiting.splice(0)) answer();
    },
    held: () => waiting.length,
  };
}

describe('the fast lane bounds', () => {
  let upstreams: Upstreams;
  let subject: ProxyUnderTest;

  beforeAll(async () => {
    upstreams = await startUpstreams();
    subject = await startTestProxy(upstreams, { proxy: { maxPipelinedBytes: 1024, connectionsPerUpstream: 1, maxWaitersPerUpstream: 1 } });
  });
  afterAll(() => stopTestProxy(subject, upstreams));
  afterEach(() => {
    upstreams.legacy.restore();
    for (const release of gates.splice(0)) release();
    resetSeenAndFlags(subject, upstreams);
  });

  it('stops reading a client whose pipelined requests pass maxPipelinedBytes while one is served, then answers every one in order', async () => {
    const gate = holdAnswers(upstreams.legacy);
    const pipelined = Array.from({ length: 60 }, (_, i) => `GET /items/${i} HTTP/1.1\r\nHost: proxy.test\r\nX-Pad: ${'p'.repeat(40)}\r\n\r\n`).join('');
    const received = await new Promise<string>((resolve, reject) => {
      const { port } = new URL(subject.url);
      let text = '';
      const socket: Socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('GET /health HTTP/1.1\r\nHost: proxy.test\r\n\r\n');
        socket.write(pipelined);
        socket.write('GET /health HTTP/1.1\r\nHost: proxy.test\r\nConnection: close\r\n\r\n');
      });
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      void eventually(async () => ((await metric(subject, /cutover_proxy_pipeline_held_total\{service="sync"\} (\d+)/)) > 0 && gate.held() === 1 ? true : undefined))
        .then(() => gate.release(), reject);
    });
    const urls = [...received.matchAll(/"url":"([^"]+)"/g)].map((match) => match[1]);
    expect(urls).toEqual(['/health', ...Array.from({ length: 60 }, (_, i) => `/items/${i}`), '/health']);
  });

  it('answers 503 to a request that would wait for a busy upstream connection past maxWaitersPerUpstream, and serves the others', async () => {
    const gate = holdAnswers(upstreams.legacy);
    const first = call(`${subject.url}/items/1`);
    await eventually(() => (gate.held() === 1 ? true : undefined));
    const second = call(`${subject.url}/items/2`);
    // The second waits for the one connection (the waiters' bound is 1): the third has no place.
    await eventually(async () => ((await metric(subject, /cutover_proxy_requests_total\{service="sync",route="sync.items",mode="legacy",served_by="legacy"\} (\d+)/)) >= 2 ? true : undefined));
    const third = await call(`${subject.url}/items/3`);
    expect(third.status).toBe(503);
    expect(JSON.parse(third.body.toString())).toMatchObject({ code: 'CUTOVER_ERR_UPSTREAM_BUSY' });
    gate.release();
    const answers = await Promise.all([first, second]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    // The second waited in the pool and got the connection once the first answer was complete.
    expect(upstreams.legacy.seen.map((seen) => seen.url)).toEqual(['/items/1', '/items/2']);
  });
});
