/**
 * The main job's unattended cutover (issue 15): with the stack up and traffic flowing, a read
 * route goes shadow → READY → rollout steps → `reimpl` → `retired`, and a second read route's
 * reimplementation is made to fail mid-rollout (a fault injected here, and said so: its process
 * is killed), so the rollout controller rolls it back to shadow while the proxy falls back to
 * legacy for the requests the reimplementation was serving. Every change is a guarded flag
 * change or the controller's, so the audit log and the report tell the story afterwards.
 */
import type { FlagMode } from '../../flags/flag.js';
import { setGuarded } from '../../flags/promotion-guard.js';
import { runGate, type GateReport } from '../../gate/gate.js';
import { gatePromotionGuard } from '../../gate/promotion-guard.js';
import { PgRolloutStore } from '../../rollout/pg-rollout-store.js';
import type { Rollout } from '../../rollout/rollout.js';
import { startRollout } from '../../rollout/rollout-service.js';
import type { ConfigInput, GateOverrides } from '../config/schema.js';
import { CutoverError } from '../errors.js';
import type { CutoverStack } from './cutover-stack.js';

/** The story's rollouts: three steps, each at least this long, two breached checks roll back. */
export const demoRollout = Object.freeze({ steps: [10, 50, 100], stepDurationMs: 3000, checks: 2 });

/**
 * The controller's pace and budgets for a story of a minute, not days: checks every second, 20
 * observations a step, and a p99 budget for a step of a few dozen samples (where p99 is the
 * slowest one or two); printed as lowered. The demo command and the main job's test start the stack with these.
 */
export const demoConfigOverrides: ConfigInput = Object.freeze({ rollout: { checkIntervalMs: 1000, minSamplesPerStep: 20, budgets: { latencyRatio: 3 } } });

export interface StoryRoutes {
  /** A read route to cut over whole, and its path. */
  read: { routeId: string; path: string };
  /** A read route whose reimplementation is made to fail mid-rollout, its path, and the reimplementation's process serving it. */
  faulty: { routeId: string; path: string; process: string };
}

export const storyRoutes = (countyId: string): StoryRoutes => ({
  read: { routeId: 'sync.counties.list', path: '/counties' },
  // Served for the reimplementation by its own process (reimpl.gis-export), so killing it fails this route and not the read one.
  faulty: { routeId: 'sync.gis-export.formats', path: `/plugins/v1/gis-export/formats/${countyId}`, process: 'reimpl.gis-export' },
});

export interface StoryOutcome {
  routes: StoryRoutes;
  /** The gate's verdicts of both routes after the shadow phase, with the lowered thresholds. */
  shadowGate: GateReport;
  /** When the fault was injected (absent: never, the rollout did not get that far). */
  faultAt?: Date;
  rollouts: Rollout[];
  finalModes: Record<string, FlagMode>;
  /** Requests the driver sent during the story, and how many answers were not 2xx. */
  requests: { sent: number; failed: number };
}

/**
 * Sends both routes' requests at a steady pace until stopped (open loop: an answer's delay does
 * not slow the next), each as another user (its own canary key), so a canary share splits them.
 */
function drive(base: string, paths: readonly string[], intervalMs: number, keyHeader: string) {
  let sent = 0;
  let failed = 0;
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    for (const path of paths) {
      sent += 1;
      const request = fetch(`${base}${path}`, { headers: { [keyHeader]: `story-user-${sent}` } })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.status >= 300) failed += 1;
        })
        .catch(() => {
          failed += 1;
        })
        .finally(() => pending.delete(request));
      pending.add(request);
    }
  }, intervalMs);
  return {
    counts: () => ({ sent, failed }),
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

async function until<T>(what: string, deadlineMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new CutoverError('CUTOVER_ERR_MAIN_JOB_FAILED', `the cutover story waited ${deadlineMs / 1000} s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const modeText = (flag: { mode: FlagMode; percent: number } | undefined) => (flag ? (flag.mode === 'canary' ? `canary:${flag.percent}` : flag.mode) : 'legacy');

/** Runs the story on a stack whose routes are in shadow; `since` is the run's start (the gate's window). */
export async function runCutoverStory(stack: CutoverStack, options: { countyId: string; since: Date; gateOverrides: GateOverrides; log: (line: string) => void }): Promise<StoryOutcome> {
  const { log } = options;
  const routes = storyRoutes(options.countyId);
  const ids = [routes.read.routeId, routes.faulty.routeId];
  const actor = 'cutover-main-job';
  const thresholds = { ...stack.config.gate.thresholds, ...options.gateOverrides };
  const gateSources = { observations: stack.observations, catalogue: stack.catalogue, thresholds };
  // The promotions of the story are guarded like any: by the gate, with the demo's lowered thresholds, over a window of this run.
  const guardSince = (since: Date) => ({ refusals: (routeIds: readonly string[]) => gatePromotionGuard(gateSources, (Date.now() - since.getTime()) / 3_600_000).refusals(routeIds) });
  const guard = guardSince(options.since);
  const rollouts = new PgRolloutStore(stack.databaseUrl);
  const driver = drive(stack.proxy.urls.sync!, [routes.read.path, routes.faulty.path], 40, stack.config.proxy.canaryKeyHeader);
  const { rollout } = stack.config;
  log(`cutover story: ${routes.read.routeId} to retired, ${routes.faulty.routeId} rolled out with a fault injected; rollout steps ${demoRollout.steps.join(',')}, ${demoRollout.stepDurationMs / 1000} s a step at least, ${demoRollout.checks} breached checks roll back; controller every ${rollout.checkIntervalMs} ms, ${rollout.minSamplesPerStep} observations a step, budgets mismatch ${rollout.budgets.mismatchRate}, errors ${rollout.budgets.errorRate}, p99 ratio ${rollout.budgets.latencyRatio} (lowered for the demo's size)`);
  let faultAt: Date | undefined;
  try {
    // 1. Shadow: evidence until the gate calls both READY.
    const judgeBoth = async (): Promise<GateReport> => {
      const reports = await Promise.all(ids.map((route) => runGate(gateSources, { route, since: options.since, now: new Date() })));
      return { ...reports[0]!, routes: reports.flatMap((report) => report.routes) };
    };
    const shadowGate = await until('both story routes to be READY in shadow', 60_000, async () => {
      await stack.proxy.flushObservations();
      const report = await judgeBoth();
      return report.routes.every((route) => route.verdict === 'READY') ? report : undefined;
    }).catch(async (error: unknown) => {
      const said = (await judgeBoth()).routes.map((route) => `${route.routeId} ${route.verdict} (${route.failed.join(', ')})`);
      throw new CutoverError('CUTOVER_ERR_MAIN_JOB_FAILED', `${(error as Error).message}: ${said.join('; ')}`);
    });
    for (const id of ids) log(`  gate: ${id} READY in shadow (${shadowGate.routes.find((route) => route.routeId === id)!.evidence.compared} compared)`);

    // 2. Rollouts, started like `cutover rollout start`: the first step is a guarded promotion.
    for (const id of ids) {
      await startRollout(
        { rollouts, flags: stack.flagStore, catalogue: stack.catalogue, guard },
        { pattern: id, ...demoRollout, steps: [...demoRollout.steps], reason: 'main job: the cutover story', actor, now: new Date() },
      );
      log(`  rollout started: ${id} canary:${demoRollout.steps[0]}`);
    }

    // 3. The fault, once the faulty route's rollout has risen a step: its reimplementation's process is killed.
    const victim = stack.services.find((service) => service.spec.id === routes.faulty.process);
    if (!victim) throw new CutoverError('CUTOVER_ERR_MAIN_JOB_FAILED', `no ${routes.faulty.process} process to inject the fault into`);
    const seen = new Map<string, string>();
    const settled = await until('the rollouts to settle', 120_000, async () => {
      const snapshot = await stack.flagStore.snapshot();
      for (const id of ids) {
        const now = modeText(snapshot.flags.get(id));
        if (seen.get(id) !== now) log(`  ${id}: ${now}`);
        seen.set(id, now);
      }
      const faulty = snapshot.flags.get(routes.faulty.routeId);
      if (!faultAt && faulty?.mode === 'canary' && faulty.percent > demoRollout.steps[0]!) {
        faultAt = new Date();
        log(`  FAULT INJECTED (by the demo, on purpose): SIGKILL to ${victim.spec.id} (pid ${victim.pid}), the reimplementation's process serving ${routes.faulty.routeId}, at canary:${faulty.percent}`);
        process.kill(-victim.pid, 'SIGKILL');
      }
      const states = await rollouts.list();
      const latest = ids.map((id) => states.find((entry) => entry.routeId === id));
      return latest.every((entry) => entry && entry.state !== 'running' && entry.state !== 'paused') ? latest : undefined;
    });
    const [readRollout, faultyRollout] = settled as [Rollout, Rollout];
    log(`  rollout of ${routes.read.routeId}: ${readRollout.state}; of ${routes.faulty.routeId}: ${faultyRollout.state}${faultyRollout.lastAnalysis ? ` (${faultyRollout.lastAnalysis.why})` : ''}`);

    // 4. The read route, at reimpl, retired: the last guarded promotion, with legacy no longer asked. It is
    // judged on what the reimplementation did while serving it all (legacy still shadowed): from the rollout's end.
    if (readRollout.state === 'completed') {
      const servingSince = readRollout.updatedAt;
      const retireGate = await until(`${routes.read.routeId} to be READY at reimpl`, 60_000, async () => {
        await stack.proxy.flushObservations();
        const report = await runGate(gateSources, { route: routes.read.routeId, since: servingSince, now: new Date() });
        return report.routes[0]?.verdict === 'READY' ? report : undefined;
      });
      log(`  gate: ${routes.read.routeId} READY at reimpl (${retireGate.routes[0]!.evidence.compared} compared since the rollout ended)`);
      await setGuarded(stack.flagStore, stack.catalogue.routes, guardSince(servingSince), { pattern: routes.read.routeId, mode: 'retired', actor, reason: 'main job: the cutover story, the rollout completed and the gate says READY at reimpl' });
      log(`  ${routes.read.routeId}: retired`);
    }
    const snapshot = await stack.flagStore.snapshot();
    const finalModes = Object.fromEntries(ids.map((id) => [id, snapshot.flags.get(id)?.mode ?? 'legacy'])) as Record<string, FlagMode>;
    await driver.stop();
    return { routes, shadowGate, ...(faultAt ? { faultAt } : {}), rollouts: settled as Rollout[], finalModes, requests: driver.counts() };
  } finally {
    await driver.stop();
    await rollouts.close();
  }
}
