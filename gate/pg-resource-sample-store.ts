/** The PostgreSQL ResourceSampleStore: table cutover.resource_samples (src/db/migrations/cutover/045_resource_samples.sql). */
import pg from 'pg';
import type { Side } from '../proxy/serving/decide.js';
import type { ResourceSample, ResourceSampleStore } from './resource-samples.js';

interface Row {
  sampled_at: Date;
  service: string;
  side: Side;
  instance: string;
  pid: number;
  cpu_seconds: number;
  rss_bytes: string;
  hwm_bytes: string;
  requests: string;
}

export class PgResourceSampleStore implements ResourceSampleStore {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    this.pool.on('error', () => undefined);
  }

  async append(samples: readonly ResourceSample[]): Promise<void> {
    if (samples.length === 0) return;
    const column = <K extends keyof ResourceSample>(key: K) => samples.map((sample) => sample[key]);
    await this.pool.query(
      `INSERT INTO cutover.resource_samples (sampled_at, service, side, instance, pid, cpu_seconds, rss_bytes, hwm_bytes, requests)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::int[], $6::float8[], $7::int8[], $8::int8[], $9::int8[])`,
      [column('sampledAt'), column('service'), column('side'), column('instance'), column('pid'), column('cpuSeconds'), column('rssBytes'), column('hwmBytes'), column('requests')],
    );
  }

  async list(query: { since: Date; until?: Date }): Promise<ResourceSample[]> {
    const result = await this.pool.query<Row>(
      `SELECT sampled_at, service, side, instance, pid, cpu_seconds, rss_bytes, hwm_bytes, requests FROM cutover.resource_samples
       WHERE sampled_at >= $1 AND ($2::timestamptz IS NULL OR sampled_at <= $2) ORDER BY sampled_at, id`,
      [query.since, query.until ?? null],
    );
    return result.rows.map((row) => ({
      sampledAt: row.sampled_at,
      service: row.service,
      side: row.side,
      instance: row.instance,
      pid: row.pid,
      cpuSeconds: row.cpu_seconds,
      rssBytes: Number(row.rss_bytes),
      hwmBytes: Number(row.hwm_bytes),
      requests: Number(row.requests),
    }));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
