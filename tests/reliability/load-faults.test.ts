/**
 * The reliability run's load scenarios, a few seconds each (the full run has a minute a
 * phase): the same modules, real `cutover proxy` processes, a private PostgreSQL. Only counts
 * are asserted, never a latency: a loaded machine slows every answer but must lose or change
 * none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDatabaseOutage } from './database-outage.js';
import type { LoadShape } from './load-scenario.js';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';
import { runProxyRestart } from './proxy-restart.js';
import { runShadowFaults } from './shadow-faults.js';

const quick: LoadShape = { rate: 20, durationMs: Number(process.env.RELIABILITY_QUICK_SECONDS ?? 3) * 1000 };
const quiet = () => undefined;
let database: PrivatePostgres;

beforeAll(async () => {
  database = await startPrivatePostgres();
}, 120_000);

afterAll(async () => {
  await database?.remove();
}, 60_000);

describe('the serving path under faults, with a fixed load', () => {
  it('loses and changes no serving answer while the shadow side is hung, killed, slowed by 2 s or answering garbage', async () => {
    const phases = await runShadowFaults(database, quick, undefined, quiet);
    expect(phases.map((phase) => phase.fault)).toEqual(['none', 'hung', 'killed', 'slow', 'garbage']);
    for (const phase of phases) {
      expect(phase.serving.requests, phase.fault).toBe(Math.floor((quick.durationMs / 1000) * quick.rate));
      expect({ fault: phase.fault, lost: phase.serving.lost, changed: phase.serving.changed, judged: phase.serving.requests - phase.serving.referenceFailed }).toEqual({ fault: phase.fault, lost: 0, changed: 0, judged: phase.serving.requests });
    }
    // The faults reached the shadow side: its copies failed (hung ones timed out or were dropped when the budget was full).
    const byFault = Object.fromEntries(phases.map((phase) => [phase.fault, phase.shadow]));
    expect(byFault.none!.verdicts.errored).toBe(0);
    expect(byFault.hung!.verdicts.matched).toBe(0);
    expect(byFault.killed!.verdicts.errored).toBeGreaterThan(0);
    expect(byFault.garbage!.failures).toBeGreaterThan(0);
    for (const phase of phases) {
      expect(phase.shadow.internalErrors, phase.fault).toBe(0);
      // Every copy is accounted for: judged, or dropped or failed and counted.
      const { verdicts, dropped, comparisonFailed } = phase.shadow;
      expect(verdicts.matched + verdicts.mismatched + verdicts.ignored + verdicts.errored + dropped + comparisonFailed, phase.fault).toBe(phase.serving.requests);
    }
  }, 300_000);

  it('keeps serving while its PostgreSQL is stopped and started: flags stale then live, every observation stored or counted as dropped', async () => {
    const outage = await runDatabaseOutage(database, quick, quiet);
    expect({ lost: outage.serving.lost, changed: outage.serving.changed }).toEqual({ lost: 0, changed: 0 });
    expect(outage.flagsStaleThenLive).toBe(true);
    expect(outage.observed).toBe(outage.serving.requests);
    expect(outage.unaccounted).toBe(0);
  }, 300_000);

  it('loses no accepted observation across a SIGTERM restart under load', async () => {
    const restart = await runProxyRestart(database, quick, quiet);
    expect(restart.firstExit).toBe(0);
    expect(restart.changed).toBe(0);
    expect(restart.answered).toBeGreaterThan(0);
    expect(restart.observationsLost).toBe(0);
    expect(restart.counts.stored).toBe(restart.answered);
  }, 300_000);
});
