/** Debian's haproxy in the foreground in front of `cutover proxy` instances, for the multi-instance test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/platform/ports.js';

export const haproxyBinary = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((path) => existsSync(path));

export interface Backend {
  name: string;
  /** The door haproxy sends requests to. */
  url: string;
  /** Where its readiness is checked (the instance's admin port, /readyz). */
  adminUrl: string;
}

export interface RunningHaproxy {
  url: string;
  child: ChildProcess;
  /** Each backend server's state as haproxy's health checks see it now (`UP`, `DOWN`, `UP 1/2`, ...). */
  serverStates(): Promise<Record<string, string>>;
  /** Resolves once haproxy's checks hold `server` in `state` (`UP` or `DOWN`); throws past the deadline. */
  waitForServer(server: string, state: 'UP' | 'DOWN', deadlineMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Round robin over the backends, each checked on its admin port's /readyz (down after three
 * failed checks: a killed instance's requests are retried meanwhile); a request that met a refused or cut connection, or no answer,
 * is retried on another instance (idempotent requests only: haproxy never replays one that
 * may have had an effect, and the test sends GETs).
 */
export function haproxyConfig(port: number, backends: readonly Backend[], statsSocket: string): string {
  const servers = backends.map((backend) => {
    const door = new URL(backend.url);
    const admin = new URL(backend.adminUrl);
    return `  server ${backend.name} ${door.hostname}:${door.port} check port ${admin.port} inter 300ms fall 3 rise 2`;
  });
  return [
    'global',
    '  maxconn 1000',
    // The test asks it which servers its checks hold up, rather than guessing from time passed.
    `  stats socket ${statsSocket} level user`,
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 30s',
    '  timeout server 30s',
    // A check answered slowly on a loaded machine is not a failure; a refused one (an instance gone) is at once.
    '  timeout check 3s',
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response response-timeout',
    'frontend doors',
    `  bind 127.0.0.1:${port}`,
    '  default_backend proxies',
    'backend proxies',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    ...servers,
    '',
  ].join('\n');
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startHaproxy(backends: readonly Backend[]): Promise<RunningHaproxy> {
  if (!haproxyBinary) throw new Error('haproxy is not installed (scripts/setup.sh installs Debian\'s haproxy)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cutover-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  const statsSocket = join(dir, 'stats.sock');
  writeFileSync(file, haproxyConfig(port, backends, statsSocket));
  const child = spawn(haproxyBinary, ['-f', file, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`haproxy did not listen on ${port}: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const serverStates = () => askStats(statsSocket, 'show stat').then(parseServerStates);
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    serverStates,
    waitForServer: async (server, state, deadlineMs = 15_000) => {
      const until = Date.now() + deadlineMs;
      for (;;) {
        const seen = (await serverStates())[server];
        // `UP 1/2` is a server coming up, `DOWN 1/3` one going down: only the settled word counts.
        if (seen === state) return;
        if (Date.now() > until) throw new Error(`haproxy never held ${server} ${state} (last seen: ${seen ?? 'absent'})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One command on haproxy's stats socket, its whole answer (haproxy closes the socket after it). */
function askStats(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.once('error', reject);
    socket.once('end', () => resolve(answer));
    socket.once('connect', () => socket.write(`${command}\n`));
  });
}

/** `show stat` CSV (`# pxname,svname,...,status,...`) to server name → status, servers of any backend. */
function parseServerStates(csv: string): Record<string, string> {
  const [head, ...rows] = csv.trim().split('\n');
  const columns = (head ?? '').replace(/^# /, '').split(',');
  const name = columns.indexOf('svname');
  const status = columns.indexOf('status');
  const states: Record<string, string> = {};
  for (const row of rows) {
    const cells = row.split(',');
    const server = cells[name];
    if (server && server !== 'FRONTEND' && server !== 'BACKEND') states[server] = cells[status] ?? '';
  }
  return states;
}
