/**
 * The reliability run's load scenarios, one after the other on one private PostgreSQL:
 * shadow faults (shadow-faults.ts), the database stopped and started (database-outage.ts), the
 * proxy restarted with SIGTERM (proxy-restart.ts). Each must-be-zero figure that is not zero is
 * named in `failures`.
 */
import { latencyCeilingMs } from '../../bench/load.js';
import { runDatabaseOutage, type DatabaseOutageFigures } from './database-outage.js';
import type { LoadShape } from './load-scenario.js';
import { startPrivatePostgres } from './private-postgres.js';
import { runProxyRestart, type ProxyRestartFigures } from './proxy-restart.js';
import { runShadowFaults, type ShadowFaultFigures } from './shadow-faults.js';

export interface LoadFaultFigures {
  shape: LoadShape;
  /** Latencies at or over it are in the load histogram's last bucket: a p99 equal to it means at least that. */
  latencyCeilingMs: number;
  shadowFaults: ShadowFaultFigures[];
  databaseOutage?: DatabaseOutageFigures;
  proxyRestart?: ProxyRestartFigures;
  /** Each figure that had to be zero (or true) and was not, or a scenario that could not run. */
  failures: string[];
}

export async function runLoadFaults(shape: LoadShape, log: (line: string) => void = console.log): Promise<LoadFaultFigures> {
  const figures: LoadFaultFigures = { shape, latencyCeilingMs, shadowFaults: [], failures: [] };
  const database = await startPrivatePostgres();
  // A scenario that throws (a deadline passed, a process would not start) fails the run but not the others.
  const attempt = async (name: string, scenario: () => Promise<void>) => {
    try {
      await scenario();
    } catch (error) {
      figures.failures.push(`${name} did not finish: ${error instanceof Error ? error.message : String(error)}`);
      log(`${name} did not finish: ${String(error)}`);
    }
  };
  try {
    await attempt('shadow faults', async () => {
      figures.shadowFaults = await runShadowFaults(database, shape, undefined, log);
      for (const phase of figures.shadowFaults) if (phase.servingHarmed !== 0) figures.failures.push(`shadow ${phase.fault}: ${phase.servingHarmed} serving answers lost or changed`);
    });
    await attempt('database outage', async () => {
      const outage = await runDatabaseOutage(database, shape, log);
      figures.databaseOutage = outage;
      if (outage.servingHarmed !== 0) figures.failures.push(`database outage: ${outage.servingHarmed} serving answers lost or changed`);
      if (outage.unaccounted !== 0) figures.failures.push(`database outage: ${outage.unaccounted} observations neither stored nor counted as dropped`);
      if (!outage.flagsStaleThenLive) figures.failures.push('database outage: the flags did not go stale then live');
    });
    await attempt('proxy restart', async () => {
      const restart = await runProxyRestart(database, shape, log);
      figures.proxyRestart = restart;
      if (restart.changed !== 0) figures.failures.push(`proxy restart: ${restart.changed} serving answers changed`);
      if (restart.observationsLost !== 0) figures.failures.push(`proxy restart: ${restart.observationsLost} accepted observations lost`);
      if (restart.firstExit !== 0) figures.failures.push(`proxy restart: the SIGTERM-stopped proxy exited ${restart.firstExit}`);
    });
  } finally {
    await database.remove();
  }
  return figures;
}
