/** Port helpers: free ports for services started on ephemeral ports, and a clear error when a configured port is taken. */
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { CutoverError } from '../errors.js';

/**
 * Ports handed out for services started later (tests, stacks on ephemeral ports) come from
 * below the kernel's ephemeral range: a port the OS hands out for `listen(0)` is released
 * before the service binds it, and in that window any outgoing connection may take it as
 * its source port. Below the range only explicit binds compete. Each vitest worker
 * (VITEST_POOL_ID) walks its own slice, so concurrent workers never hand out the same port;
 * other processes start at an offset from their pid.
 */
const slices = 8;
let cursor: { next: number; base: number; size: number } | undefined | null;

function ephemeralRangeLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

function portCursor(): { next: number; base: number; size: number } | null {
  if (cursor !== undefined) return cursor;
  const low = 10_000;
  const high = ephemeralRangeLow() - 1;
  const size = Math.floor((high - low + 1) / slices);
  // Too narrow a range below the ephemeral one (a tuned kernel): let the OS choose.
  if (size < 500) return (cursor = null);
  const pool = Number(process.env.VITEST_POOL_ID ?? 0);
  const slice = pool > 0 ? (pool - 1) % slices : process.pid % slices;
  const base = low + slice * size;
  cursor = { base, size, next: (process.pid * 7919) % size };
  return cursor;
}

/** Binds host:port (0: a port the OS picks) and releases it: the port bound, or why it could not be. */
function bindAndRelease(port: number, host: string): Promise<{ port: number } | { error: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => resolve({ error }));
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve({ port: bound }));
    });
  });
}

/** Asks the OS for a free port on host (from the kernel's range). */
async function osPort(host: string): Promise<number> {
  const bound = await bindAndRelease(0, host);
  if ('error' in bound) throw bound.error;
  return bound.port;
}

/** A free port on host for a service to bind soon; never the same one twice in a process until its slice wraps. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const slice = portCursor();
  if (!slice) return osPort(host);
  for (let tried = 0; tried < slice.size; tried++) {
    const port = slice.base + slice.next;
    slice.next = (slice.next + 1) % slice.size;
    if ('port' in (await bindAndRelease(port, host))) return port;
  }
  return osPort(host);
}

/** Throws CUTOVER_ERR_PORT_IN_USE naming the service when host:port cannot be bound. */
export async function assertPortFree(host: string, port: number, owner: string): Promise<void> {
  const bound = await bindAndRelease(port, host);
  if (!('error' in bound)) return;
  const { error } = bound;
  throw new CutoverError('CUTOVER_ERR_PORT_IN_USE', `${owner} cannot listen on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is already in use' : error.message}`);
}

/** Whether a connection to host:port is refused (nothing listens there). */
function refuses(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    // A port that neither accepts nor refuses (dropped packets) is no use either, and must not hang the caller.
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** One refusing port per host, found once per process. */
const refusing = new Map<string, Promise<number>>();

/**
 * A port on host that refuses connections and goes on refusing: for "the other side is down".
 * Not one from `listen(0)` and closed again: that port is back in the kernel's ephemeral pool,
 * and a server another test file starts meanwhile can get it (CI saw a "refused" shadow answer
 * 200). Not one from `freePort` either: a service of another worker may bind it. Ports below
 * 1024 are never handed out by the kernel and nothing here binds them.
 */
export function refusingPort(host = '127.0.0.1'): Promise<number> {
  let found = refusing.get(host);
  if (!found) {
    found = (async () => {
      for (let port = 1; port < 1024; port++) if (await refuses(port, host)) return port;
      throw new CutoverError('CUTOVER_ERR_PORT_IN_USE', `every port below 1024 on ${host} accepts connections: no refusing port for a test`);
    })();
    refusing.set(host, found);
  }
  return found;
}
