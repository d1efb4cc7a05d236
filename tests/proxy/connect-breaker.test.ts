// A shadow side that refuses connections is not dialled for every copy: after a few failed
// connects in a row the shadow pool fails copies at once, with the same failure, and tries
// again now and then. Real sockets on ephemeral ports: a port whose server was closed refuses.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketPool, type PooledSocket } from '../../proxy/wire/socket-pool.js';
import { call, eventually, startTestProxy, startUpstreams, stopTestProxy, type ProxyUnderTest, type Upstreams } from './harness.js';

/** A port that refused connections when this returned: its server listened once and was closed. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What one acquire got, and whether it got it before acquire returned (no connect was tried). */
interface Outcome {
  error: (Error & { code?: string }) | undefined;
  pooled: PooledSocket | undefined;
  atOnce: boolean;
}

function acquire(pool: SocketPool): Promise<Outcome> {
  return new Promise((resolve) => {
    let returned = false;
    pool.acquire({ acquired: (error, pooled) => resolve({ error, pooled, atOnce: !returned }) });
    returned = true;
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let pool: SocketPool | undefined;
let listening: Server | undefined;
afterEach(async () => {
  pool?.close();
  pool = undefined;
  await new Promise((resolve) => (listening ? listening.close(resolve) : resolve(undefined)));
  listening = undefined;
});

// Windows wide enough that a loaded CI machine's pauses between two steps of a test do not end them.
const breaker = { failures: 3, retryMs: 500, maxRetryMs: 1_000 };
const poolTo = (port: number, connectBreaker?: typeof breaker) =>
  new SocketPool({ host: '127.0.0.1', port, max: 4, maxWaiters: 4, idleMs: 5_000, timeoutMs: 5_000, connectTimeoutMs: 1_000, ...(connectBreaker ? { connectBreaker } : {}) });

describe('the shadow pool facing an upstream that refuses connections', () => {
  it('dials until `failures` connects in a row failed, then fails callers at once with the same code', async () => {
    const port = await refusedPort();
    pool = poolTo(port, breaker);
    for (let attempt = 0; attempt < 3; attempt++) {
      const dialled = await acquire(pool);
      expect(dialled).toMatchObject({ atOnce: false, error: { code: 'ECONNREFUSED' } });
      expect(dialled.error!.message).not.toMatch(/not attempted/);
    }
    const skipped = await acquire(pool);
    expect(skipped.atOnce).toBe(true);
    expect(skipped.error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(skipped.error!.message).toMatch(new RegExp(`^not attempted: the last 3 connections to 127\\.0\\.0\\.1:${port} failed \\(.*ECONNREFUSED.*\\); the next attempt in at most 500 ms$`));
  });

  it('tries one connect once retryMs has passed, and dials as before when it succeeds', async () => {
    const port = await refusedPort();
    pool = poolTo(port, breaker);
    for (let attempt = 0; attempt < 3; attempt++) await acquire(pool);
    expect((await acquire(pool)).atOnce).toBe(true);
    // The upstream is back on its port.
    let accepted = 0;
    listening = createServer((socket) => {
      accepted++;
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => listening!.listen(port, '127.0.0.1', resolve));
    // Within retryMs the pool still does not dial.
    expect((await acquire(pool)).atOnce).toBe(true);
    await sleep(breaker.retryMs + 50);
    const retried = await acquire(pool);
    expect(retried).toMatchObject({ atOnce: false, error: undefined });
    const next = await acquire(pool);
    expect(next).toMatchObject({ atOnce: false, error: undefined });
    expect(accepted).toBe(2);
    for (const { pooled } of [retried, next]) pool.discard(pooled!);
  });

  it('while the try is out, fails the others at once; a failed try doubles the wait, up to maxRetryMs', async () => {
    const port = await refusedPort();
    pool = poolTo(port, breaker);
    for (let attempt = 0; attempt < 3; attempt++) await acquire(pool);
    await sleep(breaker.retryMs + 50);
    const trying = acquire(pool);
    const meanwhile = await acquire(pool);
    expect(meanwhile.atOnce).toBe(true);
    expect(await trying).toMatchObject({ atOnce: false, error: { code: 'ECONNREFUSED' } });
    const doubled = await acquire(pool);
    expect(doubled.atOnce).toBe(true);
    expect(doubled.error!.message).toMatch(/the last 4 connections .* the next attempt in at most 1000 ms$/);
    await sleep(breaker.maxRetryMs + 50);
    expect(await acquire(pool)).toMatchObject({ atOnce: false, error: { code: 'ECONNREFUSED' } });
    // Capped: 2 x 1000 would be 2000.
    expect((await acquire(pool)).error!.message).toMatch(/the next attempt in at most 1000 ms$/);
  });

  it('without a breaker (the serving pools) dials for every caller: each client is owed its own attempt', async () => {
    const port = await refusedPort();
    pool = poolTo(port);
    for (let attempt = 0; attempt < 8; attempt++) expect(await acquire(pool)).toMatchObject({ atOnce: false, error: { code: 'ECONNREFUSED' } });
  });
});

describe('a proxy whose shadow side goes down and comes back', () => {
  let upstreams: Upstreams | undefined;
  let subject: ProxyUnderTest | undefined;
  let returned: HttpServer | undefined;
  afterEach(async () => {
    if (subject && upstreams) await stopTestProxy(subject, upstreams);
    await new Promise((resolve) => (returned ? returned.close(resolve) : resolve(undefined)));
    [subject, upstreams, returned] = [undefined, undefined, undefined];
  });

  it('serves every request from legacy, records every copy while it is down as errored (unreachable), and compares again once it is back', async () => {
    upstreams = await startUpstreams();
    subject = await startTestProxy(upstreams, { proxy: { shadow: { connectBreaker: { failures: 2, retryMs: 100, maxRetryMs: 200 } } } });
    subject.flags.set('sync.health', 'shadow');
    const shadowPort = upstreams.reimpl.port;
    await upstreams.reimpl.close();
    for (let request = 0; request < 20; request++) {
      const answer = await call(`${subject.url}/health`);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString())).toMatchObject({ side: 'legacy' });
    }
    // Skipped or dialled, every copy is evidence that the shadow side was unreachable: none is missing, none matched.
    const down = await eventually(async () => {
      const rows = await subject!.store.list({ routeId: 'sync.health' });
      return rows.length >= 20 ? rows : undefined;
    });
    expect(down).toHaveLength(20);
    for (const observation of down) expect(observation).toMatchObject({ verdict: 'errored', erroredSide: 'shadow', shadow: { error: 'CUTOVER_ERR_UPSTREAM_UNREACHABLE' } });
    // The shadow side is back on its address, answering as legacy does.
    let copies = 0;
    returned = createHttpServer((req, res) => {
      copies++;
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({ side: 'legacy', method: req.method, url: req.url, body: '' });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => returned!.listen(shadowPort, '127.0.0.1', resolve));
    await eventually(async () => {
      await call(`${subject!.url}/health`);
      return copies > 0 ? true : undefined;
    }, 5_000);
    const matched = await eventually(async () => (await subject!.store.list({ routeId: 'sync.health', verdict: 'matched' }))[0]);
    expect(matched.shadow.error).toBeNull();
  });
});
