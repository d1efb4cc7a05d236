/** The in-memory ObservationStore for tests; the same contract tests run against it and PostgreSQL. */
import { outcomeOf, type Observation, type ObservationOutcome, type ObservationQuery, type ObservationStore, type OutcomeQuery } from './observation.js';
import { talliesOf, type ObservationTallies, type TallyQuery } from './observation-tallies.js';

export class FakeObservationStore implements ObservationStore {
  private readonly rows: Observation[] = [];
  private nextId = 1;
  /** Number of append() calls, so tests can see that writes are batched. */
  appendCalls = 0;

  async append(observations: readonly Observation[]): Promise<void> {
    this.appendCalls++;
    for (const observation of observations) this.rows.push(structuredClone({ ...observation, id: this.nextId++ }));
  }

  async list(query: ObservationQuery = {}): Promise<Observation[]> {
    return this.rows
      .filter((row) => query.routeId === undefined || row.routeId === query.routeId)
      .filter((row) => query.since === undefined || row.observedAt >= query.since)
      .filter((row) => query.verdict === undefined || row.verdict === query.verdict)
      .sort((a, b) => b.observedAt.getTime() - a.observedAt.getTime() || b.id! - a.id!)
      .slice(0, query.limit ?? 1000)
      .map((row) => structuredClone(row));
  }

  async outcomes(query: OutcomeQuery = {}): Promise<ObservationOutcome[]> {
    return this.rows
      .filter((row) => query.routeIds === undefined || query.routeIds.includes(row.routeId))
      .filter((row) => query.since === undefined || row.observedAt >= query.since)
      .sort((a, b) => a.observedAt.getTime() - b.observedAt.getTime() || a.id! - b.id!)
      .map((row) => outcomeOf(structuredClone(row)));
  }

  private readonly sampled: Array<{ routeId: string; hour: number; requests: number }> = [];

  async addSampledOut(counts: ReadonlyArray<{ routeId: string; requests: number }>, at: Date): Promise<void> {
    const hour = Math.floor(at.getTime() / 3_600_000) * 3_600_000;
    for (const count of counts) this.sampled.push({ ...count, hour });
  }

  async tallies(query: TallyQuery = {}): Promise<ObservationTallies> {
    // As in SQL: an hour counts when it ends after the window's start.
    const from = query.since === undefined ? -Infinity : Math.floor(query.since.getTime() / 3_600_000) * 3_600_000;
    const sampled = new Map<string, number>();
    for (const entry of this.sampled) if (entry.hour >= from) sampled.set(entry.routeId, (sampled.get(entry.routeId) ?? 0) + entry.requests);
    return talliesOf(this.rows, query, sampled);
  }

  /** As PostgreSQL drops day partitions: an observation goes when its whole UTC day ends at or before `before`. */
  async prune(before: Date): Promise<number> {
    const dayEnd = (at: Date) => Math.floor(at.getTime() / 86_400_000) * 86_400_000 + 86_400_000;
    const keep = this.rows.filter((row) => dayEnd(row.observedAt) > before.getTime());
    const removed = this.rows.length - keep.length;
    this.rows.splice(0, this.rows.length, ...keep);
    return removed;
  }

  async close(): Promise<void> {}
}
