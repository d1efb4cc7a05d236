/**
 * Unknown traffic: requests no catalogued route matched. The proxy forwards them to legacy
 * and records counts here (aggregated in memory, flushed in batches); the report lists them
 * so a missing catalogue entry is seen. PostgreSQL (cutover.unknown_traffic, 003) and a fake.
 */
import pg from 'pg';

export interface UnknownRequest {
  service: string;
  method: string;
  /** Path without its query string (the query would make every request its own row). */
  path: string;
  at: Date;
  /** How many requests this entry stands for (the proxy aggregates before recording). */
  count: number;
}

export interface UnknownTrafficSummary {
  service: string;
  method: string;
  path: string;
  count: number;
  lastSeen: Date;
}

export interface UnknownTrafficStore {
  record(requests: readonly UnknownRequest[]): Promise<void>;
  /** Totals per service, method and path since the hour of `since`, most frequent first. */
  list(options?: { since?: Date; limit?: number }): Promise<UnknownTrafficSummary[]>;
  close(): Promise<void>;
}

const maxPathLength = 512;
const hourOf = (at: Date) => new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000);
const bare = (path: string) => path.split('?')[0]!.slice(0, maxPathLength);

function summarise(rows: Iterable<{ service: string; method: string; path: string; count: number; lastSeen: Date }>, limit: number): UnknownTrafficSummary[] {
  const totals = new Map<string, UnknownTrafficSummary>();
  for (const row of rows) {
    const key = `${row.service} ${row.method} ${row.path}`;
    const total = totals.get(key);
    if (!total) totals.set(key, { ...row });
    else {
      total.count += row.count;
      if (row.lastSeen > total.lastSeen) total.lastSeen = row.lastSeen;
    }
  }
  return [...totals.values()].sort((a, b) => b.count - a.count || a.path.localeCompare(b.path)).slice(0, limit);
}

export class FakeUnknownTrafficStore implements UnknownTrafficStore {
  readonly rows: Array<UnknownRequest & { hour: Date }> = [];
  async record(requests: readonly UnknownRequest[]) {
    for (const request of requests) this.rows.push({ ...request, path: bare(request.path), hour: hourOf(request.at) });
  }
  async list({ since, limit = 1000 }: { since?: Date; limit?: number } = {}) {
    const from = since ? hourOf(since) : undefined;
    return summarise(this.rows.filter((row) => !from || row.hour >= from).map((row) => ({ ...row, lastSeen: row.at })), limit);
  }
  async close() {}
}

export class PgUnknownTrafficStore implements UnknownTrafficStore {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    this.pool.on('error', () => undefined);
  }

  async record(requests: readonly UnknownRequest[]) {
    if (requests.length === 0) return;
    // Aggregate first: one row per key in the statement, or ON CONFLICT would hit a row twice.
    const rows = new Map<string, { service: string; method: string; path: string; hour: string; count: number; last_seen: string }>();
    for (const request of requests) {
      const row = { service: request.service, method: request.method, path: bare(request.path), hour: hourOf(request.at).toISOString(), count: request.count, last_seen: request.at.toISOString() };
      const key = JSON.stringify([row.service, row.method, row.path, row.hour]);
      const seen = rows.get(key);
      if (!seen) rows.set(key, row);
      else {
        seen.count += row.count;
        if (row.last_seen > seen.last_seen) seen.last_seen = row.last_seen;
      }
    }
    await this.pool.query(
      `INSERT INTO cutover.unknown_traffic (service, method, path, hour, count, last_seen)
       SELECT service, method, path, hour, count, last_seen
         FROM jsonb_to_recordset($1::jsonb) AS r(service text, method text, path text, hour timestamptz, count bigint, last_seen timestamptz)
       ON CONFLICT (service, method, path, hour) DO UPDATE
         SET count = unknown_traffic.count + EXCLUDED.count, last_seen = GREATEST(unknown_traffic.last_seen, EXCLUDED.last_seen)`,
      [JSON.stringify([...rows.values()])],
    );
  }

  async list({ since, limit = 1000 }: { since?: Date; limit?: number } = {}) {
    const result = await this.pool.query<{ service: string; method: string; path: string; count: string; last_seen: Date }>(
      `SELECT service, method, path, sum(count) AS count, max(last_seen) AS last_seen FROM cutover.unknown_traffic
        WHERE ($1::timestamptz IS NULL OR hour >= date_trunc('hour', $1::timestamptz))
        GROUP BY service, method, path ORDER BY sum(count) DESC, path LIMIT $2`,
      [since ?? null, limit],
    );
    return result.rows.map((row) => ({ service: row.service, method: row.method, path: row.path, count: Number(row.count), lastSeen: row.last_seen }));
  }

  close() {
    return this.pool.end();
  }
}
