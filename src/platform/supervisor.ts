/**
 * Starts child services, waits until each is healthy and stops every one it started, in
 * reverse order, on request or when the parent exits. A service that dies during start, a
 * taken port or a health check that never passes becomes a named error carrying the log tail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { CutoverError } from '../errors.js';
import { assertPortFree } from './ports.js';
import { baseUrl, type ServiceSpec } from './service-spec.js';

export interface RunningService {
  spec: ServiceSpec;
  url: string;
  pid: number;
  logFile: string;
  /** The last lines the service printed, for error messages. */
  tail(): string;
}

const TAIL_LINES = 40;

class ManagedProcess {
  readonly lines: string[] = [];
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly done: Promise<void>;

  constructor(readonly child: ChildProcess, private readonly log: WriteStream) {
    const keep = (chunk: Buffer) => {
      log.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.lines.push(line);
        if (this.lines.length > TAIL_LINES) this.lines.shift();
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.done = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exited) return;
        this.exited = { code, signal };
        log.end();
        resolve();
      };
      child.once('exit', finish);
      // A command that cannot be spawned emits 'error' and never 'exit'.
      child.once('error', () => {
        if (child.pid === undefined) finish(null, null);
      });
    });
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status < 500;
  } catch {
    return false;
  }
}

export class Supervisor {
  private readonly running: Array<{ service: RunningService; process: ManagedProcess }> = [];
  private readonly onParentExit = () => this.killAllNow();

  constructor(private readonly logDir: string) {
    mkdirSync(logDir, { recursive: true });
    process.once('exit', this.onParentExit);
  }

  get services(): readonly RunningService[] {
    return this.running.map((entry) => entry.service);
  }

  /** Starts a service and resolves once its health path answers; throws a CutoverError otherwise. */
  async start(spec: ServiceSpec): Promise<RunningService> {
    await assertPortFree(spec.host, spec.port, spec.id);
    const logFile = join(this.logDir, `${spec.id}.log`);
    const log = createWriteStream(logFile, { flags: 'w' });
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env, HOST: spec.host, PORT: String(spec.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so stopping also reaches workers the service forks.
      detached: true,
    });
    const managed = new ManagedProcess(child, log);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const url = baseUrl(spec);
    const service: RunningService = {
      spec,
      url,
      pid: child.pid ?? -1,
      logFile,
      tail: () => managed.lines.join('\n'),
    };
    this.running.push({ service, process: managed });

    const deadline = Date.now() + (spec.startTimeoutMs ?? 30_000);
    let failure: Error | undefined;
    void spawnError.then((error) => (failure = error));
    while (Date.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
      if (failure) {
        throw new CutoverError('CUTOVER_ERR_SERVICE_DIED', `${spec.id} could not be spawned (${spec.command}): ${failure.message}`);
      }
      if (managed.exited) {
        throw new CutoverError(
          'CUTOVER_ERR_SERVICE_DIED',
          `${spec.id} exited during start (code ${managed.exited.code}, signal ${managed.exited.signal}); log ${logFile}:\n${service.tail()}`,
        );
      }
      if (await healthy(url + spec.healthPath)) return service;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new CutoverError(
      'CUTOVER_ERR_SERVICE_UNHEALTHY',
      `${spec.id} did not answer ${url}${spec.healthPath} within ${spec.startTimeoutMs ?? 30_000} ms; log ${logFile}:\n${service.tail()}`,
    );
  }

  /** Stops every started service, newest first: SIGTERM to its process group, SIGKILL after graceMs. */
  async stopAll(graceMs = 5000): Promise<void> {
    while (this.running.length > 0) {
      const entry = this.running.pop()!;
      await stopProcess(entry.process, graceMs);
    }
    process.removeListener('exit', this.onParentExit);
  }

  private killAllNow(): void {
    for (const entry of this.running) signalGroup(entry.process.child, 'SIGKILL');
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

async function stopProcess(managed: ManagedProcess, graceMs: number): Promise<void> {
  if (managed.exited) return;
  signalGroup(managed.child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(managed.child, 'SIGKILL'), graceMs);
  await managed.done;
  clearTimeout(timer);
}
