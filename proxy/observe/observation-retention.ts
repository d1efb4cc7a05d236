/**
 * Observation retention and partitions ahead, run by one proxy instance at a time: every
 * interval, the instance holding the retention advisory lock (rollout/leadership.ts, its own key)
 * creates the day partitions of today and the next days, then drops the days past retention.
 * `cutover observations prune` runs the same round once, by hand.
 */
import type { Leadership } from '../../rollout/leadership.js';
import type { DroppedPartition } from './pg-observation-partitions.js';

/** The advisory lock key of the retention round (the rollout controller's is 727276). */
export const retentionLockKey = 727278;

export interface PartitionedObservations {
  ensurePartitions(from: Date, to: Date): Promise<number>;
  dropPartitionsBefore(before: Date): Promise<DroppedPartition[]>;
}

export interface RetentionOptions {
  retentionDays: number;
  partitionsAheadDays: number;
}

export interface RetentionRound {
  /** Partitions created (today and the days ahead). */
  created: number;
  dropped: DroppedPartition[];
  /** Days ending at or before this instant were dropped. */
  cutoff: Date;
}

const dayMs = 86_400_000;

/** The retention bound: the start of the UTC day `retentionDays` before today, so the kept days are today and the `retentionDays` before it. */
export function retentionCutoff(now: Date, retentionDays: number): Date {
  return new Date(Math.floor(now.getTime() / dayMs) * dayMs - retentionDays * dayMs);
}

/** One round: partitions ahead, then the expired days dropped. */
export async function retentionRound(store: PartitionedObservations, options: RetentionOptions, now = new Date()): Promise<RetentionRound> {
  const created = await store.ensurePartitions(now, new Date(now.getTime() + options.partitionsAheadDays * dayMs));
  const cutoff = retentionCutoff(now, options.retentionDays);
  const dropped = await store.dropPartitionsBefore(cutoff);
  return { created, dropped, cutoff };
}

export interface ObservationRetention {
  /** Runs a round now if this instance leads; undefined when another instance does. */
  runOnce(now?: Date): Promise<RetentionRound | undefined>;
  start(): void;
  stop(): Promise<void>;
}

export function createObservationRetention(options: RetentionOptions & {
  store: PartitionedObservations;
  leadership: Leadership;
  intervalMs: number;
  log: (line: string) => void;
}): ObservationRetention {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const runOnce = async (now = new Date()) => {
    if (!(await options.leadership.acquire())) return undefined;
    const round = await retentionRound(options.store, options, now);
    if (round.created > 0 || round.dropped.length > 0) {
      options.log(`observations: ${round.created} day partitions created ahead, ${round.dropped.length} dropped (${round.dropped.map((partition) => `${partition.day}: ${partition.observations}`).join(', ') || 'none'}) before ${round.cutoff.toISOString()}`);
    }
    return round;
  };
  const tick = () => {
    if (running) return;
    running = runOnce()
      .catch((error: Error) => options.log(`observations retention: ${error.message}; tried again next round`))
      .finally(() => {
        running = undefined;
      });
  };
  return {
    runOnce,
    start() {
      tick();
      timer ??= setInterval(tick, options.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
      await options.leadership.release();
    },
  };
}
