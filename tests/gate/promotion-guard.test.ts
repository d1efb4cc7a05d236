/** Guarded promotion: the readiness gate decides whether a route may move toward the reimplementation, through the flags and the admin API. */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminServer, type AdminServer } from '../../flags/admin-server.js';
import { createFakeFlagStore } from '../../flags/fake-flag-store.js';
import { isPromotion, setGuarded } from '../../flags/promotion-guard.js';
import { gatePromotionGuard } from '../../gate/promotion-guard.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { loadConfig } from '../../src/config/load.js';
import { contractCatalogue } from '../flags/flag-store.contract.js';
import { observation } from '../proxy/observation-store.contract.js';

const now = new Date('2026-03-01T12:00:00Z');
const thresholds = loadConfig({ overrides: {} }).gate.thresholds;

async function setup() {
  const observations = new FakeObservationStore();
  const flags = createFakeFlagStore({ catalogue: contractCatalogue });
  const guard = gatePromotionGuard({ observations, catalogue: contractCatalogue, thresholds }, 24, () => now);
  return { observations, flags, guard };
}

/** Enough clean, faster observations of a route for READY under the default thresholds. */
const evidence = (routeId: string) =>
  Array.from({ length: 4000 }, (_, index) =>
    observation({
      routeId,
      observedAt: new Date(now.getTime() - 3_600_000 + index),
      serving: { side: 'legacy', status: 200, latencyMs: 10 + (index % 7), error: null, body: null },
      shadow: { side: 'reimpl', status: 200, latencyMs: 5 + (index % 5), error: null, body: null },
    }),
  );

describe('guarded promotion', () => {
  it('tells promotions from moves toward legacy', () => {
    expect(isPromotion({ from: 'shadow', mode: 'canary', percent: 5 })).toBe(true);
    expect(isPromotion({ from: 'canary:5', mode: 'canary', percent: 25 })).toBe(true);
    expect(isPromotion({ from: 'canary:25', mode: 'canary', percent: 5 })).toBe(false);
    expect(isPromotion({ from: 'legacy', mode: 'reimpl', percent: 0 })).toBe(true);
    expect(isPromotion({ from: 'reimpl', mode: 'retired', percent: 0 })).toBe(true);
    expect(isPromotion({ from: 'legacy', mode: 'shadow', percent: 0 })).toBe(false);
    expect(isPromotion({ from: 'reimpl', mode: 'shadow', percent: 0 })).toBe(false);
    expect(isPromotion({ from: 'canary:50', mode: 'legacy', percent: 0 })).toBe(false);
  });

  it('refuses a promotion without evidence, naming the failed criteria, and changes nothing', async () => {
    const { flags, guard } = await setup();
    const refused = setGuarded(flags, contractCatalogue.routes, guard, { pattern: 'sync.health', mode: 'reimpl', actor: 'ana', reason: 'looks fine' });
    await expect(refused).rejects.toMatchObject({ code: 'CUTOVER_ERR_GATE_NOT_PASSED', status: 409, message: expect.stringMatching(/sync\.health is INSUFFICIENT_EVIDENCE \(evidence\.compared, .*parity\.lower-bound/) });
    expect((await flags.snapshot()).flags.get('sync.health')).toBeUndefined();
    expect(await flags.history()).toEqual([]);
  });

  it('lets a forced promotion through and the audit log records it as forced, with what the gate said', async () => {
    const { flags, guard } = await setup();
    const { changed, forced } = await setGuarded(flags, contractCatalogue.routes, guard, { pattern: 'sync.health', mode: 'canary', percent: 5, force: true, actor: 'ana', reason: 'hotfix needs it' });
    expect(changed.map((flag) => flag.routeId)).toEqual(['sync.health']);
    expect(forced).toMatchObject([{ routeId: 'sync.health', verdict: 'INSUFFICIENT_EVIDENCE' }]);
    const [entry] = await flags.history({ routeId: 'sync.health' });
    expect(entry!.reason).toMatch(/^FORCED past the readiness gate \(sync\.health INSUFFICIENT_EVIDENCE: evidence\.compared.*\): hotfix needs it$/);
  });

  it('lets a READY route through unforced, and never guards a move back toward legacy', async () => {
    const { observations, flags, guard } = await setup();
    await observations.append(evidence('sync.health'));
    const promoted = await setGuarded(flags, contractCatalogue.routes, guard, { pattern: 'sync.health', mode: 'reimpl', actor: 'ana', reason: 'READY' });
    expect(promoted).toMatchObject({ changed: [{ routeId: 'sync.health', mode: 'reimpl' }], forced: [] });
    expect((await flags.history({ routeId: 'sync.health' }))[0]!.reason).toBe('READY');
    // No evidence at all for the narrator, yet going back from canary to shadow is never refused.
    await flags.set({ pattern: 'narrator.summarize', mode: 'canary', percent: 10, actor: 'ana', reason: 'set up' });
    await expect(setGuarded(flags, contractCatalogue.routes, guard, { pattern: 'narrator.summarize', mode: 'shadow', actor: 'ana', reason: 'back' })).resolves.toMatchObject({ forced: [] });
  });

  it('refuses a glob when any route it promotes is not READY', async () => {
    const { observations, flags, guard } = await setup();
    await observations.append(evidence('sync.gis-export.run'));
    await expect(setGuarded(flags, contractCatalogue.routes, guard, { pattern: 'sync.gis-export.*', mode: 'reimpl', actor: 'ana', reason: 'all of it' })).rejects.toMatchObject({
      code: 'CUTOVER_ERR_GATE_NOT_PASSED',
      message: expect.not.stringContaining('sync.gis-export.run is'),
    });
  });
});

describe('the admin API with the promotion guard', () => {
  let admin: AdminServer;
  let base: string;
  const token = 'admin-token-for-tests-0123456789';
  const put = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    const { flags, guard } = await setup();
    const config = loadConfig({ overrides: { proxy: { admin: { host: '127.0.0.1', port: 0 }, adminToken: token } } });
    admin = createAdminServer({ config, flagStore: flags, flagSource: flags.source(), metricsRegistry: new Registry(), catalogue: contractCatalogue, promotionGuard: guard });
    base = (await admin.listen()).url;
  });
  afterAll(() => admin?.close());

  it('answers 409 CUTOVER_ERR_GATE_NOT_PASSED for a promotion without evidence, and 200 with forced for one with force', async () => {
    const refused = await put('/flags/sync.health', { mode: 'reimpl', reason: 'try' });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: 'CUTOVER_ERR_GATE_NOT_PASSED', message: expect.stringContaining('evidence.compared') });
    const forced = await put('/flags/sync.health', { mode: 'reimpl', reason: 'incident', force: true });
    expect(forced.status).toBe(200);
    expect(await forced.json()).toMatchObject({ changed: [{ routeId: 'sync.health', mode: 'reimpl' }], forced: [{ routeId: 'sync.health', verdict: 'INSUFFICIENT_EVIDENCE' }] });
    expect((await put('/flags/sync.health', { mode: 'shadow', reason: 'back to shadow' })).status).toBe(200);
  });
});
