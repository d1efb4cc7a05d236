/**
 * `cutover record`: a proxy whose front doors serve from legacy (every route's flag legacy,
 * nothing shadowed) with a recording tap, so whatever flows through it — a client's traffic
 * for `--duration` seconds or `--until-count` fixtures, or the representative traffic of
 * record-traffic.ts with `--drive` — becomes golden fixtures under parity/fixtures/.
 */
import { emptySnapshot, staticFlagSource } from '../../flags/flag.js';
import type { RouteCatalogue } from '../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import type { CutoverConfig } from '../../src/config/schema.js';
import type { Fixture } from './fixture.js';
import { createRedactor } from '../compare/redact.js';
import { RecordTap, type RecordTapCounts } from './record-tap.js';

export interface RecordOptions {
  config: CutoverConfig;
  catalogue: RouteCatalogue;
  dir: string;
  sample?: number;
  routes?: readonly string[];
  onFixture?: (fixture: Fixture, file: string) => void;
}

export interface Recording {
  proxy: RunningProxy;
  tap: RecordTap;
  /** Resolves when `count` fixtures have been written (or the tap is full). */
  untilCount(count: number): Promise<void>;
  /** Waits for queued exchanges, closes the proxy, and returns the counts. */
  stop(): Promise<RecordTapCounts>;
}

/** Opens the recording proxy on config.proxy's ports (0 = ephemeral; `proxy.urls` says where). */
export async function startRecording(options: RecordOptions): Promise<Recording> {
  const { config } = options;
  const fixtures = config.fixtures;
  let waiters: Array<{ count: number; resolve: () => void }> = [];
  const tap = new RecordTap({
    dir: options.dir,
    redactor: createRedactor(config.redaction.piiFields),
    sample: options.sample ?? 1,
    routes: options.routes ?? [],
    maxPerRoute: fixtures.maxPerRoute,
    maxTotal: fixtures.maxTotal,
    maxBodyBytes: fixtures.maxBodyBytes,
    onFixture: (fixture, file) => {
      options.onFixture?.(fixture, file);
      const reached = waiters.filter((waiter) => tap.counts.written >= waiter.count || tap.full);
      waiters = waiters.filter((waiter) => !reached.includes(waiter));
      for (const waiter of reached) waiter.resolve();
    },
  });
  const proxy = await startProxy({
    config,
    catalogue: options.catalogue,
    // Every route served by legacy and nothing shadowed: recording must not change what clients get.
    flagSource: staticFlagSource({ ...emptySnapshot('live'), loadedAt: new Date() }),
    observationStore: new FakeObservationStore(),
    tap,
  });
  return {
    proxy,
    tap,
    untilCount: (count) =>
      tap.counts.written >= count || tap.full ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })),
    stop: async () => {
      await proxy.close();
      await tap.settled();
      return { ...tap.counts };
    },
  };
}
