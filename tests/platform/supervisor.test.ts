import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CutoverError } from '../../src/errors.js';
import { freePort } from '../../src/platform/ports.js';
import type { ServiceSpec } from '../../src/platform/service-spec.js';
import { Supervisor } from '../../src/platform/supervisor.js';

const logDir = mkdtempSync(join(tmpdir(), 'cutover-supervisor-'));

async function nodeService(id: string, script: string, overrides: Partial<ServiceSpec> = {}): Promise<ServiceSpec> {
  return {
    id,
    command: process.execPath,
    args: ['-e', script],
    cwd: process.cwd(),
    env: {},
    host: '127.0.0.1',
    port: await freePort(),
    healthPath: '/health',
    startTimeoutMs: 10_000,
    ...overrides,
  };
}

const healthyServer = `require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), process.env.HOST)`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function expectCutoverError(promise: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(CutoverError);
  expect((error as CutoverError).code).toBe(code);
  expect((error as CutoverError).message).toMatch(text);
}

describe('the supervisor', () => {
  let supervisor: Supervisor;
  let blocker: Server | undefined;
  afterEach(async () => {
    await supervisor?.stopAll(1000);
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    blocker = undefined;
  });

  it('starts a service, waits for its health route and gives its URL', async () => {
    supervisor = new Supervisor(logDir);
    const spec = await nodeService('ok.service', healthyServer);
    const service = await supervisor.start(spec);
    const response = await fetch(`${service.url}/health`);
    expect(await response.text()).toBe('ok');
    expect(service.url).toBe(`http://127.0.0.1:${spec.port}`);
  });

  it('stops every service it started, so none outlives it', async () => {
    supervisor = new Supervisor(logDir);
    const first = await supervisor.start(await nodeService('first', healthyServer));
    const second = await supervisor.start(await nodeService('second', healthyServer));
    await supervisor.stopAll();
    expect(isAlive(first.pid)).toBe(false);
    expect(isAlive(second.pid)).toBe(false);
    expect(supervisor.services).toHaveLength(0);
  });

  it('names the port and its owner when the port is already taken', async () => {
    supervisor = new Supervisor(logDir);
    const spec = await nodeService('taken.service', healthyServer);
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(spec.port, '127.0.0.1', resolve));
    await expectCutoverError(supervisor.start(spec), 'CUTOVER_ERR_PORT_IN_USE', new RegExp(`taken\\.service cannot listen on 127\\.0\\.0\\.1:${spec.port}`));
  });

  it('reports a service that dies during start with the last lines it printed', async () => {
    supervisor = new Supervisor(logDir);
    const spec = await nodeService('dying.service', `console.error('ImportError: No module named fastapi'); process.exit(3)`);
    await expectCutoverError(supervisor.start(spec), 'CUTOVER_ERR_SERVICE_DIED', /dying\.service exited during start \(code 3[\s\S]*No module named fastapi/);
  });

  it('gives up on a service that never becomes healthy, after its start timeout', async () => {
    supervisor = new Supervisor(logDir);
    const spec = await nodeService('silent.service', `setInterval(() => {}, 1000)`, { startTimeoutMs: 700 });
    await expectCutoverError(supervisor.start(spec), 'CUTOVER_ERR_SERVICE_UNHEALTHY', /silent\.service did not answer .* within 700 ms/);
  });

  it('reports a command that cannot be spawned at all', async () => {
    supervisor = new Supervisor(logDir);
    const spec = await nodeService('missing.binary', '', { command: '/nonexistent/python3' });
    await expectCutoverError(supervisor.start(spec), 'CUTOVER_ERR_SERVICE_DIED', /missing\.binary/);
  });
});
