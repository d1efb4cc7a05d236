/**
 * The reliability run's shadow faults (issue 9 item 9): a fixed open-loop load through
 * `cutover proxy` on a shadowed read route while the shadow side (the reimplementation) is
 * healthy, then hung (accepts, never answers), killed mid-phase (SIGKILL), slowed by 2 s, and
 * answering garbage. Each phase counts the serving answers lost or changed against the same
 * requests sent straight to legacy — it must be 0 — with the serving p50/p99, beside what the
 * proxy's metrics say the shadow side got.
 */
import { freePort } from '../../src/platform/ports.js';
import type { ProxyProcess } from '../platform/proxy-process.js';
import { describeServing, loadRoute, metricSum, servingAgainstReference, settled, shadowLoadRoute, startLoadProxy, startStandIn, stopProxy, warmUp, type LoadEvent, type LoadShape, type ServingFigures, type StandInProcess } from './load-scenario.js';
import type { PrivatePostgres } from './private-postgres.js';
import type { StandInMode } from './stand-in-upstream.js';

export const shadowFaultNames = ['none', 'hung', 'killed', 'slow', 'garbage'] as const;
export type ShadowFault = (typeof shadowFaultNames)[number];

/** What the proxy counted for the shadow side during a phase (its metrics, after minus before). */
export interface ShadowSideFigures {
  verdicts: Record<'matched' | 'mismatched' | 'ignored' | 'errored', number>;
  /** Failed shadow answers (cutover_proxy_failures_total, side reimpl). */
  failures: number;
  /** Copies not sent or not recorded (budget full, queue full). */
  dropped: number;
  /** Copies aborted at proxy.shadow.timeoutMs. */
  timeouts: number;
  /** Exchanges not recorded because their comparison failed (threw, timed out, worker died). */
  comparisonFailed: number;
  /** Throws caught in a step (each cost at most its own request). */
  internalErrors: number;
}

export interface ShadowFaultFigures {
  fault: ShadowFault;
  serving: ServingFigures;
  shadow: ShadowSideFigures;
  /** Serving answers lost or changed: must be 0. */
  servingHarmed: number;
}

const verdictNames = ['matched', 'mismatched', 'ignored', 'errored'] as const;

async function shadowCounters(adminUrl: string): Promise<ShadowSideFigures> {
  const route = `route="${loadRoute}"`;
  const verdicts = Object.fromEntries(await Promise.all(verdictNames.map(async (verdict) => [verdict, await metricSum(adminUrl, 'cutover_proxy_shadow_verdicts_total', [route, `verdict="${verdict}"`])] as const))) as ShadowSideFigures['verdicts'];
  return {
    verdicts,
    failures: await metricSum(adminUrl, 'cutover_proxy_failures_total', [route, 'side="reimpl"']),
    dropped: await metricSum(adminUrl, 'cutover_proxy_shadow_dropped_total', [route]),
    timeouts: await metricSum(adminUrl, 'cutover_proxy_shadow_timeouts_total'),
    comparisonFailed: await metricSum(adminUrl, 'cutover_proxy_comparison_failures_total', [route]),
    internalErrors: await metricSum(adminUrl, 'cutover_proxy_internal_errors_total'),
  };
}

function difference(after: ShadowSideFigures, before: ShadowSideFigures): ShadowSideFigures {
  return {
    verdicts: Object.fromEntries(verdictNames.map((verdict) => [verdict, after.verdicts[verdict] - before.verdicts[verdict]])) as ShadowSideFigures['verdicts'],
    failures: after.failures - before.failures,
    dropped: after.dropped - before.dropped,
    timeouts: after.timeouts - before.timeouts,
    comparisonFailed: after.comparisonFailed - before.comparisonFailed,
    internalErrors: after.internalErrors - before.internalErrors,
  };
}

/** The stand-in mode the shadow side runs in during a fault's phase (`killed` answers until it is killed). */
const modeOf: Record<ShadowFault, StandInMode> = { none: 'answering', hung: 'hung', killed: 'answering', slow: 'slow', garbage: 'garbage' };

export async function runShadowFaults(database: PrivatePostgres, shape: LoadShape, faults: readonly ShadowFault[] = shadowFaultNames, log: (line: string) => void = console.log): Promise<ShadowFaultFigures[]> {
  const legacy = await startStandIn('answering');
  // The shadow side keeps one address; each phase's stand-in process listens there in turn.
  const shadowPort = await freePort();
  let shadow: StandInProcess | undefined;
  let proxy: ProxyProcess | undefined;
  const figures: ShadowFaultFigures[] = [];
  try {
    proxy = await startLoadProxy({ databaseUrl: await database.database('shadow_faults'), legacyUrl: legacy.url, shadowUrl: `http://127.0.0.1:${shadowPort}` });
    const running = proxy;
    for (const fault of faults) {
      if (shadow) {
        shadow.kill('SIGKILL');
        await shadow.exited;
      }
      shadow = await startStandIn(modeOf[fault], shadowPort);
      if (figures.length === 0) {
        await shadowLoadRoute(running);
        await warmUp(running.doors.sync, legacy.url, shape);
      }
      const victim = shadow;
      const events: LoadEvent[] = fault === 'killed' ? [{ atMs: shape.durationMs / 2, run: () => victim.kill('SIGKILL') }] : [];
      const before = await shadowCounters(running.adminUrl);
      const serving = await servingAgainstReference(running.doors.sync, legacy.url, shape, events);
      // Copies still waiting on a hung or slow shadow, and their comparisons, count in this phase, not the next.
      await settled(running.adminUrl);
      const phase: ShadowFaultFigures = { fault, serving, shadow: difference(await shadowCounters(running.adminUrl), before), servingHarmed: serving.lost + serving.changed };
      figures.push(phase);
      log(describeShadowFault(phase));
    }
  } finally {
    if (proxy) await stopProxy(proxy);
    shadow?.kill('SIGKILL');
    legacy.kill('SIGKILL');
    await Promise.all([shadow?.exited, legacy.exited]);
  }
  return figures;
}

export function describeShadowFault(figures: ShadowFaultFigures): string {
  const { shadow } = figures;
  return (
    `shadow ${figures.fault === 'none' ? 'healthy (no fault)' : figures.fault}: ${describeServing(figures.serving)}; shadow side: ${verdictNames.map((verdict) => `${shadow.verdicts[verdict]} ${verdict}`).join(', ')}, ` +
    `${shadow.failures} failed, ${shadow.dropped} dropped, ${shadow.timeouts} timed out, ${shadow.comparisonFailed} comparisons failed, ${shadow.internalErrors} internal errors`
  );
}
