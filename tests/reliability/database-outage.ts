/**
 * The reliability run's database outage (issue 9 item 9): the fixed open-loop load through
 * `cutover proxy` on a shadowed route while the proxy's PostgreSQL (the run's private cluster,
 * never the machine's shared one) is stopped and started again. What must hold: serving
 * answers unchanged against legacy asked directly; the flags go stale, then live again; every
 * shadowed request the proxy answered is an observation stored, or dropped and counted (its
 * metrics and the table agree with the count sent).
 */
import { countsSince, describeServing, observationCounts, proxyHealth, servingAgainstReference, settled, shadowLoadRoute, startLoadProxy, startStandIn, stopProxy, until, warmUp, type LoadShape, type ObservationCounts, type ServingFigures } from './load-scenario.js';
import type { PrivatePostgres } from './private-postgres.js';

export interface DatabaseOutageFigures {
  serving: ServingFigures;
  /** Serving answers lost or changed: must be 0. */
  servingHarmed: number;
  /** The flag states the admin /health reported, in order, each with when it was first seen (ms into the load). */
  flagStates: Array<{ state: string; atMs: number }>;
  /** True when the flags went stale while the database was down and live again after it came back. */
  flagsStaleThenLive: boolean;
  /** How long the database was down (ms). */
  downMs: number;
  /** Most observations the proxy held queued at once, polled. */
  mostQueued: number;
  /** Shadowed requests the proxy answered during the load. */
  observed: number;
  counts: ObservationCounts;
  /** observed − (stored + dropped + comparisonFailed + writeFailed): must be 0. */
  unaccounted: number;
}

export async function runDatabaseOutage(database: PrivatePostgres, shape: LoadShape, log: (line: string) => void = console.log): Promise<DatabaseOutageFigures> {
  const [legacy, shadow] = await Promise.all([startStandIn('answering'), startStandIn('answering')]);
  const databaseUrl = await database.database('outage');
  const proxy = await startLoadProxy({ databaseUrl, legacyUrl: legacy.url, shadowUrl: shadow.url }).catch(async (error: unknown) => {
    legacy.kill('SIGKILL');
    shadow.kill('SIGKILL');
    throw error;
  });
  let databaseDown = false;
  try {
    await shadowLoadRoute(proxy);
    await warmUp(proxy.doors.sync, legacy.url, shape);
    await settled(proxy.adminUrl);
    const before = await observationCounts(proxy.adminUrl, databaseUrl);
    const flagStates: DatabaseOutageFigures['flagStates'] = [];
    let mostQueued = 0;
    const started = Date.now();
    let sampling = true;
    // Every flag state seen, by the sampler or by the outage's own waits, in the order seen: the
    // sampler alone (every 100 ms) can miss a stale spell shorter than its period, which a short
    // outage on a loaded machine gives when the flags go live again soon after the database is back.
    const seen = (state: string) => {
      if (flagStates.at(-1)?.state !== state) flagStates.push({ state, atMs: Date.now() - started });
    };
    const flagState = async () => {
      const { flagState: state } = await proxyHealth(proxy.adminUrl);
      seen(state);
      return state;
    };
    const sampler = (async () => {
      while (sampling) {
        const health = await proxyHealth(proxy.adminUrl).catch(() => undefined);
        if (health) {
          mostQueued = Math.max(mostQueued, health.observationsQueued);
          seen(health.flagState);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    // The timeline starts live: a sampler whose first answer came late (a loaded machine) would start it at stale.
    await until(async () => (await flagState()) === 'live', 60_000, 'live flags before the outage');
    let downAt = 0;
    let upAt = 0;
    // Down from a fifth of the load to three fifths; the flags are seen stale before it comes back, live after.
    const outage = async () => {
      downAt = Date.now();
      databaseDown = true;
      await database.halt();
      await until(async () => (await flagState()) === 'stale', 60_000, 'stale flags while the database is down');
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + shape.durationMs * 0.6 - Date.now())));
      await database.resume();
      databaseDown = false;
      upAt = Date.now();
      await until(async () => (await flagState()) === 'live', 60_000, 'live flags once the database is back');
    };
    const serving = await servingAgainstReference(proxy.doors.sync, legacy.url, shape, [{ atMs: shape.durationMs * 0.2, run: outage }]);
    await settled(proxy.adminUrl);
    sampling = false;
    await sampler;
    const counts = countsSince(await observationCounts(proxy.adminUrl, databaseUrl), before);
    const states = flagStates.map((entry) => entry.state);
    const staleAt = states.indexOf('stale');
    const figures: DatabaseOutageFigures = {
      serving,
      servingHarmed: serving.lost + serving.changed,
      flagStates,
      flagsStaleThenLive: staleAt > 0 && states.indexOf('live', staleAt) > staleAt,
      downMs: upAt - downAt,
      mostQueued,
      observed: serving.answered,
      counts,
      unaccounted: serving.answered - (counts.stored + counts.dropped + counts.comparisonFailed + counts.writeFailed),
    };
    log(describeDatabaseOutage(figures));
    return figures;
  } finally {
    if (databaseDown) await database.resume();
    await stopProxy(proxy);
    legacy.kill('SIGKILL');
    shadow.kill('SIGKILL');
    await Promise.all([legacy.exited, shadow.exited]);
  }
}

export function describeDatabaseOutage(figures: DatabaseOutageFigures): string {
  const { counts } = figures;
  return (
    `PostgreSQL stopped for ${(figures.downMs / 1000).toFixed(1)} s under load: ${describeServing(figures.serving)}; ` +
    `flags ${figures.flagStates.map((entry) => `${entry.state} at ${(entry.atMs / 1000).toFixed(1)} s`).join(' → ')} (${figures.flagsStaleThenLive ? 'stale, then live' : 'NOT stale then live'}); ` +
    `up to ${figures.mostQueued} observations queued; of ${figures.observed} shadowed requests answered, ${counts.stored} observations stored, ${counts.writeFailed} dropped when their batch could not be written, ` +
    `${counts.dropped} copies dropped, ${counts.comparisonFailed} comparisons failed, ${figures.unaccounted} unaccounted`
  );
}
