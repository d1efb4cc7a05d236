/** Observations partitioned by day, against real PostgreSQL: the migration of an old table, partitions ahead and on demand, retention by whole days under one lock. */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations, migrateHarness } from '../../src/db/migrate.js';
import { createObservationRetention, retentionCutoff, retentionLockKey, retentionRound } from '../../proxy/observe/observation-retention.js';
import { listPartitions } from '../../proxy/observe/pg-observation-partitions.js';
import { PgObservationStore } from '../../proxy/observe/pg-observation-store.js';
import { advisoryLeadership } from '../../rollout/leadership.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';
import { observation } from '../proxy/observation-store.contract.js';

let database: IsolatedDatabase;
let client: pg.Client;
const partitionDays = async (store: PgObservationStore) => {
  const pool = (store as unknown as { pool: pg.Pool }).pool;
  return (await listPartitions(pool)).map((partition) => partition.day);
};

beforeAll(async () => {
  database = await createIsolatedDatabase('partitions');
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  // The harness schema as it was before partitioning, with rows in it: what an existing install has.
  await client.query('CREATE SCHEMA cutover; SET search_path TO cutover');
  await client.query(`CREATE TABLE schema_migrations (migration_set varchar(32) NOT NULL, version integer NOT NULL, name text NOT NULL,
    applied_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'), PRIMARY KEY (migration_set, version))`);
  for (const migration of listMigrations('cutover').filter((candidate) => candidate.version < 40)) {
    await client.query(migration.sql);
    await client.query('INSERT INTO schema_migrations VALUES ($1, $2, $3)', ['cutover', migration.version, migration.name]);
  }
  await client.query(`INSERT INTO observations (observed_at, route_id, service, method, path, mode, serving_side, serving_status, serving_latency_ms, shadow_side, shadow_status, shadow_latency_ms, verdict)
    SELECT timestamptz '2026-03-01T10:00:00Z' + (i || ' hours')::interval, 'sync.health', 'sync', 'GET', '/health', 'shadow', 'legacy', 200, i, 'reimpl', 200, i, 'matched'
    FROM generate_series(0, 49) AS i`);
});
afterAll(async () => {
  await client.end();
  await database.drop();
});

describe('observations by day', () => {
  it('migrates an existing unpartitioned table: every row in the partition of its day, ids kept and still increasing', async () => {
    const before = (await client.query<{ id: string }>('SELECT id FROM cutover.observations ORDER BY id')).rows.map((row) => row.id);
    const applied = await migrateHarness(database.url);
    expect(applied.map((migration) => migration.name)).toContain('040_observations_by_day.sql');
    const kind = await client.query<{ relkind: string }>("SELECT relkind FROM pg_class WHERE oid = 'cutover.observations'::regclass");
    expect(kind.rows[0]!.relkind).toBe('p');
    const rows = await client.query<{ id: string; partition: string; day: string }>(
      `SELECT id, tableoid::regclass::text AS partition, to_char(observed_at AT TIME ZONE 'UTC', 'YYYYMMDD') AS day FROM cutover.observations ORDER BY id`,
    );
    expect(rows.rows.map((row) => row.id)).toEqual(before);
    for (const row of rows.rows) expect(row.partition).toBe(`observations_p${row.day}`); // the client's search_path is cutover
    expect(new Set(rows.rows.map((row) => row.day))).toEqual(new Set(['20260301', '20260302', '20260303']));
    const store = new PgObservationStore(database.url);
    try {
      await store.append([observation({ observedAt: new Date('2026-03-02T12:00:00Z') })]);
      const newest = await client.query<{ id: string }>(`SELECT max(id) AS id FROM cutover.observations`);
      expect(Number(newest.rows[0]!.id)).toBeGreaterThan(Number(before[before.length - 1]));
    } finally {
      await store.close();
    }
    // Every migration from 040 on runs here, DDL by DDL: a minute and more on a loaded machine; what is checked is the result.
  }, 120_000);

  it('creates a missing day on demand, so an insert never fails for want of a partition', async () => {
    const store = new PgObservationStore(database.url);
    try {
      expect(await partitionDays(store)).not.toContain('2031-07-04');
      await store.append([observation({ observedAt: new Date('2031-07-04T23:59:59Z') }), observation({ observedAt: new Date('2031-07-06T00:00:00Z') })]);
      expect(await partitionDays(store)).toEqual(expect.arrayContaining(['2031-07-04', '2031-07-05', '2031-07-06']));
      // A day dropped behind this store's back (another instance's retention) is made again.
      await client.query('DROP TABLE cutover.observations_p20310704');
      await store.append([observation({ observedAt: new Date('2031-07-04T08:00:00Z') })]);
      // The drop took that day's first row with it; the new one and 07-06's are there.
      expect((await store.list({ since: new Date('2031-07-04T00:00:00Z') })).map((row) => row.observedAt.toISOString())).toEqual(['2031-07-06T00:00:00.000Z', '2031-07-04T08:00:00.000Z']);
    } finally {
      await store.close();
    }
  });

  it('creates today and the days ahead, drops the days past retention whole and keeps the rest', async () => {
    const store = new PgObservationStore(database.url);
    try {
      const now = new Date('2026-03-10T15:00:00Z');
      await store.append([
        observation({ observedAt: new Date('2026-03-02T23:00:00Z') }),
        observation({ observedAt: new Date('2026-03-03T00:00:00Z') }),
        observation({ observedAt: new Date('2026-03-09T00:00:00Z') }),
      ]);
      // 7 days kept: 03-03 .. 03-10; 03-01 and 03-02 go.
      expect(retentionCutoff(now, 7).toISOString()).toBe('2026-03-03T00:00:00.000Z');
      const round = await retentionRound(store, { retentionDays: 7, partitionsAheadDays: 2 }, now);
      expect(round.dropped.map((partition) => [partition.day, partition.observations])).toEqual([['2026-03-01', 14], ['2026-03-02', 26]]);
      const days = await partitionDays(store);
      expect(days).not.toContain('2026-03-02');
      expect(days).toEqual(expect.arrayContaining(['2026-03-03', '2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12']));
      const left = await store.list({ since: new Date('2026-01-01T00:00:00Z'), limit: 10_000 });
      expect(left.filter((row) => row.observedAt < new Date('2026-03-03T00:00:00Z'))).toEqual([]);
      expect(left.filter((row) => row.observedAt >= new Date('2026-03-03T00:00:00Z') && row.observedAt < new Date('2026-03-04T00:00:00Z')).length).toBe(13); // 12 migrated, 1 appended
      expect((await retentionRound(store, { retentionDays: 7, partitionsAheadDays: 2 }, now)).dropped).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('runs the periodic round on one instance only: the one holding the retention lock', async () => {
    const stores = [new PgObservationStore(database.url), new PgObservationStore(database.url)];
    const instances = stores.map((store) => createObservationRetention({ store, leadership: advisoryLeadership(database.url, retentionLockKey), retentionDays: 7, partitionsAheadDays: 1, intervalMs: 60_000, log: () => undefined }));
    try {
      const rounds = [await instances[0]!.runOnce(), await instances[1]!.runOnce()];
      expect(rounds.map((round) => round !== undefined)).toEqual([true, false]);
      await instances[0]!.stop();
      expect(await instances[1]!.runOnce()).toBeDefined();
    } finally {
      await Promise.all(instances.map((instance) => instance.stop()));
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});
