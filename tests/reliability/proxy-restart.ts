/**
 * The reliability run's proxy restart (issue 9 item 9): the fixed open-loop load through
 * `cutover proxy` on a shadowed route; part-way, the process gets SIGTERM (it stops accepting,
 * drains, flushes its observations, exits 0) and a new one starts on the same ports, as an
 * orchestrator restarts it. What must hold: every shadowed request a proxy answered is an
 * observation in the table (count answered vs stored), and no answer changed. Requests sent
 * while no proxy listened are refused (ECONNREFUSED): the client knows, nothing was accepted.
 */
import type { ProxyProcess } from '../platform/proxy-process.js';
import { countsSince, describeServing, freeProxyPorts, loadRoute, metricSum, observationCounts, servingAgainstReference, settled, shadowLoadRoute, startLoadProxy, startStandIn, stopProxy, until, warmUp, type LoadShape, type ObservationCounts, type ServingFigures } from './load-scenario.js';
import type { PrivatePostgres } from './private-postgres.js';

export interface ProxyRestartFigures {
  serving: ServingFigures;
  /** Answers through the proxy that differ from legacy's: must be 0. */
  changed: number;
  /** Shadowed requests a proxy answered (the first or the second process). */
  answered: number;
  counts: ObservationCounts;
  /** answered − stored: must be 0. */
  observationsLost: number;
  /** The first process: its exit code (0 expected), and what its drain cut. */
  firstExit: number | null;
  drain: { connectionsCut: number; shadowsLeft: number; durationMs: number } | undefined;
  /** From SIGTERM to the second process's doors listening (ms). */
  restartMs: number;
  /** Copies the first process dropped before its SIGTERM (its metrics, read then). */
  droppedBeforeRestart: number;
}

export async function runProxyRestart(database: PrivatePostgres, shape: LoadShape, log: (line: string) => void = console.log): Promise<ProxyRestartFigures> {
  const [legacy, shadow] = await Promise.all([startStandIn('answering'), startStandIn('answering')]);
  const databaseUrl = await database.database('restart');
  const ports = await freeProxyPorts();
  const start = () => startLoadProxy({ databaseUrl, legacyUrl: legacy.url, shadowUrl: shadow.url, ports });
  let first: ProxyProcess | undefined;
  let second: ProxyProcess | undefined;
  try {
    first = await start();
    const initial = first;
    await shadowLoadRoute(initial);
    await warmUp(initial.doors.sync, legacy.url, shape);
    await settled(initial.adminUrl);
    const before = await observationCounts(initial.adminUrl, databaseUrl);
    let firstExit: number | null = null;
    let restartMs = 0;
    let droppedBeforeRestart = 0;
    const restart = async () => {
      droppedBeforeRestart = (await metricSum(initial.adminUrl, 'cutover_proxy_shadow_dropped_total', [`route="${loadRoute}"`])) - before.dropped;
      const signalled = Date.now();
      firstExit = await stopProxy(initial);
      second = await start();
      restartMs = Date.now() - signalled;
      const next = second;
      await until(async () => (await metricSum(next.adminUrl, 'cutover_flag_mode', [`route="${loadRoute}"`, 'mode="shadow"'])) === 1, 30_000, 'the second proxy deciding with the shadow flag');
    };
    const serving = await servingAgainstReference(initial.doors.sync, legacy.url, shape, [{ atMs: shape.durationMs * 0.4, run: restart }]);
    const last = second as ProxyProcess | undefined;
    if (!last) throw new Error('the second proxy did not start');
    await settled(last.adminUrl);
    // The second process's counters start at zero: the table is the one count both share.
    const afterCounts = await observationCounts(last.adminUrl, databaseUrl);
    const counts: ObservationCounts = { ...countsSince(afterCounts, { ...before, dropped: 0, comparisonFailed: 0, writeFailed: 0 }) };
    const drained = initial.events.find((entry) => entry.event === 'proxy.drained') as { connectionsCut: number; shadowsLeft: number; durationMs: number } | undefined;
    const figures: ProxyRestartFigures = {
      serving,
      changed: serving.changed,
      answered: serving.answered,
      counts,
      observationsLost: serving.answered - counts.stored,
      firstExit,
      drain: drained ? { connectionsCut: drained.connectionsCut, shadowsLeft: drained.shadowsLeft, durationMs: drained.durationMs } : undefined,
      restartMs,
      droppedBeforeRestart,
    };
    log(describeProxyRestart(figures));
    return figures;
  } finally {
    for (const proxy of [first, second]) if (proxy && !proxy.gone()) await stopProxy(proxy);
    legacy.kill('SIGKILL');
    shadow.kill('SIGKILL');
    await Promise.all([legacy.exited, shadow.exited]);
  }
}

export function describeProxyRestart(figures: ProxyRestartFigures): string {
  const drain = figures.drain ? `drained in ${figures.drain.durationMs} ms, ${figures.drain.connectionsCut} connections cut, ${figures.drain.shadowsLeft} shadow copies unfinished` : 'no drain logged';
  return (
    `proxy restarted with SIGTERM under load (exit ${figures.firstExit}, ${drain}; the new process serving ${(figures.restartMs / 1000).toFixed(1)} s after the signal): ${describeServing(figures.serving)}; ` +
    `${figures.answered} shadowed requests answered, ${figures.counts.stored} observations stored, ${figures.observationsLost} lost ` +
    `(dropped and counted: ${figures.droppedBeforeRestart} by the first process before its SIGTERM, ${figures.counts.dropped + figures.counts.comparisonFailed + figures.counts.writeFailed} by the second)`
  );
}
