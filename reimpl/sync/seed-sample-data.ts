/**
 * `POST /seed-sample-data`. Reproduces legacy terrafusion_sync/seed_data.py
 * (legacy-contract.md section 1b.A): 403 unless `ENV` is unset or `development` (after the
 * query's 422s), `count` random properties inserted into the columns of property_operational
 * that production's attributes map to, in chunks of one JSON array each, a taken
 * property_id drawn again; a shadow instance (no property_operational of its own) inserts
 * and rolls back. The answer is deterministic: `{status, created_count, sync_sources_count: 0, county_id}`.
 */
import type { FastifyInstance } from 'fastify';
import { randomBytes, randomInt } from 'node:crypto';
import type pg from 'pg';
import { HttpDetail, queries, sendPy } from '../shared/fastapi.js';
import { bool, int, str } from '../shared/pydantic-v1.js';
import { pythonStr } from './plugins/job-table.js';

const FORBIDDEN = 'Seed endpoint is only available in development environment';
const PROPERTY_TYPES = ['residential', 'commercial', 'industrial', 'agricultural', 'vacant'];
const STREET_TYPES = ['St', 'Ave', 'Blvd', 'Rd'];
const BATHROOMS = [1, 1.5, 2, 2.5, 3, 3.5, 4];
const CHUNK = 1000;
const DAY_MS = 86_400_000;

const COLUMNS = ['property_id', 'county_id', 'parcel_number', 'address', 'city', 'zip_code', 'property_type',
  'land_area_sqft', 'building_area_sqft', 'year_built', 'bedrooms', 'bathrooms',
  'assessed_total_value', 'last_sale_price', 'last_sale_date'].join(', ');
const INSERT_SQL = `INSERT INTO property_operational (${COLUMNS}) `
  + `SELECT ${COLUMNS} FROM json_populate_recordset(NULL::property_operational, CAST($1 AS json)) `
  + 'ON CONFLICT (property_id) DO NOTHING RETURNING property_id';
const OWN_TABLE_SQL = 'SELECT n.nspname = current_schema() AS own FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace '
  + "WHERE c.oid = to_regclass('property_operational')";

type SampleRow = Record<string, string | number | null>;

/** random.randint(low, high): both ends included. */
const randint = (low: number, high: number) => randomInt(low, high + 1);
const choice = <T>(items: readonly T[]): T => items[randomInt(items.length)]!;
const newPropertyId = () => `PROP-${randomBytes(4).toString('hex')}`;

/** One random row, drawn from production's ranges, of the attributes that have a column. */
function sampleProperty(countyId: string): SampleRow {
  const propertyType = choice(PROPERTY_TYPES);
  const built = propertyType !== 'vacant';
  const residential = propertyType === 'residential';
  return {
    property_id: newPropertyId(),
    county_id: countyId,
    parcel_number: `P-${randint(100000, 999999)}`,
    address: `${randint(100, 9999)} Sample ${choice(STREET_TYPES)}`,
    city: 'Sample City',
    zip_code: String(randint(10000, 99999)),
    property_type: propertyType,
    land_area_sqft: randint(2000, 20000),
    building_area_sqft: built ? randint(1000, 5000) : null,
    year_built: built ? randint(1950, 2023) : null,
    bedrooms: residential ? randint(2, 6) : null,
    bathrooms: residential ? choice(BATHROOMS) : null,
    assessed_total_value: randint(100000, 800000),
    last_sale_price: randint(100000, 1000000),
    last_sale_date: new Date(Date.now() - randint(30, 3650) * DAY_MS).toISOString().slice(0, 10),
  };
}

/** Inserts every row, drawing a new property_id for each whose id is already taken. */
async function insert(client: pg.PoolClient, rows: SampleRow[]): Promise<number> {
  let pending = rows;
  while (pending.length) {
    const { rows: inserted } = await client.query<{ property_id: string }>(INSERT_SQL, [JSON.stringify(pending)]);
    const taken = new Set(inserted.map((r) => r.property_id));
    pending = pending.filter((row) => !taken.has(row.property_id as string)).map((row) => ({ ...row, property_id: newPropertyId() }));
  }
  return rows.length;
}

async function seed(pool: pg.Pool, count: number, countyId: string): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    let created = 0;
    for (let start = 0; start < count; start += CHUNK) {
      const chunk = Array.from({ length: Math.min(CHUNK, count - start) }, () => sampleProperty(countyId));
      created += await insert(client, chunk);
    }
    const { rows } = await client.query<{ own: boolean | null }>(OWN_TABLE_SQL);
    await client.query(rows[0]?.own ? 'COMMIT' : 'ROLLBACK');
    return created;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** `env` is the process's ENV: unset or `development` allows seeding. */
export function registerSeedSampleData(app: FastifyInstance, pool: pg.Pool, env: string | undefined): void {
  app.post<{ Querystring: Record<string, string | string[] | undefined> }>('/seed-sample-data', async (request, reply) => {
    const [count, countyId] = queries(request.query, [
      { name: 'count', validator: int(), fallback: 10 },
      { name: 'county_id', validator: str, fallback: 'SAMPLE-001' },
      // Accepted and ignored, as in production: there are no sync sources.
      { name: 'include_sync_sources', validator: bool, fallback: false },
    ]) as [number, string, boolean];
    if (env !== undefined && env !== 'development') throw new HttpDetail(403, FORBIDDEN);
    let created: number;
    try {
      created = await seed(pool, count, countyId);
    } catch (error) {
      throw new HttpDetail(500, `Error seeding sample data: ${pythonStr(error)}`);
    }
    return sendPy(reply, 200, { status: 'success', created_count: created, sync_sources_count: 0, county_id: countyId });
  });
}
