/** `cutover gate` on the machine's PostgreSQL: observations written by the store, verdicts printed, the exit code CI reads. */
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { gateCommand } from '../../src/cli/commands/gate.js';
import { gateExitCodes } from '../../gate/verdict.js';
import type { GateReport } from '../../gate/gate.js';
import { migrateHarness } from '../../src/db/migrate.js';
import { PgObservationStore } from '../../proxy/observe/pg-observation-store.js';
import type { Observation } from '../../proxy/observe/observation.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';
import { observation } from '../proxy/observation-store.contract.js';

async function gate(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
  try {
    const code = await gateCommand.run(argv);
    return { code, out: lines.join('\n') };
  } finally {
    log.mockRestore();
  }
}

const recent = (routeId: string, count: number, shape: (index: number) => Partial<Observation> = () => ({})) =>
  Array.from({ length: count }, (_, index) =>
    observation({
      routeId,
      observedAt: new Date(Date.now() - 60_000 + index),
      serving: { side: 'legacy', status: 200, latencyMs: 10 + (index % 7), error: null, body: null },
      shadow: { side: 'reimpl', status: 200, latencyMs: 5 + (index % 5), error: null, body: null },
      ...shape(index),
    }),
  );

describe('the cutover gate command', () => {
  let database: IsolatedDatabase;
  const serverUrl = process.env.DATABASE_URL;
  beforeAll(async () => {
    database = await createIsolatedDatabase('gate_cli');
    await migrateHarness(database.url);
    process.env.DATABASE_URL = database.url;
    const store = new PgObservationStore(database.url);
    await store.append([
      ...recent('sync.health', 4000),
      ...recent('sync.counties.list', 4000, (index) => (index % 100 === 0 ? { verdict: 'mismatched' } : {})),
      ...recent('sync.counties.get', 500),
    ]);
    await store.close();
  });
  afterAll(async () => {
    process.env.DATABASE_URL = serverUrl;
    await database?.drop();
  });

  it('exits 0 and prints READY for a route whose reimplementation matched enough answers', async () => {
    const { code, out } = await gate('--route', 'sync.health', '--since', '1h');
    expect(code).toBe(gateExitCodes.READY);
    expect(out).toMatch(/^sync\.health {2}READY$/m);
    expect(out).toMatch(/pass +evidence\.compared +4,000 >= 3,838/);
  });

  it('exits with the NOT_READY code for a route that mismatches 1% of answers, naming the criterion', async () => {
    const { code, out } = await gate('--route', 'sync.counties.list', '--since', '1h');
    expect(code).toBe(gateExitCodes.NOT_READY);
    expect(out).toContain('sync.counties.list  NOT_READY  (failed: parity.lower-bound)');
  });

  it('exits with the INSUFFICIENT_EVIDENCE code below the minimum, and READY once the command line lowers it', async () => {
    expect((await gate('--route', 'sync.counties.get', '--since', '1h')).code).toBe(gateExitCodes.INSUFFICIENT_EVIDENCE);
    const lowered = await gate('--route', 'sync.counties.get', '--since', '1h', '--min-compared', '400', '--min-parity', '0.99', '--max-error-rate', '0.01');
    expect(lowered.code).toBe(gateExitCodes.READY);
  });

  it('judges every observed route without --route, worst verdict wins, and writes JSON', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gate-')), 'gate.json');
    const { code } = await gate('--since', '1h', '--json', file);
    expect(code).toBe(gateExitCodes.NOT_READY);
    const report = JSON.parse(readFileSync(file, 'utf8')) as GateReport;
    expect(report.routes.map((route) => [route.routeId, route.verdict]).sort()).toEqual([
      ['sync.counties.get', 'INSUFFICIENT_EVIDENCE'],
      ['sync.counties.list', 'NOT_READY'],
      ['sync.health', 'READY'],
    ]);
    const printed = JSON.parse((await gate('--route', 'sync.health', '--since', '1h', '--json', '-')).out) as GateReport;
    expect(printed.routes[0]!.criteria.find((criterion) => criterion.id === 'parity.lower-bound')!.value).toBeGreaterThan(0.999);
  });

  it('sees nothing before the window', async () => {
    const { code, out } = await gate('--route', 'sync.health', '--since', new Date(Date.now() + 60_000).toISOString());
    expect(code).toBe(gateExitCodes.INSUFFICIENT_EVIDENCE);
    expect(out).toContain('no traffic in the window');
  });

  it('refuses bad thresholds and unknown routes with named errors', async () => {
    await expect(gate('--min-parity', '1.5')).rejects.toMatchObject({ code: 'CUTOVER_ERR_USAGE', message: expect.stringContaining('--min-parity') });
    await expect(gate('--min-compared', 'lots')).rejects.toMatchObject({ code: 'CUTOVER_ERR_USAGE' });
    await expect(gate('--route', 'sync.nothing')).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_ROUTE_UNKNOWN' });
  });
});
