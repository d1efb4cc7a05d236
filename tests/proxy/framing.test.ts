// Strict HTTP/1.1 framing (RFC 9112) on both transports of a front door: a request whose end two
// parsers could read differently gets 400 and a closed connection, and the upstream never sees
// it nor anything sent after it; an answer that could be split gets 502. The confirmed
// smuggling case: `POST /health` with `Connection: content-length`, whose body is a whole
// `POST /plugins/v1/gis-export/run` that an upstream would otherwise run as a second request.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../proxy/start.js';
import { rawRequest, resetSeenAndFlags, startProxyWithLegacyAt, startTestProxy, startUpstreams, stopTestProxy, type ProxyUnderTest, type TestUpstream, type Upstreams } from './harness.js';

const hidden = 'POST /plugins/v1/gis-export/run HTTP/1.1\r\nHost: legacy\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{"county_id":"benton_wa"}\r\n';
/** The confirmed case: Content-Length covers the hidden request, and Connection asks the proxy to drop it. */
export const smuggling = `POST /health HTTP/1.1\r\nHost: proxy.test\r\nConnection: content-length\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}`;
const next = 'GET /health HTTP/1.1\r\nHost: proxy.test\r\n\r\n';

/** Refused requests; a valid one is pipelined after each, which the upstream must not see either. */
const refused: Array<[string, string]> = [
  ['Connection naming Transfer-Encoding', 'POST /echo HTTP/1.1\r\nHost: x\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
  ['HTTP/1.0 with Connection naming Content-Length', `POST /health HTTP/1.0\r\nHost: x\r\nConnection: content-length\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}`],
  ['Content-Length beside Transfer-Encoding (CL.TE)', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['two differing Content-Lengths', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\nhi'],
  ['a coding before chunked (TE.TE)', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding on HTTP/1.0', 'POST /echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['an obs-fold', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n'],
  ['a bare LF in the head', 'GET /health HTTP/1.1\r\nHost: x\nX-A: a\r\n\r\n'],
  ['a control character in a value', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x0bb\r\n\r\n'],
  ['a bare LF in a chunk trailer', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: y\n\r\n'],
  ['a bare CR in a chunk extension', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n'],
  ['two Host headers', 'GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
  ['two Host headers on HTTP/1.0', 'GET /health HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n'],
  ['a target that is neither a path nor an http(s) URL', 'GET ttp://proxy.test/health HTTP/1.1\r\nHost: x\r\n\r\n'],
];

describe.each([
  ['the fast lane', true],
  ['the node:http path', false],
])('strict framing on %s', (_path, fastLane) => {
  let upstreams: Upstreams;
  let subject: ProxyUnderTest;

  beforeAll(async () => {
    upstreams = await startUpstreams();
    subject = await startTestProxy(upstreams, { proxy: { fastLane } });
  });
  afterAll(() => stopTestProxy(subject, upstreams));
  afterEach(() => resetSeenAndFlags(subject, upstreams));

  const seenAnywhere = () => (Object.values(upstreams) as TestUpstream[]).flatMap((upstream) => upstream.seen.map((seen) => `${seen.method} ${seen.url}`));

  it('refuses the confirmed smuggling case with 400, closes the connection, and no upstream sees the hidden request', async () => {
    const answer = await rawRequest(subject.url, smuggling + next);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'CUTOVER_ERR_REQUEST_MALFORMED' });
    // One answer only: the pipelined GET after it was not served either.
    expect(answer.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
    expect(seenAnywhere()).toEqual([]);
    const metrics = await subject.proxy.metrics.registry.metrics();
    expect(metrics).toMatch(/cutover_proxy_requests_refused_total\{service="sync",reason="framing"\} [1-9]/);
  });

  it('refuses it the same when the route is shadowed', async () => {
    subject.flags.set('sync.echo', 'shadow');
    const answer = await rawRequest(subject.url, smuggling.replace('POST /health', 'POST /echo') + next);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(seenAnywhere()).toEqual([]);
  });

  it.each(refused)('refuses %s with 400, and the upstream sees nothing of that connection', async (_what, text) => {
    const answer = await rawRequest(subject.url, text + next);
    // llhttp's own refusals (node:http's clientError) are a bare 400, the proxy's carry their code; bytes after them may get another.
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).not.toMatch(/HTTP\/1\.1 [^4]\d\d /);
    expect(seenAnywhere()).toEqual([]);
  });

  it('still serves what is well framed, on the same connection, in order', async () => {
    const answer = await rawRequest(subject.url, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi${next.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')}`);
    expect(answer.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    expect(seenAnywhere()).toEqual(['POST /echo', 'GET /health']);
  });
});

describe.each([
  ['the fast lane', true],
  ['the node:http path', false],
])('the proxy writes the chunk framing itself and holds answers to the same rules, on %s', (_path, fastLane) => {
  let upstream: Server;
  let received = '';
  let answer = '';
  let proxy: RunningProxy;
  let others: Upstreams;

  beforeAll(async () => {
    upstream = createServer((socket: Socket) => {
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        // Answers once the request is complete: its Content-Length read, its last chunk in, or at once without a body.
        const length = /\r\ncontent-length: *(\d+)/i.exec(received.slice(0, end));
        const complete = length ? received.length >= end + 4 + Number(length[1]) : /transfer-encoding/i.test(received.slice(0, end)) ? received.endsWith('\r\n0\r\n\r\n') : true;
        if (complete) socket.write(answer);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    others = await startUpstreams();
    proxy = await startProxyWithLegacyAt(others, (upstream.address() as AddressInfo).port, { proxy: { fastLane } });
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all(Object.values(others).map((other: TestUpstream) => other.close()));
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('sends the upstream a chunked body in its own chunks: no client extension or trailer crosses', async () => {
    received = '';
    answer = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok';
    const reply = await rawRequest(proxy.urls.sync!, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
    const body = received.slice(received.indexOf('\r\n\r\n') + 4);
    expect(body).not.toContain('ext=1');
    expect(body).not.toContain('X-Trailer');
    // The lane re-chunks the payload, node:http's path (undici) sends it as it frames it: the payload is the same.
    const chunked = /transfer-encoding: chunked/i.test(received.slice(0, received.indexOf('\r\n\r\n')));
    expect(chunked ? body.replace(/(^|\r\n)[0-9a-f]+\r\n/g, '$1').replace(/\r\n/g, '') : body).toBe('hello world');
  });

  it.each([
    ['Connection naming Content-Length', 'HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 2\r\n\r\nok'],
    ['Content-Length beside Transfer-Encoding', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
    ['a header split by a bare LF', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: a\nSet-Cookie: injected=1\r\n\r\nok'],
    ['a coding before chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
  ])('answers 502 when the upstream answer has %s', async (_what, text) => {
    received = '';
    answer = text;
    const reply = await rawRequest(proxy.urls.sync!, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 502 /);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'CUTOVER_ERR_UPSTREAM_MALFORMED' });
    expect(reply).not.toContain('injected');
  });
});
