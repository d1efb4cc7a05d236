/** Percentiles of latency samples, shared by the report and the gate so both read a p99 the same way. */

/** Nearest-rank percentile of sorted values; null for no values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** reimpl / legacy at percentile p of unsorted samples; null when a side has none or legacy's is 0. */
export function percentileRatio(reimpl: readonly number[], legacy: readonly number[], p: number): number | null {
  const sort = (values: readonly number[]) => [...values].sort((a, b) => a - b);
  return ratioOf(percentile(sort(reimpl), p), percentile(sort(legacy), p));
}

/** reimpl / legacy of two percentiles already taken; null when either is missing or legacy's is 0. */
export const ratioOf = (reimpl: number | null, legacy: number | null): number | null => (reimpl === null || legacy === null || legacy === 0 ? null : reimpl / legacy);
