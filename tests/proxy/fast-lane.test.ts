import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../proxy/start.js';
import { eventually, resetSeenAndFlags, startProxyWithLegacyAt, startTestProxy, startUpstreams, stopTestProxy, type ProxyUnderTest, type Upstreams } from './harness.js';

let upstreams: Upstreams;
let subject: ProxyUnderTest;

beforeAll(async () => {
  upstreams = await startUpstreams();
  subject = await startTestProxy(upstreams);
});
afterAll(() => stopTestProxy(subject, upstreams));
afterEach(() => resetSeenAndFlags(subject, upstreams));

interface RawAnswer {
  status: number;
  head: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A client on one raw connection that reads answers itself (its own minimal framing, Content-Length
 * and chunked, so the test does not trust the parser it checks).
 */
class RawClient {
  private received = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      for (const waiter of this.waiters.splice(0)) waiter();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.waiters.splice(0)) waiter();
    });
  }

  static open(url: string): Promise<RawClient> {
    const { port, hostname } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  private async more(): Promise<void> {
    if (this.closed) throw new Error(`connection closed; received so far: ${this.received.toString('latin1')}`);
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async answer(method = 'GET'): Promise<RawAnswer> {
    for (;;) {
      const end = this.received.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.received.toString('latin1', 0, end);
        const headers: Record<string, string> = {};
        for (const line of head.split('\r\n').slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        const status = Number(head.split(' ')[1]);
        const rest = this.received.subarray(end + 4);
        const body = method === 'HEAD' || status === 204 || status === 304 ? { body: Buffer.alloc(0), used: 0 } : decode(rest, headers);
        if (body) {
          this.received = rest.subarray(body.used);
          return { status, head, headers, body: body.body };
        }
      }
      await this.more();
    }
  }

  /** Everything received and not yet read as an answer. */
  unread(): string {
    return this.received.toString('latin1');
  }

  async closedByPeer(): Promise<boolean> {
    while (!this.closed) await this.more().catch(() => undefined);
    return true;
  }
}

function decode(rest: Buffer, headers: Record<string, string>): { body: Buffer; used: number } | undefined {
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const line = rest.indexOf('\r\n', at);
      if (line < 0) return undefined;
      const size = parseInt(rest.toString('latin1', at, line), 16);
      if (size === 0) {
        const end = rest.indexOf('\r\n\r\n', line);
        return end < 0 ? undefined : { body: Buffer.concat(parts), used: end + 4 };
      }
      if (rest.length < line + 2 + size + 2) return undefined;
      parts.push(rest.subarray(line + 2, line + 2 + size));
      at = line + 2 + size + 2;
    }
  }
  const length = Number(headers['content-length'] ?? 0);
  return rest.length >= length ? { body: rest.subarray(0, length), used: length } : undefined;
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: proxy.test\r\n${extra}\r\n`;

describe('the fast lane', () => {
  it('answers pipelined requests on one connection in order, handing the connection to node:http at the first shadowed route', async () => {
    subject.flags.set('sync.items', 'shadow');
    const client = await RawClient.open(subject.url);
    client.send(get('/health') + get('/items/7') + get('/health'));
    const answers = [await client.answer(), await client.answer(), await client.answer()];
    expect(answers.map((answer) => [answer.status, answer.headers['x-cutover-route'], JSON.parse(answer.body.toString()).url])).toEqual([
      [200, 'sync.health', '/health'],
      [200, 'sync.items', '/items/7'],
      [200, 'sync.health', '/health'],
    ]);
    await eventually(() => (upstreams.reimpl.seen.length === 1 ? true : undefined));
    expect(upstreams.reimpl.seen[0]!.url).toBe('/items/7');
    // node:http starts pipelined requests as it parses them, so legacy may see them in another order; the client never does.
    expect(upstreams.legacy.seen.map((seen) => seen.url).sort()).toEqual(['/health', '/health', '/items/7']);
    client.socket.destroy();
  });

  it('relays a chunked answer in its chunks and a chunked request body in its chunks', async () => {
    upstreams.legacy.behave((_req, res, body) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first,');
      setTimeout(() => res.end(`second:${body.toString()}`), 5);
    });
    try {
      const client = await RawClient.open(subject.url);
      client.send('POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      client.send('6;ext=1\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n');
      const answer = await client.answer();
      expect(answer.headers['transfer-encoding']).toBe('chunked');
      expect(answer.body.toString()).toBe('first,second:hello world');
      expect(upstreams.legacy.seen[0]!.headers['transfer-encoding']).toBe('chunked');
      // The connection carries the next request.
      client.send(get('/health'));
      expect((await client.answer()).status).toBe(200);
      client.socket.destroy();
    } finally {
      upstreams.legacy.restore();
    }
  });

  it('answers HEAD without a body and keeps the connection for the next request', async () => {
    const client = await RawClient.open(subject.url);
    client.send(`HEAD /health HTTP/1.1\r\nHost: proxy.test\r\n\r\n${get('/health')}`);
    const head = await client.answer('HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    const next = await client.answer();
    expect(JSON.parse(next.body.toString()).url).toBe('/health');
    client.socket.destroy();
  });

  it('closes the connection after answering a request that asked for it', async () => {
    const client = await RawClient.open(subject.url);
    client.send(get('/health', 'Connection: close\r\n'));
    const answer = await client.answer();
    expect(answer.headers.connection).toBe('close');
    expect(await client.closedByPeer()).toBe(true);
  });

  it('passes HTTP/1.0, Expect: 100-continue and ambiguous framing to node:http, which answers them as it always did', async () => {
    const old = await RawClient.open(subject.url);
    old.send('GET /health HTTP/1.0\r\nHost: proxy.test\r\n\r\n');
    expect(await old.answer()).toMatchObject({ status: 200, headers: { 'x-cutover-route': 'sync.health' } });
    old.socket.destroy();

    const expecting = await RawClient.open(subject.url);
    expecting.send('POST /echo HTTP/1.1\r\nHost: proxy.test\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n');
    expect((await expecting.answer()).status).toBe(100);
    expecting.send('hi');
    const echoed = await expecting.answer();
    expect(JSON.parse(echoed.body.toString()).body).toBe('hi');
    expecting.socket.destroy();

    const smuggling = await RawClient.open(subject.url);
    smuggling.send('POST /echo HTTP/1.1\r\nHost: proxy.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    expect((await smuggling.answer()).status).toBe(400);
    expect(upstreams.legacy.seen.filter((seen) => seen.method === 'POST')).toHaveLength(1);
    smuggling.socket.destroy();
  });
});

describe('the fast lane against an upstream that misbehaves', () => {
  let upstream: Server;
  let proxy: RunningProxy;
  let connections = 0;
  /** What the raw upstream does with the n-th request of a connection (1-based). */
  let onRequest: (socket: Socket, nth: number, request: string) => void;

  beforeAll(async () => {
    upstream = createServer((socket) => {
      connections++;
      let nth = 0;
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1');
        // Requests without bodies, or with a body in the same packet, are all this upstream needs.
        while (buffered.includes('\r\n\r\n')) {
          const end = buffered.indexOf('\r\n\r\n') + 4;
          const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
          if (buffered.length < end + length) return;
          const request = buffered.slice(0, end + length);
          buffered = buffered.slice(end + length);
          onRequest(socket, ++nth, request);
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    proxy = await startProxyWithLegacyAt(upstreams, (upstream.address() as AddressInfo).port);
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  const ok = (socket: Socket, text: string) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${text.length}\r\n\r\n${text}`);

  it('sends an idempotent request once more on a new connection when the kept-alive one it reused was closed, and never repeats a POST', async () => {
    // Each connection answers its first request and drops the second unanswered, as an upstream closing an idle connection would.
    onRequest = (socket, nth, request) => (nth === 1 ? ok(socket, `answer on connection ${connections} to ${request.split(' ')[0]}`) : socket.destroy());
    connections = 0;
    const client = await RawClient.open(proxy.urls.sync!);
    client.send(get('/health'));
    expect((await client.answer()).body.toString()).toBe('answer on connection 1 to GET');
    client.send(get('/health'));
    expect((await client.answer()).body.toString()).toBe('answer on connection 2 to GET');
    expect(connections).toBe(2);

    client.send('POST /echo HTTP/1.1\r\nHost: proxy.test\r\nContent-Length: 2\r\n\r\nhi');
    const refused = await client.answer();
    expect(refused.status).toBe(502);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ code: 'CUTOVER_ERR_UPSTREAM_FAILED', route: 'sync.echo', side: 'legacy' });
    expect(connections).toBe(2);
    client.socket.destroy();
  });

  it('answers 502 and stays up when the upstream sends something that is not HTTP', async () => {
    onRequest = (socket) => socket.end('\x00\x01garbage\r\n\r\n');
    const client = await RawClient.open(proxy.urls.sync!);
    client.send(get('/health'));
    const answer = await client.answer();
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body.toString()).code).toBe('CUTOVER_ERR_UPSTREAM_MALFORMED');
    onRequest = (socket) => ok(socket, 'fine');
    client.send(get('/health'));
    expect((await client.answer()).body.toString()).toBe('fine');
    client.socket.destroy();
  });

  it('relays an answer framed by the close of the upstream connection, then closes the client connection', async () => {
    onRequest = (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end');
    const client = await RawClient.open(proxy.urls.sync!);
    client.send(get('/health'));
    await client.closedByPeer();
    const text = client.unread();
    expect(text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(text).toMatch(/\r\nConnection: close\r\n/);
    expect(text.endsWith('\r\n\r\nuntil the end')).toBe(true);
  });
});

describe('the fast lane and a client slower than the upstream timeout', () => {
  it('keeps relaying to a client that stops reading for longer than the upstream timeout: the upstream is not the slow one', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 0x61);
    upstreams.legacy.behave((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': big.length });
      res.end(big);
    });
    const slow = await startTestProxy(upstreams, { proxy: { upstreamTimeoutMs: 300 } });
    try {
      const { port } = new URL(slow.url);
      const received = await new Promise<number>((resolve, reject) => {
        let bytes = 0;
        let paused = false;
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(get('/health', 'Connection: close\r\n')));
        socket.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (!paused) {
            paused = true;
            socket.pause();
            setTimeout(() => socket.resume(), 900);
          }
        });
        socket.on('end', () => resolve(bytes));
        socket.on('error', reject);
      });
      expect(received).toBeGreaterThan(big.length);
    } finally {
      await slow.proxy.close();
      upstreams.legacy.restore();
    }
  });
});

