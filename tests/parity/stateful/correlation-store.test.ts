// One contract for the correlation stores (PostgreSQL and the in-memory fake), and the
// proxy's memory-in-front-of-store: bounded, expiring, shared through the persistent store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Correlation } from '../../../proxy/stateful/correlation.js';
import { Correlations, MemoryCorrelationStore, type CorrelationStore } from '../../../proxy/stateful/correlation-store.js';
import { PgCorrelationStore } from '../../../proxy/stateful/correlation-store-pg.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../../setup/isolated-database.js';

const pair = (servingId: string, shadowId: string, servingSide: 'legacy' | 'reimpl' = 'legacy'): Correlation => ({ name: 'job_id', routeId: 'sync.gis-export.run', servingSide, servingId, shadowId });
const inAnHour = () => new Date(Date.now() + 3_600_000);

let database: IsolatedDatabase;
const stores: Array<[string, () => CorrelationStore]> = [
  ['the in-memory fake', () => new MemoryCorrelationStore()],
  ['PostgreSQL', () => new PgCorrelationStore(database.url)],
];

beforeAll(async () => {
  database = await createIsolatedDatabase('correlations', { migrated: true });
});
afterAll(async () => {
  await database?.drop();
});

describe.each(stores)('a correlation store (%s)', (_name, open) => {
  it('answers the pair of a serving id on its side only, the newest pair winning', async () => {
    const store = open();
    await store.put([pair('A1', 'B1'), pair('C1', 'D1', 'reimpl')], inAnHour());
    expect(await store.get('legacy', 'A1')).toEqual(pair('A1', 'B1'));
    expect(await store.get('reimpl', 'A1')).toBeUndefined();
    expect(await store.get('reimpl', 'C1')).toEqual(pair('C1', 'D1', 'reimpl'));
    await store.put([pair('A1', 'B2')], inAnHour());
    expect((await store.get('legacy', 'A1'))?.shadowId).toBe('B2');
    await store.close();
  });

  it('keeps when the request that created the job reached the proxy, to the millisecond', async () => {
    const store = open();
    const askedAt = Date.parse('2026-12-01T12:00:00.123Z');
    await store.put([{ ...pair('W1', 'X1'), askedAt }], inAnHour());
    expect(await store.get('legacy', 'W1')).toEqual({ ...pair('W1', 'X1'), askedAt });
    await store.close();
  });

  it('never answers an expired pair, and prunes it', async () => {
    const store = open();
    await store.put([pair('E1', 'F1')], new Date(Date.now() - 1000));
    await store.put([pair('E2', 'F2')], new Date(Date.now() - 1000));
    expect(await store.get('legacy', 'E1')).toBeUndefined();
    expect(await store.prune()).toBeGreaterThanOrEqual(1);
    expect(await store.get('legacy', 'E2')).toBeUndefined();
    await store.close();
  });
});

describe('the proxy’s correlations', () => {
  it('keep at most maxEntries in memory, the oldest going first', () => {
    const memory = new MemoryCorrelationStore(2);
    for (const id of ['1', '2', '3']) memory.remember(pair(id, `s${id}`), Date.now() + 1000);
    expect(memory.size).toBe(2);
    expect(memory.peek('legacy', '1')).toBeUndefined();
    expect(memory.peek('legacy', '3')?.shadowId).toBe('s3');
  });

  it('find a pair another proxy learnt, through the persistent store, and then hold it in memory', async () => {
    const shared = new PgCorrelationStore(database.url);
    const first = new Correlations(shared);
    const second = new Correlations(shared);
    await first.learn([pair('G1', 'H1')]);
    expect(second.peek('legacy', 'G1')).toBeUndefined();
    expect(await second.find('legacy', 'G1')).toEqual(pair('G1', 'H1'));
    expect(second.peek('legacy', 'G1')).toEqual(pair('G1', 'H1'));
    await shared.close();
  });

  it('still answer from memory, counting the failure, when the persistent store is down', async () => {
    const down = new PgCorrelationStore('postgres://postgres@127.0.0.1:1/none');
    const correlations = new Correlations(down, { maxEntries: 10, ttlMs: 60_000, lookupTimeoutMs: 2000 });
    await correlations.learn([pair('K1', 'L1')]);
    expect(correlations.peek('legacy', 'K1')?.shadowId).toBe('L1');
    expect(await correlations.find('legacy', 'unknown')).toBeUndefined();
    expect(correlations.storeFailures).toBe(2);
    await down.close();
  });
});
