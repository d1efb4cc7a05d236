/**
 * Progressive rollout: the step analysis and decision as pure functions, the controller over
 * the in-memory stores, and a whole rollout through a real proxy to real upstreams: it steps up
 * while the reimplementation is healthy and rolls back within one check once it answers 500s.
 */
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeFlagStore, type FakeFlagStore } from '../../flags/fake-flag-store.js';
import { flagFor } from '../../flags/flag.js';
import type { PromotionGuard } from '../../flags/promotion-guard.js';
import { routeEvidence } from '../../gate/route-evidence.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { talliesOf } from '../../proxy/observe/observation-tallies.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { createRolloutController, controllerActor } from '../../rollout/controller.js';
import { FakeRolloutStore } from '../../rollout/fake-rollout-store.js';
import { soleLeadership } from '../../rollout/leadership.js';
import { analyseStep, decide, validSteps } from '../../rollout/rollout.js';
import { abortRollout, pauseRollout, resumeRollout, startRollout } from '../../rollout/rollout-service.js';
import { configSchema } from '../../src/config/schema.js';
import { answerJson, call, configFor, eventually, startUpstreams, stopTestProxy, testCatalogue, type Upstreams } from '../proxy/harness.js';
import { observation } from '../proxy/observation-store.contract.js';

const budgets = { mismatchRate: 0.01, errorRate: 0.01, latencyRatio: 1.5 };
const now = new Date('2026-04-01T12:00:00Z');
const options = { budgets, minSamples: 20, confidence: 0.95, elapsed: true, percent: 5, now };
const evidenceOf = (count: number, shape: (index: number) => Parameters<typeof observation>[0] = () => ({})) =>
  routeEvidence(
    'sync.health',
    talliesOf(Array.from({ length: count }, (_, index) =>
      observation({
        observedAt: now,
        serving: { side: 'legacy', status: 200, latencyMs: 2, error: null, body: null },
        shadow: { side: 'reimpl', status: 200, latencyMs: 2, error: null, body: null },
        ...shape(index),
      }),
    )).routes,
    { since: null, now },
    20,
  );

describe('a rollout step', () => {
  it('passes with enough clean samples once its time is up, and holds before', () => {
    expect(analyseStep(evidenceOf(30), options).result).toBe('pass');
    expect(analyseStep(evidenceOf(30), { ...options, elapsed: false }).result).toBe('hold');
    expect(analyseStep(evidenceOf(10), options)).toMatchObject({ result: 'hold', why: expect.stringContaining('10 of 20 observations') });
  });

  it('breaches the error budget when the lower bound of the reimplementation error rate is over it, even before the minimum', () => {
    const failing = analyseStep(evidenceOf(8, () => ({ verdict: 'errored', erroredSide: 'shadow', shadow: { side: 'reimpl', status: 500, latencyMs: 1, error: null, body: null } })), options);
    expect(failing).toMatchObject({ result: 'breach', breached: ['error-rate'], errorRate: 1 });
    // One 500 in 30 is over the 1% budget as a rate, but not significantly: the step holds.
    const once = analyseStep(evidenceOf(30, (index) => (index === 0 ? { shadow: { side: 'reimpl', status: 500, latencyMs: 1, error: null, body: null } } : {})), options);
    expect(once).toMatchObject({ result: 'hold', breached: [] });
  });

  it('breaches the mismatch budget and the latency ratio', () => {
    expect(analyseStep(evidenceOf(20, (index) => (index % 2 ? { verdict: 'mismatched' } : {})), options).breached).toEqual(['mismatch-rate']);
    const slow = analyseStep(evidenceOf(30, () => ({ shadow: { side: 'reimpl', status: 200, latencyMs: 9, error: null, body: null } })), options);
    expect(slow.breached).toEqual(['latency-ratio']);
  });

  it('rolls back after N consecutive breaches, rises on a pass and ends after the last step', () => {
    const breach = analyseStep(evidenceOf(8, () => ({ verdict: 'mismatched' })), options);
    const pass = analyseStep(evidenceOf(30), options);
    const rollout = { steps: [1, 5, 100], stepIndex: 1, checks: 2, breaches: 0 };
    expect(decide(rollout, breach)).toEqual({ kind: 'hold', breaches: 1 });
    expect(decide({ ...rollout, breaches: 1 }, breach)).toEqual({ kind: 'rollback' });
    expect(decide(rollout, pass)).toEqual({ kind: 'advance', percent: 100 });
    expect(decide({ ...rollout, stepIndex: 2 }, pass)).toEqual({ kind: 'complete' });
    expect(validSteps([1, 5, 25, 50, 100])).toBe(true);
    expect(validSteps([5, 5])).toBe(false);
    expect(validSteps([0, 10])).toBe(false);
  });
});

const openGuard: PromotionGuard = { refusals: async () => [] };

describe('rollouts started, paused, resumed and aborted', () => {
  it('start at the first step through the guard, refuse a second rollout of the route, and abort back to shadow', async () => {
    const flags = createFakeFlagStore({ catalogue: testCatalogue });
    const rollouts = new FakeRolloutStore();
    const parts = { rollouts, flags, catalogue: testCatalogue, guard: openGuard };
    const start = { pattern: 'sync.health', steps: [10, 50, 100], stepDurationMs: 1, checks: 1, reason: 'go', actor: 'ana', now };
    await startRollout(parts, start);
    expect(flagFor(await flags.snapshot(), 'sync.health')).toMatchObject({ mode: 'canary', percent: 10 });
    await expect(startRollout(parts, start)).rejects.toMatchObject({ code: 'CUTOVER_ERR_ROLLOUT_INVALID' });
    await expect(startRollout(parts, { ...start, pattern: 'sync.echo', steps: [50, 10] })).rejects.toMatchObject({ code: 'CUTOVER_ERR_ROLLOUT_INVALID' });
    expect((await pauseRollout(parts, 'sync.health', now))[0]!.state).toBe('paused');
    expect((await resumeRollout(parts, 'sync.health', now))[0]!.state).toBe('running');
    expect((await abortRollout(parts, 'sync.health', { actor: 'ana', reason: 'enough' }, now))[0]!.state).toBe('aborted');
    expect(flagFor(await flags.snapshot(), 'sync.health').mode).toBe('shadow');
  });

  it('refuses to start where the gate refuses, unless forced', async () => {
    const flags = createFakeFlagStore({ catalogue: testCatalogue });
    const parts = { rollouts: new FakeRolloutStore(), flags, catalogue: testCatalogue, guard: { refusals: async (ids: readonly string[]) => ids.map((routeId) => ({ routeId, verdict: 'INSUFFICIENT_EVIDENCE', failed: ['evidence.compared'] })) } };
    const start = { pattern: 'sync.health', steps: [10, 100], stepDurationMs: 1, checks: 1, reason: 'go', actor: 'ana', now };
    await expect(startRollout(parts, start)).rejects.toMatchObject({ code: 'CUTOVER_ERR_GATE_NOT_PASSED' });
    expect(await parts.rollouts.active()).toEqual([]);
    expect((await startRollout(parts, { ...start, force: true })).forced).toHaveLength(1);
  });
});

describe('a rollout through a real proxy', () => {
  let upstreams: Upstreams;
  let proxy: RunningProxy;
  let flags: FakeFlagStore;
  const observations = new FakeObservationStore();
  const rollouts = new FakeRolloutStore();
  const index = (req: IncomingMessage) => Number(new URL(req.url!, 'http://x').searchParams.get('i'));
  let sent = 0;

  /** 40 requests, each with its own canary key so both shares are asked, then until all are observed. */
  async function traffic(): Promise<void> {
    const from = sent;
    sent += 40;
    await Promise.all(Array.from({ length: 40 }, (_, offset) => call(`${proxy.urls.sync!}/health?i=${from + offset}`, { headers: { 'x-cutover-canary-key': `user-${from + offset}` } })));
    await eventually(async () => ((await observations.outcomes()).length >= sent ? true : undefined), 10_000);
  }

  beforeAll(async () => {
    upstreams = await startUpstreams();
    flags = createFakeFlagStore({ catalogue: testCatalogue });
    proxy = await startProxy({ config: configFor(upstreams), catalogue: testCatalogue, flagSource: flags.source(), observationStore: observations, services: ['sync'], random: () => 0 });
    upstreams.legacy.behave((req, res) => answerJson(res, 200, { ok: true, i: index(req) }));
    upstreams.reimpl.behave((req, res) => answerJson(res, 200, { ok: true, i: index(req) }));
    await flags.set({ pattern: 'sync.health', mode: 'shadow', actor: 'ana', reason: 'compare' });
  });
  afterAll(() => stopTestProxy({ proxy, flags: undefined as never, store: observations, url: '' }, upstreams));

  it('steps up while healthy, and rolls back to shadow at the first check after the reimplementation starts answering 500', async () => {
    const config = configSchema.parse({ rollout: { minSamplesPerStep: 20, checks: 1 } });
    const controller = createRolloutController({ rollouts, flags, observations, catalogue: testCatalogue, leadership: soleLeadership, config });
    await startRollout({ rollouts, flags, catalogue: testCatalogue, guard: openGuard }, { pattern: 'sync.health', steps: [10, 50, 100], stepDurationMs: 1, checks: 1, reason: 'roll it out', actor: 'ana', now: new Date() });
    const mode = async () => {
      const flag = flagFor(await flags.snapshot(), 'sync.health');
      return flag.mode === 'canary' ? `canary:${flag.percent}` : flag.mode;
    };
    await traffic();
    await controller.tick();
    expect(await mode()).toBe('canary:50');
    await traffic();
    await controller.tick();
    expect(await mode()).toBe('canary:100');

    upstreams.reimpl.behave((_req, res) => answerJson(res, 500, { error: 'injected fault' }));
    await traffic();
    await controller.tick();
    expect(await mode()).toBe('shadow');
    const [rollout] = await rollouts.list('sync.health');
    expect(rollout).toMatchObject({ state: 'rolled-back', lastAnalysis: { result: 'breach', breached: expect.arrayContaining(['error-rate']) } });
    const history = await flags.history({ routeId: 'sync.health' });
    expect(history.slice(0, 3).map((entry) => [entry.actor, entry.to])).toEqual([
      [controllerActor, 'shadow'],
      [controllerActor, 'canary:100'],
      [controllerActor, 'canary:50'],
    ]);
    expect(history[0]!.reason).toMatch(/^rollout rolled back at step 3\/3 \(canary:100\) after 1 breached check\(s\): breached .*error-rate: .*reimpl errors 1\.0000/);
    await controller.stop();
  });
});
