// A shadow copy travels on the shadow pool's raw keep-alive connections: the proxy writes its
// head and framing, reads the answer with the lane's strict parser and keeps the body's payload
// up to the capture bound. A scripted TCP upstream on an ephemeral port shows the bytes each way.
import { createServer, type Server, type Socket } from 'node:net';
import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { SideResult } from '../../proxy/serving/capture.js';
import type { ReplayableRequest } from '../../proxy/serving/forward.js';
import type { Upstream } from '../../proxy/serving/upstreams.js';
import { sendShadow } from '../../proxy/shadow/shadow.js';
import { SocketPool } from '../../proxy/wire/socket-pool.js';

/** What the scripted upstream answers to one request (its raw bytes), given the connection's request count so far. */
type Script = (request: string, connection: number, nth: number) => { answer: string; close?: boolean; reset?: boolean };

interface Scripted {
  server: Server;
  port: number;
  /** The raw bytes of each request, by connection. */
  requests: string[][];
}

/** Answers each complete request head (and the body its Content-Length announces) as `script` says. */
async function scriptedUpstream(script: Script): Promise<Scripted> {
  const requests: string[][] = [];
  const server = createServer((socket: Socket) => {
    const connection = requests.push([]) - 1;
    let pending = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (;;) {
        const headEnd = pending.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(pending.slice(0, headEnd))?.[1] ?? 0);
        const end = headEnd + 4 + length;
        if (pending.length < end) return;
        const request = pending.slice(0, end);
        pending = pending.slice(end);
        requests[connection]!.push(request);
        const { answer, close, reset } = script(request, connection, requests[connection]!.length - 1);
        if (reset) socket.destroy();
        else if (close) socket.end(answer);
        else socket.write(answer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, requests };
}

const opened: Array<{ server: Server; upstream: Upstream }> = [];
afterEach(async () => {
  for (const { server, upstream } of opened.splice(0)) {
    upstream.sockets.close();
    await upstream.pool.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function shadowUpstream(script: Script): Promise<Scripted & { upstream: Upstream }> {
  const scripted = await scriptedUpstream(script);
  const origin = `http://127.0.0.1:${scripted.port}`;
  const upstream: Upstream = {
    origin,
    url: origin,
    kind: 'shadow',
    pool: new Pool(origin),
    sockets: new SocketPool({ host: '127.0.0.1', port: scripted.port, max: 2, maxWaiters: 8, idleMs: 5_000, timeoutMs: 5_000, connectTimeoutMs: 1_000 }),
  };
  opened.push({ server: scripted.server, upstream });
  return { ...scripted, upstream };
}

const copy = (upstream: Upstream, request: ReplayableRequest, captureLimit = 1024) =>
  new Promise<SideResult>((resolve) => sendShadow(upstream, 'reimpl', request, { timeoutMs: 5_000, captureLimit }, resolve));
const ok = (body: string, headers = '') => `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n${headers}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('a shadow copy on raw sockets', () => {
  it('writes its own framing: the buffered body with its length, content-length: 0 on a bodiless POST, the upstream Host where the request has none', async () => {
    const { upstream, requests, port } = await shadowUpstream(() => ({ answer: ok('fine') }));
    await copy(upstream, { method: 'POST', path: '/jobs?x=1', headers: ['Host', 'county.example', 'Content-Length', '5', 'X-Trace', 'a'], body: Buffer.from('{"a":') });
    await copy(upstream, { method: 'POST', path: '/jobs', headers: ['Host', 'county.example'], body: null });
    await copy(upstream, { method: 'GET', path: '/status', headers: [], body: null });
    expect(requests.flat()).toEqual([
      'POST /jobs?x=1 HTTP/1.1\r\nHost: county.example\r\nContent-Length: 5\r\nX-Trace: a\r\n\r\n{"a":',
      'POST /jobs HTTP/1.1\r\nHost: county.example\r\ncontent-length: 0\r\n\r\n',
      `GET /status HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`,
    ]);
    // Three copies one after the other, one kept-alive connection.
    expect(requests.length).toBe(1);
  });

  it('keeps a chunked answer as its payload, skips an interim 100, and reuses the connection', async () => {
    const chunked = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-side: reimpl\r\n\r\n4;ext=1\r\n{"a"\r\n4\r\n:12}\r\n0\r\nx-trailer: t\r\n\r\n';
    const { upstream, requests } = await shadowUpstream((_request, _connection, nth) => ({ answer: nth === 0 ? chunked : ok('second') }));
    const first = await copy(upstream, { method: 'GET', path: '/a', headers: ['Host', 'h'], body: null });
    expect({ status: first.status, failure: first.failure, body: first.body.toString(), header: first.headers['x-side'], truncated: first.truncated }).toEqual({
      status: 200,
      failure: undefined,
      body: '{"a":12}',
      header: 'reimpl',
      truncated: false,
    });
    const second = await copy(upstream, { method: 'GET', path: '/b', headers: ['Host', 'h'], body: null });
    expect(second.body.toString()).toBe('second');
    expect(requests.map((connection) => connection.length)).toEqual([2]);
  });

  it('calls an answer that cannot be framed unambiguously malformed, and drops its connection', async () => {
    const { upstream, requests } = await shadowUpstream((_request, connection) => ({
      answer: connection === 0 ? 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' : ok('next'),
    }));
    const broken = await copy(upstream, { method: 'GET', path: '/a', headers: ['Host', 'h'], body: null });
    expect([broken.status, broken.failure?.code]).toEqual([undefined, 'CUTOVER_ERR_UPSTREAM_MALFORMED']);
    const next = await copy(upstream, { method: 'GET', path: '/b', headers: ['Host', 'h'], body: null });
    expect(next.body.toString()).toBe('next');
    expect(requests.map((connection) => connection.length)).toEqual([1, 1]);
  });

  it('calls broken chunk framing in the body malformed, with the status it had', async () => {
    const { upstream } = await shadowUpstream(() => ({ answer: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n' }));
    const broken = await copy(upstream, { method: 'GET', path: '/a', headers: ['Host', 'h'], body: null });
    expect([broken.status, broken.failure?.code, broken.failure?.afterStatus]).toEqual([undefined, 'CUTOVER_ERR_UPSTREAM_MALFORMED', 200]);
  });

  it('stops at the capture bound: the answer kept as truncated, its connection not read on nor reused', async () => {
    const { upstream, requests } = await shadowUpstream((_request, connection) => ({ answer: connection === 0 ? ok('x'.repeat(4096)) : ok('small') }));
    const large = await copy(upstream, { method: 'GET', path: '/a', headers: ['Host', 'h'], body: null }, 100);
    expect([large.status, large.failure, large.truncated, large.body.length]).toEqual([200, undefined, true, 100]);
    const small = await copy(upstream, { method: 'GET', path: '/b', headers: ['Host', 'h'], body: null });
    expect(small.body.toString()).toBe('small');
    expect(requests.map((connection) => connection.length)).toEqual([1, 1]);
  });

  it('cuts an answer whose Content-Length passes the bound as soon as its head is in, without reading on to the bound', async () => {
    // 64 MiB announced, 3 bytes sent, then nothing: a copy that read on to its 1 KiB bound would wait here until its timeout.
    const { upstream, requests } = await shadowUpstream((_request, connection) => ({ answer: connection === 0 ? 'HTTP/1.1 200 OK\r\ncontent-length: 67108864\r\n\r\nabc' : ok('small') }));
    const huge = await copy(upstream, { method: 'GET', path: '/huge', headers: ['Host', 'h'], body: null });
    expect([huge.status, huge.failure, huge.truncated, huge.body.toString()]).toEqual([200, undefined, true, 'abc']);
    // Its connection is not used again.
    expect((await copy(upstream, { method: 'GET', path: '/b', headers: ['Host', 'h'], body: null })).body.toString()).toBe('small');
    expect(requests.map((connection) => connection.length)).toEqual([1, 1]);
  });

  it('reads an answer framed by the close to the close', async () => {
    const { upstream } = await shadowUpstream(() => ({ answer: 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end', close: true }));
    const answer = await copy(upstream, { method: 'GET', path: '/a', headers: ['Host', 'h'], body: null });
    expect([answer.status, answer.failure, answer.body.toString()]).toEqual([200, undefined, 'until the end']);
  });

  it('sends an idempotent copy once more when its kept-alive connection is cut under it, and never a copy with a body', async () => {
    // Each connection answers its first request kept alive and cuts itself on the second, as an upstream closing an idle connection just as it is reused.
    const { upstream, requests } = await shadowUpstream((_request, _connection, nth) => (nth === 0 ? { answer: ok('first') } : { answer: '', reset: true }));
    expect((await copy(upstream, { method: 'GET', path: '/warm', headers: ['Host', 'h'], body: null })).body.toString()).toBe('first');
    const get = await copy(upstream, { method: 'GET', path: '/again', headers: ['Host', 'h'], body: null });
    expect([get.status, get.body.toString()]).toEqual([200, 'first']);
    // The GET went out twice: cut on the warm connection, answered on a new one, which is now the warm one.
    expect(requests.map((connection) => connection.map((request) => request.split(' ')[1]))).toEqual([['/warm', '/again'], ['/again']]);
    const post = await copy(upstream, { method: 'POST', path: '/write', headers: ['Host', 'h'], body: Buffer.from('{}') });
    expect([post.status, post.failure?.code]).toEqual([undefined, 'CUTOVER_ERR_UPSTREAM_FAILED']);
    expect(requests.flat().filter((request) => request.startsWith('POST /write')).length).toBe(1);
  });

  it('gives up each copy at its own timeout, counted from its send, whichever settled before it', async () => {
    // Requests to /hang get no answer; the others are answered at once.
    const { upstream } = await shadowUpstream((request) => ({ answer: request.startsWith('GET /hang') ? '' : ok('fine') }));
    const timed = (path: string, timeoutMs: number) => {
      const sent = performance.now();
      return new Promise<{ code: string | undefined; afterMs: number }>((resolve) =>
        sendShadow(upstream, 'reimpl', { method: 'GET', path, headers: ['Host', 'h'], body: null }, { timeoutMs, captureLimit: 1024 }, (result) =>
          resolve({ code: result.failure?.code, afterMs: performance.now() - sent }),
        ),
      );
    };
    const first = timed('/hang/1', 150);
    const answered = timed('/fine', 150);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const second = timed('/hang/2', 150);
    const longer = timed('/hang/3', 400);
    const results = await Promise.all([first, answered, second, longer]);
    expect(results.map((result) => result.code)).toEqual(['CUTOVER_ERR_SHADOW_TIMEOUT', undefined, 'CUTOVER_ERR_SHADOW_TIMEOUT', 'CUTOVER_ERR_SHADOW_TIMEOUT']);
    // Never before its own deadline (the timer clock is in whole milliseconds: 1 ms of slack).
    expect(results[0]!.afterMs).toBeGreaterThanOrEqual(149);
    expect(results[2]!.afterMs).toBeGreaterThanOrEqual(149);
    expect(results[3]!.afterMs).toBeGreaterThanOrEqual(399);
  });

  it('ends nothing when the exchange throws as the copy settles: not on an answer, a cut connection or a deadline, and the pool serves the next copy', async () => {
    const { upstream } = await shadowUpstream((request) =>
      request.startsWith('POST /hang') ? { answer: '' } : request.startsWith('POST /cut') ? { answer: '', reset: true } : { answer: ok('fine') },
    );
    const settled: string[] = [];
    const throwing = (path: string, timeoutMs = 5_000) =>
      new Promise<void>((resolve) =>
        sendShadow(upstream, 'reimpl', { method: 'POST', path, headers: ['Host', 'h'], body: null }, { timeoutMs, captureLimit: 1024 }, (result) => {
          settled.push(`${path} ${result.failure?.code ?? result.status}`);
          resolve();
          throw new Error('injected: the exchange threw as its copy settled');
        }),
      );
    // An escaped throw would fail this run as an uncaught exception from the socket or the timer.
    await Promise.all([throwing('/fine'), throwing('/cut'), throwing('/hang', 100)]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled.sort()).toEqual(['/cut CUTOVER_ERR_UPSTREAM_FAILED', '/fine 200', '/hang CUTOVER_ERR_SHADOW_TIMEOUT']);
    expect((await copy(upstream, { method: 'GET', path: '/after', headers: ['Host', 'h'], body: null })).body.toString()).toBe('fine');
  });

  it('fails a copy to an upstream that refuses connections as unreachable', async () => {
    const { upstream, server } = await shadowUpstream(() => ({ answer: ok('never') }));
    await new Promise((resolve) => server.close(resolve));
    const refused = await copy(upstream, { method: 'GET', path: '/a', headers: ['Host', 'h'], body: null });
    expect(refused.failure?.code).toBe('CUTOVER_ERR_UPSTREAM_UNREACHABLE');
  });
});
