/**
 * Gateway benchmark: the legacy Flask gateway and the TypeScript one, side by side in one run,
 * on the same machine and the same in-process sync stand-in: POST /auth/login (a werkzeug pbkdf2
 * check and two JWTs per request) and GET /api/counties with a Bearer token (auth + passthrough).
 * `node --import tsx bench/gateway.ts` runs it alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { legacyServiceSpecs } from '../src/platform/legacy-services.js';
import { freePort } from '../src/platform/ports.js';
import { reimplEdgeServiceSpecs } from '../src/platform/reimpl-services.js';
import { Supervisor } from '../src/platform/supervisor.js';
import { formatBench, type BenchResult } from './bench-report.js';
import { runLoad } from './load.js';
import { sideBySide, type Measured } from './side-by-side.js';

export interface GatewayBenchOptions {
  durationMs?: number;
  warmupMs?: number;
  loginConcurrency?: number;
  passthroughConcurrency?: number;
}

// A county list like sync's /counties, answered at once, so the gateways' own cost is what is measured.
const COUNTIES = JSON.stringify([{ county_id: 'benton_wa', name: 'Benton County' }, { county_id: 'franklin_wa', name: 'Franklin County' }]);

function startSyncStandin(): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(request.url === '/health' ? '{}' : COUNTIES) });
    response.end(request.url === '/health' ? '{}' : COUNTIES);
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function runGatewayBench(input: GatewayBenchOptions = {}): Promise<BenchResult> {
  const options = { durationMs: 5000, warmupMs: 1000, loginConcurrency: 4, passthroughConcurrency: 16, ...input };
  const config = loadConfig();
  const host = '127.0.0.1';
  const scratch = mkdtempSync(join(tmpdir(), 'bench-gateway-'));
  const sync = await startSyncStandin();
  const syncUrl = `http://${host}:${(sync.address() as AddressInfo).port}`;
  const env = { databaseUrl: '', exportDir: scratch, ollamaUrl: '', syncServiceUrl: syncUrl, narratorUrl: syncUrl };
  const legacySpec = legacyServiceSpecs(config, env, { sync: { host, port: 0 }, narrator: { host, port: 0 }, gateway: { host, port: await freePort() } }, 'bench-legacy').find(
    (spec) => spec.id === 'bench-legacy.gateway',
  )!;
  const [reimplSpec] = reimplEdgeServiceSpecs(config, env, { narrator: { host, port: 0 }, gateway: { host, port: await freePort() } }, { idPrefix: 'bench-reimpl', only: ['gateway'] });
  const supervisor = new Supervisor(join(scratch, 'logs'));
  try {
    const legacy = await supervisor.start(legacySpec);
    const reimpl = await supervisor.start(reimplSpec!);
    const loginBody = JSON.stringify({ username: 'admin', password: 'admin123' });
    const login = (origin: string) =>
      runLoad({ origin, paths: ['/auth/login'], method: 'POST', headers: { 'content-type': 'application/json' }, body: loginBody, concurrency: options.loginConcurrency, durationMs: options.durationMs, warmupMs: options.warmupMs });
    const tokenOf = async (origin: string) => ((await (await fetch(`${origin}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: loginBody })).json()) as { access_token: string }).access_token;
    const passthrough = async (origin: string) =>
      runLoad({ origin, paths: ['/api/counties'], headers: { authorization: `Bearer ${await tokenOf(origin)}` }, concurrency: options.passthroughConcurrency, durationMs: options.durationMs, warmupMs: options.warmupMs });

    // One side at a time: both share two cores with the load generator.
    const results: Measured[] = [];
    results.push(['POST /auth/login', await login(legacy.url), await login(reimpl.url)]);
    results.push(['GET /api/counties (Bearer, passthrough)', await passthrough(legacy.url), await passthrough(reimpl.url)]);

    const { rows, notes } = sideBySide(results);
    notes.push(`closed loop, ${options.durationMs} ms after ${options.warmupMs} ms warm-up; login concurrency ${options.loginConcurrency}, passthrough ${options.passthroughConcurrency}; sync is an in-process stand-in`);
    return { name: 'gateway (legacy Flask vs reimpl fastify)', rows, notes };
  } finally {
    await supervisor.stopAll();
    await new Promise((resolve) => sync.close(resolve));
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runGatewayBench()
    .then((result) => console.log(formatBench(result)))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
