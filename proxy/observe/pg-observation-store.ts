/**
 * The PostgreSQL ObservationStore: table cutover.observations, partitioned by day
 * (src/db/migrations/cutover/040_observations_by_day.sql, applied by migrateHarness). A batch is
 * one INSERT of a JSON array, so writing 200 observations costs one round trip; the days it
 * falls on get their partitions first (proxy/observe/pg-observation-partitions.ts), so an insert never
 * fails for want of one. Retention drops whole days.
 */
import pg from 'pg';
import type { Observation, ObservationOutcome, ObservationQuery, ObservationStore, OutcomeQuery } from './observation.js';
import type { ObservationTallies, TallyQuery } from './observation-tallies.js';
import { tallyObservations } from './pg-observation-tallies.js';
import { createPartitions, dayOf, dropPartitions, missingPartition, type DroppedPartition } from './pg-observation-partitions.js';

interface Row {
  id: string;
  observed_at: Date;
  route_id: string;
  service: string;
  method: string;
  path: string;
  mode: Observation['mode'];
  serving_side: Observation['serving']['side'];
  serving_status: number | null;
  serving_latency_ms: number;
  serving_error: string | null;
  serving_body: string | null;
  shadow_side: Observation['shadow']['side'];
  shadow_status: number | null;
  shadow_latency_ms: number;
  shadow_error: string | null;
  shadow_body: string | null;
  verdict: Observation['verdict'];
  ignored_by: string[];
  errored_side: Observation['erroredSide'];
  differences: Observation['differences'];
}

type OutcomeRow = Omit<Row, 'id' | 'service' | 'method' | 'path' | 'serving_body' | 'shadow_body' | 'ignored_by' | 'differences'> & { accepted: string[] };

const columns = `observed_at timestamptz, route_id text, service text, method text, path text, mode text,
  serving_side text, serving_status int, serving_latency_ms float8, serving_error text, serving_body text,
  shadow_side text, shadow_status int, shadow_latency_ms float8, shadow_error text, shadow_body text,
  verdict text, ignored_by text[], errored_side text, differences jsonb`;

const names = columns.split(',').map((column) => column.trim().split(/\s+/)[0]!).join(', ');

// PostgreSQL text cannot hold NUL; a garbage body must not make a whole batch fail.
const clean = (text: string | null): string | null => (text === null ? null : text.replaceAll('\u0000', '\uFFFD'));

/**
 * Latencies are kept to the microsecond: finer than any upstream answers, and coarse enough that a
 * window's samples have few distinct values, which the tallies' percentiles and ranks sort.
 */
const microseconds = (ms: number) => Math.round(ms * 1000) / 1000;

function toRecord(observation: Observation): Record<string, unknown> {
  return {
    observed_at: observation.observedAt.toISOString(),
    route_id: observation.routeId,
    service: observation.service,
    method: observation.method,
    path: observation.path,
    mode: observation.mode,
    serving_side: observation.serving.side,
    serving_status: observation.serving.status,
    serving_latency_ms: microseconds(observation.serving.latencyMs),
    serving_error: observation.serving.error,
    serving_body: clean(observation.serving.body),
    shadow_side: observation.shadow.side,
    shadow_status: observation.shadow.status,
    shadow_latency_ms: microseconds(observation.shadow.latencyMs),
    shadow_error: observation.shadow.error,
    shadow_body: clean(observation.shadow.body),
    verdict: observation.verdict,
    ignored_by: observation.ignoredBy,
    errored_side: observation.erroredSide,
    differences: observation.differences,
  };
}

function fromRow(row: Row): Observation {
  return {
    id: Number(row.id),
    observedAt: row.observed_at,
    routeId: row.route_id,
    service: row.service,
    method: row.method,
    path: row.path,
    mode: row.mode,
    serving: { side: row.serving_side, status: row.serving_status, latencyMs: row.serving_latency_ms, error: row.serving_error, body: row.serving_body },
    shadow: { side: row.shadow_side, status: row.shadow_status, latencyMs: row.shadow_latency_ms, error: row.shadow_error, body: row.shadow_body },
    verdict: row.verdict,
    ignoredBy: row.ignored_by,
    erroredSide: row.errored_side,
    differences: row.differences,
  };
}

export class PgObservationStore implements ObservationStore {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({
      connectionString: databaseUrl,
      max: 4,
      // Sorts of listed and retained rows stay in memory at 100,000s of observations; the tallies
      // set their own, larger work_mem per report (pg-observation-tallies.ts).
      options: '-c work_mem=64MB',
    });
    // An idle client losing its server must not crash the proxy; the next query reports it.
    this.pool.on('error', () => undefined);
  }

  /** UTC days (YYYY-MM-DD) known to have their partition, so a batch of known days costs no extra query. */
  private readonly days = new Set<string>();

  async append(observations: readonly Observation[]): Promise<void> {
    if (observations.length === 0) return;
    const days = [...new Set(observations.map((observation) => dayOf(observation.observedAt)))].sort();
    const unknown = days.filter((day) => !this.days.has(day));
    if (unknown.length > 0) await this.ensureDays(unknown[0]!, unknown[unknown.length - 1]!);
    const insert = () =>
      this.pool.query(
        `INSERT INTO cutover.observations (${names})
         SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS r(${columns})`,
        [JSON.stringify(observations.map(toRecord))],
      );
    try {
      await insert();
    } catch (error) {
      // Another instance's retention dropped a day this process still believed in: create it again, once.
      if (!missingPartition(error)) throw error;
      for (const day of days) this.days.delete(day);
      await this.ensureDays(days[0]!, days[days.length - 1]!);
      await insert();
    }
  }

  private async ensureDays(first: string, last: string): Promise<void> {
    await createPartitions(this.pool, first, last);
    for (let day = new Date(`${first}T00:00:00Z`); dayOf(day) <= last; day = new Date(day.getTime() + 86_400_000)) this.days.add(dayOf(day));
  }

  /** Creates the day partitions from `from` to `to` (UTC days, inclusive) that are missing; answers how many it created. */
  async ensurePartitions(from: Date, to: Date): Promise<number> {
    return createPartitions(this.pool, dayOf(from), dayOf(to));
  }

  /** Drops every day partition wholly before `before`; names each with the observations it held. */
  async dropPartitionsBefore(before: Date): Promise<DroppedPartition[]> {
    const dropped = await dropPartitions(this.pool, before);
    for (const partition of dropped) this.days.delete(partition.day);
    // The sampled-out counts of those days go with them (a small table: deleted by row).
    await this.pool.query('DELETE FROM cutover.sampled_out WHERE hour < $1', [before]);
    return dropped;
  }

  async list(query: ObservationQuery = {}): Promise<Observation[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (query.routeId !== undefined) where.push(`route_id = $${values.push(query.routeId)}`);
    if (query.since !== undefined) where.push(`observed_at >= $${values.push(query.since)}`);
    if (query.verdict !== undefined) where.push(`verdict = $${values.push(query.verdict)}`);
    const limit = values.push(query.limit ?? 1000);
    const result = await this.pool.query<Row>(
      `SELECT * FROM cutover.observations ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY observed_at DESC, id DESC LIMIT $${limit}`,
      values,
    );
    return result.rows.map(fromRow);
  }

  async outcomes(query: OutcomeQuery = {}): Promise<ObservationOutcome[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (query.routeIds !== undefined) where.push(`route_id = ANY($${values.push([...query.routeIds])}::text[])`);
    if (query.since !== undefined) where.push(`observed_at >= $${values.push(query.since)}`);
    // The accepted ids are picked out of the diff in the database, so no diff crosses the wire.
    const result = await this.pool.query<OutcomeRow>(
      `SELECT observed_at, route_id, mode, verdict, errored_side,
              serving_side, serving_status, serving_latency_ms, serving_error,
              shadow_side, shadow_status, shadow_latency_ms, shadow_error,
              ARRAY(SELECT DISTINCT d->'disposition'->>'id' FROM jsonb_array_elements(differences) d
                    WHERE d->'disposition'->>'as' = 'accepted' ORDER BY 1) AS accepted
       FROM cutover.observations ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY observed_at, id`,
      values,
    );
    return result.rows.map((row) => ({
      observedAt: row.observed_at,
      routeId: row.route_id,
      mode: row.mode,
      verdict: row.verdict,
      erroredSide: row.errored_side,
      serving: { side: row.serving_side, status: row.serving_status, latencyMs: row.serving_latency_ms, error: row.serving_error },
      shadow: { side: row.shadow_side, status: row.shadow_status, latencyMs: row.shadow_latency_ms, error: row.shadow_error },
      accepted: row.accepted,
    }));
  }

  async addSampledOut(counts: ReadonlyArray<{ routeId: string; requests: number }>, at: Date): Promise<void> {
    if (counts.length === 0) return;
    await this.pool.query(
      `INSERT INTO cutover.sampled_out (route_id, hour, requests)
       SELECT route_id, date_trunc('hour', $2::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', requests FROM unnest($1::text[], $3::bigint[]) AS c(route_id, requests)
       ON CONFLICT (route_id, hour) DO UPDATE SET requests = sampled_out.requests + excluded.requests`,
      [counts.map((count) => count.routeId), at, counts.map((count) => count.requests)],
    );
  }

  async tallies(query: TallyQuery = {}): Promise<ObservationTallies> {
    return tallyObservations(this.pool, query);
  }

  async prune(before: Date): Promise<number> {
    const dropped = await this.dropPartitionsBefore(before);
    return dropped.reduce((total, partition) => total + partition.observations, 0);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
