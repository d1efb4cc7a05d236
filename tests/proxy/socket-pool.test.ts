import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketPool, type PooledSocket } from '../../proxy/wire/socket-pool.js';

/** A TCP server on an ephemeral port that keeps every connection it accepted, and when each closed. */
async function countingServer(): Promise<{ server: Server; port: number; accepted: Socket[]; closed: number[] }> {
  const accepted: Socket[] = [];
  const closed: number[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.on('close', () => closed.push(performance.now()));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, accepted, closed };
}

const lend = (pool: SocketPool) =>
  new Promise<PooledSocket>((resolve, reject) => pool.acquire({ acquired: (error, pooled) => (error || !pooled ? reject(error) : resolve(pooled)) }));
const until = async (check: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
};

let server: Server | undefined;
let pool: SocketPool | undefined;
afterEach(async () => {
  pool?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe('the fast lane socket pool', () => {
  it('lends a connection with the upstream timeout set once, and lends the same one again while it idles', async () => {
    const upstream = await countingServer();
    server = upstream.server;
    pool = new SocketPool({ host: '127.0.0.1', port: upstream.port, max: 4, maxWaiters: 4, idleMs: 5_000, timeoutMs: 1_234, connectTimeoutMs: 1_000 });
    const first = await lend(pool);
    expect(first.socket.timeout).toBe(1_234);
    pool.release(first);
    const again = await lend(pool);
    expect(again).toBe(first);
    expect(again.reused).toBe(true);
    expect(again.socket.timeout).toBe(1_234);
    expect(upstream.accepted).toHaveLength(1);
  });

  it('closes a connection idle for idleMs, within a sweep period after it, and not one that is lent', async () => {
    const upstream = await countingServer();
    server = upstream.server;
    const idleMs = 200;
    pool = new SocketPool({ host: '127.0.0.1', port: upstream.port, max: 4, maxWaiters: 4, idleMs, timeoutMs: 60_000, connectTimeoutMs: 1_000 });
    const [idle, busy] = await Promise.all([lend(pool), lend(pool)]);
    const releasedAt = performance.now();
    pool.release(idle);
    await until(() => upstream.closed.length > 0, 2_000);
    expect(upstream.closed).toHaveLength(1);
    const after = upstream.closed[0]! - releasedAt;
    expect(after).toBeGreaterThanOrEqual(idleMs - 5);
    expect(idle.socket.destroyed).toBe(true);
    // The lent one stays open however long it is lent.
    await new Promise((resolve) => setTimeout(resolve, idleMs * 2));
    expect(busy.socket.destroyed).toBe(false);
    expect(upstream.closed).toHaveLength(1);
    pool.release(busy);
    const next = await lend(pool);
    expect(next).toBe(busy);
  });

  it("hands each read to the connection's user as bytes of its own, which later reads into the shared buffer do not overwrite", async () => {
    const upstream = await countingServer();
    server = upstream.server;
    pool = new SocketPool({ host: '127.0.0.1', port: upstream.port, max: 2, maxWaiters: 2, idleMs: 5_000, timeoutMs: 5_000, connectTimeoutMs: 1_000 });
    const [first, second] = await Promise.all([lend(pool), lend(pool)]);
    const kept: Buffer[] = [];
    const user = (into: Buffer[]) => ({ onData: (chunk: Buffer) => into.push(chunk), onEnd() {}, onClose() {}, onError() {}, onTimeout() {}, onDrain() {} });
    const other: Buffer[] = [];
    first.user = user(kept);
    second.user = user(other);
    await until(() => upstream.accepted.length === 2, 1_000);
    const [a, b] = upstream.accepted;
    // The first connection's bytes are kept; then both connections read again, into the same buffer.
    a!.write('first answer');
    await until(() => kept.length === 1, 1_000);
    b!.write('x'.repeat(5_000));
    a!.write('second answer');
    await until(() => kept.length === 2 && other.join('').length === 5_000, 1_000);
    expect(kept.map((chunk) => chunk.toString())).toEqual(['first answer', 'second answer']);
    expect(other.join('')).toBe('x'.repeat(5_000));
    pool.discard(first);
    pool.discard(second);
  });
});
