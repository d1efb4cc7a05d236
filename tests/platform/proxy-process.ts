/**
 * `cutover proxy` as a real process for tests: started through bin/cutover.mjs with its
 * upstreams and database in the environment, doors and admin API on free ports, JSON logs
 * parsed line by line so a test can wait for an event.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../src/platform/ports.js';

const repo = join(import.meta.dirname, '..', '..');
const cli = join(repo, 'bin', 'cutover.mjs');

export interface LogEvent {
  event: string;
  level: string;
  message: string;
  [field: string]: unknown;
}

export interface ProxyProcess {
  child: ChildProcess;
  pid: number;
  doors: { gateway: string; sync: string; narrator: string };
  adminUrl: string;
  adminToken: string;
  events: LogEvent[];
  /** Text the process wrote to stderr that was not a JSON event. */
  otherOutput(): string;
  /** Resolves with the first event of this name (and matching `where`), or rejects at the deadline or when the process exits first. */
  waitFor(event: string, timeoutMs?: number, where?: (entry: LogEvent) => boolean): Promise<LogEvent>;
  /** Resolves with the exit code (null when killed by a signal) once the process ended. */
  exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
  /** True once the process has exited. */
  gone(): boolean;
}

// What the test gives is the whole environment the proxy reads: nothing of the shell's CUTOVER_* leaks in.
function baseEnvironment(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'NODE_OPTIONS'];
  return Object.fromEntries(keep.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]!]));
}

export async function startProxyProcess(env: Record<string, string>, args: string[] = [], options: { waitReady?: boolean } = {}): Promise<ProxyProcess> {
  const port = async () => freePort();
  const [gateway, sync, narrator, admin] = [await port(), await port(), await port(), await port()];
  const adminToken = 'proxy-process-test-token';
  const child = spawn(process.execPath, [cli, 'proxy', '--log-format', 'json', ...args], {
    cwd: repo,
    env: {
      ...baseEnvironment(),
      PROXY_GATEWAY_PORT: String(gateway),
      PROXY_SYNC_PORT: String(sync),
      PROXY_NARRATOR_PORT: String(narrator),
      PROXY_ADMIN_PORT: String(admin),
      CUTOVER_ADMIN_TOKEN: adminToken,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: LogEvent[] = [];
  const other: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        events.push(JSON.parse(line) as LogEvent);
      } catch {
        other.push(line);
      }
      newline = buffered.indexOf('\n');
    }
    for (const wake of waiters) wake();
  });
  child.stdout!.on('data', () => undefined);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      for (const wake of waiters) wake();
      resolve(code);
    }),
  );
  const waitFor = (event: string, timeoutMs = 60_000, where: (entry: LogEvent) => boolean = () => true) =>
    new Promise<LogEvent>((resolve, reject) => {
      const check = () => {
        const found = events.find((entry) => entry.event === event && where(entry));
        if (found) return done(() => resolve(found));
        if (exitCode !== undefined) return done(() => reject(new Error(`cutover proxy exited (${exitCode}) before ${event}: ${other.join('\n')}\n${JSON.stringify(events)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${event} within ${timeoutMs} ms: ${other.join('\n')}\n${JSON.stringify(events)}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });
  const proxy: ProxyProcess = {
    child,
    pid: child.pid!,
    doors: { gateway: `http://127.0.0.1:${gateway}`, sync: `http://127.0.0.1:${sync}`, narrator: `http://127.0.0.1:${narrator}` },
    adminUrl: `http://127.0.0.1:${admin}`,
    adminToken,
    events,
    otherOutput: () => other.join('\n'),
    waitFor,
    exited,
    signal: (signal) => {
      if (exitCode === undefined) child.kill(signal);
    },
    gone: () => exitCode !== undefined,
  };
  if (options.waitReady !== false) {
    try {
      await waitFor('proxy.ready');
    } catch (error) {
      proxy.signal('SIGKILL');
      throw error;
    }
  }
  return proxy;
}

/** Sets a route's flag through the instance's admin API. */
export async function setFlag(proxy: ProxyProcess, route: string, mode: string): Promise<void> {
  const response = await fetch(`${proxy.adminUrl}/flags/${route}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${proxy.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ mode, reason: 'test' }),
  });
  if (!response.ok) throw new Error(`flag ${route} -> ${mode}: ${response.status} ${await response.text()}`);
}
