/** One rollout controller across proxy instances, on the machine's PostgreSQL: the advisory lock elects one, and another takes over when it goes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgFlagStore } from '../../flags/pg-flag-store.js';
import { flagFor } from '../../flags/flag.js';
import { PgObservationStore } from '../../proxy/observe/pg-observation-store.js';
import { createRolloutController } from '../../rollout/controller.js';
import { advisoryLeadership } from '../../rollout/leadership.js';
import { PgRolloutStore } from '../../rollout/pg-rollout-store.js';
import { migrateHarness } from '../../src/db/migrate.js';
import { configSchema } from '../../src/config/schema.js';
import { testCatalogue } from '../proxy/harness.js';
import { observation } from '../proxy/observation-store.contract.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';

describe('the rollout controller across two proxy instances', () => {
  let database: IsolatedDatabase;
  beforeAll(async () => {
    database = await createIsolatedDatabase('rollout_leader');
    await migrateHarness(database.url);
  });
  afterAll(() => database?.drop());

  /** One proxy instance's controller, with stores of its own on the shared database. */
  function instance() {
    const flags = createPgFlagStore({ url: database.url, catalogue: testCatalogue });
    const rollouts = new PgRolloutStore(database.url);
    const observations = new PgObservationStore(database.url);
    const config = configSchema.parse({ rollout: { minSamplesPerStep: 10, checks: 1 } });
    const controller = createRolloutController({ rollouts, flags, observations, catalogue: testCatalogue, leadership: advisoryLeadership(database.url), config });
    return {
      flags,
      rollouts,
      observations,
      controller,
      close: async () => {
        await controller.stop();
        await Promise.all([flags.close(), rollouts.close(), observations.close()]);
      },
    };
  }

  it('runs one controller; when its holder goes, the other takes over and the rollout goes on', async () => {
    const a = instance();
    const b = instance();
    try {
      const started = new Date(Date.now() - 1000);
      await a.flags.set({ pattern: 'sync.health', mode: 'canary', percent: 10, actor: 'ana', reason: 'rollout start' });
      await a.rollouts.create({ routeId: 'sync.health', steps: [10, 50, 100], stepDurationMs: 1, checks: 1, reason: 'go', actor: 'ana', startedAt: started });
      const clean = (at: Date) =>
        Array.from({ length: 20 }, () =>
          observation({ routeId: 'sync.health', observedAt: at, mode: 'canary', serving: { side: 'legacy', status: 200, latencyMs: 2, error: null, body: null }, shadow: { side: 'reimpl', status: 200, latencyMs: 2, error: null, body: null } }),
        );
      await a.observations.append(clean(new Date()));

      const led = await Promise.all([a.controller.tick(), b.controller.tick()]);
      expect(led.filter(Boolean)).toHaveLength(1);
      const percent = async () => flagFor(await a.flags.snapshot(), 'sync.health').percent;
      // Exactly one step up: two controllers would have raised it twice.
      expect(await percent()).toBe(50);

      const [leader, follower] = led[0] ? [a, b] : [b, a];
      await leader.close();
      await follower.observations.append(clean(new Date(Date.now() + 10)));
      expect(await follower.controller.tick()).toBe(true);
      expect(flagFor(await follower.flags.snapshot(), 'sync.health').percent).toBe(100);
      const [rollout] = await follower.rollouts.list('sync.health');
      expect(rollout).toMatchObject({ stepIndex: 2, state: 'running' });
      await follower.close();
    } catch (error) {
      await Promise.allSettled([a.close(), b.close()]);
      throw error;
    }
  });
});
