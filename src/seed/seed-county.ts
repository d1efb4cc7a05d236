/**
 * Seeding a county into PostgreSQL: plan it, then, in one transaction, delete whatever the
 * county had and COPY the four tables from lazy row streams. Re-seeding therefore replaces;
 * a failure leaves the previous rows in place. Never row-by-row INSERTs: a million parcels
 * must take seconds, not minutes.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CutoverError } from '../errors.js';
import { migrate } from '../db/migrate.js';
import { chooseStrategy, replaceCountyRows } from './bulk-load.js';
import { batched } from './copy-text.js';
import { findCountyGeography, defaultCountyConfigsDir } from './county-geography.js';
import { planCounty, type GridPlan } from './grid-plan.js';
import { hashString } from './prng.js';
import { copyColumns, parcelRows, roadRows, saleRows, zoningRows, type SeedTable } from './tables.js';

export interface SeedOptions {
  countyId: string;
  /** Number of parcels, 1 .. 2,000,000. */
  parcels: number;
  /** Same seed + county + parcels gives byte-identical rows. */
  seed: number;
  /** Folder of `<key>/county.json` files; defaults to the repository's legacy/county_configs. */
  countyConfigsDir?: string;
}

export interface SeedSummary {
  countyId: string;
  seed: number;
  /** Rows written per table. */
  tables: Record<SeedTable, number>;
  parcels: number;
  sales: number;
  zoningAreas: number;
  roadSegments: number;
  elapsedMs: number;
}

export const maxParcels = 2_000_000;

/** Checks options and plans the county; throws CUTOVER_ERR_SEED_INVALID on bad input. */
export function planSeed(options: SeedOptions): GridPlan {
  const { countyId, parcels, seed } = options;
  if (typeof countyId !== 'string' || countyId === '') throw new CutoverError('CUTOVER_ERR_SEED_INVALID', 'countyId is required');
  if (!Number.isInteger(parcels) || parcels < 1 || parcels > maxParcels) {
    throw new CutoverError('CUTOVER_ERR_SEED_INVALID', `parcels must be an integer from 1 to ${maxParcels}, got ${parcels}`);
  }
  if (!Number.isInteger(seed)) throw new CutoverError('CUTOVER_ERR_SEED_INVALID', `seed must be an integer, got ${seed}`);
  const county = findCountyGeography(countyId, options.countyConfigsDir ?? defaultCountyConfigsDir);
  return planCounty(county, seed, parcels);
}

/** Streams `rows` into `table` with COPY FROM STDIN; resolves with the number of rows copied. */
async function copyInto(client: pg.Client, table: SeedTable, rows: Iterable<string>): Promise<number> {
  let count = 0;
  const counted = function* () {
    for (const row of rows) {
      count++;
      yield row;
    }
  };
  const sql = `COPY ${table} (${copyColumns[table].join(', ')}) FROM STDIN`;
  await pipeline(Readable.from(batched(counted()), { objectMode: false }), client.query(copyFrom(sql)));
  return count;
}

/** Seeds (or re-seeds, replacing) one county; resolves with per-table counts and elapsed time. */
export async function seedCounty(databaseUrl: string, options: SeedOptions): Promise<SeedSummary> {
  const started = performance.now();
  const plan = planSeed(options);
  // Idempotent: the reference tables must exist before they can be filled.
  await migrate(databaseUrl, { sets: ['reference'] });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const tables: Record<SeedTable, number> = { property_operational: 0, property_sales: 0, zoning_areas: 0, road_segments: 0 };
  try {
    await client.query('BEGIN');
    // Durability of a re-creatable seed is not worth waiting for the WAL flush.
    await client.query('SET LOCAL synchronous_commit = off');
    // Two seeders of the same county serialise instead of interleaving deletes and copies.
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [0x5eed, hashString(options.countyId) | 0]);
    await client.query("SET LOCAL maintenance_work_mem = '256MB'");
    const replace = async (table: SeedTable, expectedRows: number, rows: () => Iterable<string>) => {
      const strategy = await chooseStrategy(client, table, options.countyId, expectedRows);
      tables[table] = await replaceCountyRows(client, table, options.countyId, strategy, () => copyInto(client, table, rows()));
    };
    // Row estimates only choose the load strategy; the counts reported are the rows copied.
    await replace('zoning_areas', plan.rows * 4, () => zoningRows(plan));
    await replace('road_segments', (plan.rows + 1) * plan.columns * 2, () => roadRows(plan));
    await replace('property_operational', plan.parcels, () => parcelRows(plan));
    await replace('property_sales', plan.parcels, () => saleRows(plan));
    await client.query('COMMIT');
    // A bulk load leaves the planner with no statistics (estimates of one row) until autovacuum
    // gets round to the tables, and a seeded stack is used at once. Without them the sales ratio
    // study's plan recomputes its medians once per sale: 167 s instead of 0.1 s on benton_wa,
    // timing out /plugins/v1/market-analysis/run on both implementations (decision 0038).
    await client.query(`ANALYZE ${Object.keys(copyColumns).join(', ')}`);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
  return {
    countyId: options.countyId,
    seed: options.seed,
    tables,
    parcels: tables.property_operational,
    sales: tables.property_sales,
    zoningAreas: tables.zoning_areas,
    roadSegments: tables.road_segments,
    elapsedMs: Math.round(performance.now() - started),
  };
}

/** True when the county has at least one parcel; false too when the schema is not there yet. */
export async function isCountySeeded(databaseUrl: string, countyId: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query('SELECT EXISTS (SELECT 1 FROM property_operational WHERE county_id = $1) AS seeded', [countyId]);
    return result.rows[0]?.seeded === true;
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return false;
    throw error;
  } finally {
    await client.end();
  }
}
