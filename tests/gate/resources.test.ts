/**
 * The resources criterion against real processes: services started by the harness's own
 * supervisor (each its own process group), one side burning more CPU per request and holding
 * more memory than the other, sampled from /proc into PostgreSQL and judged over the window.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRouteCatalogue } from '../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { runGate } from '../../gate/gate.js';
import { PgResourceSampleStore } from '../../gate/pg-resource-sample-store.js';
import { resourcesOver, usageByService } from '../../gate/resource-samples.js';
import { renderGateText } from '../../gate/render-text.js';
import { configSchema } from '../../src/config/schema.js';
import { readProcessGroupUsage } from '../../src/platform/process-usage.js';
import { freePort } from '../../src/platform/ports.js';
import { createResourceSampler, servedBy } from '../../src/platform/resource-sampler.js';
import { Supervisor, type RunningService } from '../../src/platform/supervisor.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';

/**
 * A service that burns `cpuMs` of its own CPU time per request (measured by process.cpuUsage,
 * not by the clock, so a loaded machine changes nothing) and holds `holdMiB` of touched memory.
 * With `fork`, it also runs a child in its process group that holds memory too.
 */
function serviceScript(cpuMs: number, holdMiB: number, fork: boolean): string {
  return `
    const http = require('node:http');
    const { spawn } = require('node:child_process');
    const held = Buffer.alloc(${holdMiB} * 1024 * 1024, 1);
    if (${fork}) spawn(process.execPath, ['-e', "const b = Buffer.alloc(24 * 1024 * 1024, 1); setInterval(() => b[0]++, 1000)"], { stdio: 'ignore' });
    http.createServer((req, res) => {
      const start = process.cpuUsage();
      for (;;) { const used = process.cpuUsage(start); if ((used.user + used.system) / 1000 >= ${cpuMs}) break; }
      held[0]++;
      res.end('ok');
    }).listen(Number(process.env.PORT), process.env.HOST);
  `;
}

const catalogue = parseRouteCatalogue({
  version: 1,
  services: [{ name: 'sync', upstreams: ['sync', 'gisExport'] }],
  routes: [{ id: 'sync.read', service: 'sync', method: 'GET', path: '/read', owner: 'tests', writes: false }],
});
const thresholds = configSchema.parse({}).gate.thresholds;

let database: IsolatedDatabase;
let store: PgResourceSampleStore;
let supervisor: Supervisor;
let legacy: RunningService;
let reimpl: RunningService;
const logDir = mkdtempSync(join(tmpdir(), 'cutover-resources-'));
const requests = new Map<string, number>();

async function send(service: RunningService, key: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${service.url}/read`);
    await response.arrayBuffer();
    requests.set(key, (requests.get(key) ?? 0) + 1);
  }
}

async function start(id: string, cpuMs: number, holdMiB: number, fork: boolean): Promise<RunningService> {
  return supervisor.start({ id, command: process.execPath, args: ['-e', serviceScript(cpuMs, holdMiB, fork)], cwd: logDir, env: {}, host: '127.0.0.1', port: await freePort(), healthPath: '/health' });
}

beforeAll(async () => {
  database = await createIsolatedDatabase('resources', { migrated: true });
  store = new PgResourceSampleStore(database.url);
  supervisor = new Supervisor(logDir);
  // Legacy: 8 ms of CPU a request and 96 MiB held, with a forked child; the reimplementation: 2 ms and nothing held.
  [legacy, reimpl] = await Promise.all([start('legacy.sync', 8, 96, true), start('reimpl.gis-export', 2, 0, false)]);
}, 60_000);

afterAll(async () => {
  await supervisor?.stopAll();
  await store?.close();
  await database?.drop();
  rmSync(logDir, { recursive: true, force: true });
});

describe('the resources criterion over real processes', () => {
  it('reads a whole process group from /proc: every process, its CPU time and resident memory', async () => {
    let usage = readProcessGroupUsage(legacy.pid);
    // The forked child is in the group once it has started.
    for (const until = Date.now() + 15_000; (usage?.pids.length ?? 0) < 2 && Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      usage = readProcessGroupUsage(legacy.pid);
    }
    expect(usage!.pids).toContain(legacy.pid);
    expect(usage!.pids.length).toBe(2);
    // 96 MiB touched in the service and 24 MiB in its child.
    expect(usage!.rssBytes).toBeGreaterThan(120 * 2 ** 20);
    expect(usage!.hwmBytes).toBeGreaterThanOrEqual(usage!.rssBytes);
    const before = usage!.cpuSeconds;
    await send(legacy, 'sync/legacy', 25);
    // 25 requests of 8 ms CPU each: at least 0.2 s more (less a clock tick of rounding).
    expect(readProcessGroupUsage(legacy.pid)!.cpuSeconds - before).toBeGreaterThanOrEqual(0.19);
    expect(readProcessGroupUsage(2 ** 22 + 12345)).toBeUndefined();
  });

  it('maps each supervised process to its side and front-door service, shadow instances and extra upstreams included', () => {
    expect(servedBy('legacy.sync', catalogue)).toEqual({ side: 'legacy', service: 'sync' });
    expect(servedBy('reimpl.gis-export', catalogue)).toEqual({ side: 'reimpl', service: 'sync' });
    expect(servedBy('shadow-legacy.sync', catalogue)).toEqual({ side: 'legacy', service: 'sync' });
    expect(servedBy('ollama.standin', catalogue)).toBeUndefined();
  });

  it('samples both sides into PostgreSQL and judges CPU per request and peak RSS over the window, advisory by default', async () => {
    const sampler = createResourceSampler({
      processes: () => [legacy, reimpl].map((service) => ({ id: service.spec.id, pid: service.pid })),
      catalogue,
      requests: async () => new Map(requests),
      store,
      intervalMs: 60_000,
    });
    const since = new Date();
    await sampler.sample();
    await Promise.all([send(legacy, 'sync/legacy', 40), send(reimpl, 'sync/reimpl', 40)]);
    await sampler.stop(); // takes the window's last sample
    const samples = await store.list({ since });
    expect(samples.length).toBe(4);
    const usage = usageByService(samples).get('sync')!;
    expect(usage.legacy.requests).toBe(40);
    expect(usage.reimpl.requests).toBe(40);
    // CPU per request is what each burns (8 and 2 ms) plus the little each request costs node itself.
    expect(usage.legacy.cpuMsPerRequest).toBeGreaterThanOrEqual(7.5);
    expect(usage.reimpl.cpuMsPerRequest).toBeGreaterThanOrEqual(1.5);
    expect(usage.reimpl.cpuMsPerRequest).toBeLessThan(usage.legacy.cpuMsPerRequest);
    expect(usage.reimpl.peakRssBytes).toBeLessThan(usage.legacy.peakRssBytes);

    const observations = new FakeObservationStore();
    const resources = await resourcesOver(store, catalogue, { since, until: new Date() });
    const report = await runGate({ observations, catalogue, thresholds, resources }, { route: 'sync.read', since });
    const cpu = report.routes[0]!.criteria.find((criterion) => criterion.id === 'resources.cpu')!;
    const rss = report.routes[0]!.criteria.find((criterion) => criterion.id === 'resources.rss')!;
    expect(cpu).toMatchObject({ status: 'pass', gating: false });
    expect(cpu.value).toBeCloseTo(usage.reimpl.cpuMsPerRequest / usage.legacy.cpuMsPerRequest, 10);
    expect(rss).toMatchObject({ status: 'pass', gating: false });
    expect(renderGateText(report)).toMatch(/pass\s+resources\.cpu\s+0\.\d{4} <= 1\.0000\s+\(advisory\)\s+reimpl [\d.]+ ms, legacy [\d.]+ ms per request; service sync: legacy legacy\.sync, 40 requests; reimpl reimpl\.gis-export, 40 requests/);
  });

  it('gates on resources when the config says so: a reimplementation costlier per request fails it', async () => {
    // The costlier process (8 ms a request, 96 MiB) is the reimplementation this time, the cheap one legacy.
    const counted = new Map<string, number>();
    const sampler = createResourceSampler({
      processes: () => [{ id: 'reimpl.sync', pid: legacy.pid }, { id: 'legacy.sync', pid: reimpl.pid }],
      catalogue,
      requests: async () => new Map(counted),
      store,
      intervalMs: 60_000,
    });
    const since = new Date();
    await sampler.sample();
    const sendCounted = async (service: RunningService, key: string) => {
      for (let i = 0; i < 20; i++) {
        await (await fetch(`${service.url}/read`)).arrayBuffer();
        counted.set(key, (counted.get(key) ?? 0) + 1);
      }
    };
    await Promise.all([sendCounted(legacy, 'sync/reimpl'), sendCounted(reimpl, 'sync/legacy')]);
    await sampler.stop();
    const resources = await resourcesOver(store, catalogue, { since, until: new Date() });
    const report = await runGate({ observations: new FakeObservationStore(), catalogue, thresholds: { ...thresholds, resourcesGating: true }, resources }, { route: 'sync.read', since });
    const route = report.routes[0]!;
    expect(route.criteria.find((criterion) => criterion.id === 'resources.cpu')).toMatchObject({ status: 'fail', gating: true });
    expect(route.criteria.find((criterion) => criterion.id === 'resources.cpu')!.value).toBeGreaterThan(1);
    expect(route.verdict).toBe('NOT_READY');
    expect(route.failed).toContain('resources.cpu');
  });

  it('leaves a window with fewer than two samples of a side unmeasured, never a made-up figure', async () => {
    const later = new Date(Date.now() + 60_000);
    const resources = await resourcesOver(store, catalogue, { since: later });
    const report = await runGate({ observations: new FakeObservationStore(), catalogue, thresholds, resources }, { route: 'sync.read', since: later });
    expect(report.routes[0]!.criteria.find((criterion) => criterion.id === 'resources.cpu')).toMatchObject({ status: 'unmeasured', value: null });
  });
});
