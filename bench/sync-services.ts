/**
 * What the sync and GIS export benchmarks share: one bench database (seeded once, reused by
 * later runs), legacy sync and the reimplemented sync started side by side against it with one
 * EXPORT_DIR, and peak-RSS sampling of a service's whole process group (the reimplementation
 * exports in forked workers, legacy in threads: both are counted in full).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config/load.js';
import { ensureDatabase, openDatabaseServer } from '../src/db/server.js';
import { migrate } from '../src/db/migrate.js';
import { legacyServiceSpecs } from '../src/platform/legacy-services.js';
import { freePort } from '../src/platform/ports.js';
import { reimplServiceSpecs } from '../src/platform/reimpl-services.js';
import { Supervisor, type RunningService } from '../src/platform/supervisor.js';
import { seedCounty } from '../src/seed/index.js';

export interface SyncPair {
  databaseUrl: string;
  legacy: RunningService;
  reimpl: RunningService;
  exportDir: string;
  stop(): Promise<void>;
}

/** Seeds `countyId` with exactly `parcels` parcels unless it already has that many. */
export async function ensureParcels(databaseUrl: string, countyId: string, parcels: number, log: (line: string) => void): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM property_operational WHERE county_id = $1', [countyId]);
    if (Number(rows[0]!.n) === parcels) return;
  } finally {
    await client.end();
  }
  const summary = await seedCounty(databaseUrl, { countyId, parcels, seed: loadConfig().seed.seed });
  log(`seeded ${countyId}: ${parcels} parcels in ${summary.elapsedMs} ms`);
}

/** Starts both sync implementations against a bench database (created and migrated if needed; `cutover_bench_sync` unless named). */
export async function startSyncPair(log: (line: string) => void, databaseName = 'cutover_bench_sync'): Promise<SyncPair> {
  const config = loadConfig();
  const server = await openDatabaseServer(config, log);
  const databaseUrl = await ensureDatabase(server, databaseName);
  await migrate(databaseUrl);
  const scratch = mkdtempSync(join(tmpdir(), 'cutover-bench-sync-'));
  const exportDir = join(scratch, 'exports');
  const supervisor = new Supervisor(join(scratch, 'logs'));
  const host = '127.0.0.1';
  const stop = async () => {
    await supervisor.stopAll();
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const legacyPort = { host, port: await freePort() };
    const reimplPort = { host, port: await freePort() };
    const [legacySpec] = legacyServiceSpecs(
      config,
      { databaseUrl, exportDir, ollamaUrl: 'http://127.0.0.1:9', syncServiceUrl: 'http://127.0.0.1:9', narratorUrl: 'http://127.0.0.1:9' },
      { sync: legacyPort, gateway: legacyPort, narrator: legacyPort },
    );
    const [reimplSpec] = reimplServiceSpecs(config, { databaseUrl, exportDir, mountGisExport: true }, { sync: reimplPort, gisExport: reimplPort }, { only: ['sync'] });
    const legacy = await supervisor.start(legacySpec!);
    const reimpl = await supervisor.start(reimplSpec!);
    return { databaseUrl, legacy, reimpl, exportDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function groupRssKb(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the `(comm)`: state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // the process ended between listing and reading
    }
  }
  return total;
}

/** Samples the RSS of `pid`'s process group every 25 ms until stopped; resolves to the peak in MiB. */
export function samplePeakRss(pid: number): { stop(): number } {
  let peak = groupRssKb(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, groupRssKb(pid));
  }, 25);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, groupRssKb(pid));
      return peak / 1024;
    },
  };
}
