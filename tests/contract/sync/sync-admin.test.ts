// Contract: the sync service's GET /sync-sources, GET /import-jobs and POST /seed-sample-data
// (legacy-contract.md section 1b.A). The seed runs on sync instances of their own, so that
// ENV (the guard) is what each test says, whatever the machine running the suite has set.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/db/migrate.js';
import { call } from '../gateway/gateway-client.js';
import { platform, sync } from './plugin-jobs.js';
import { startSync, type SyncInstance } from './sync-instance.js';

const SHADOW_SCHEMA = 'shadow_seed_contract';
const seedCounty = `ct_seed_${process.pid}`;
const shadowCounty = `${seedCounty}_shadow`;
const counties = [seedCounty, shadowCounty, 'SAMPLE-001'];

let unset: SyncInstance;
let production: SyncInstance;
let shadowDevelopment: SyncInstance;
let db: pg.Client;

beforeAll(async () => {
  db = new pg.Client({ connectionString: platform.databaseUrl });
  await db.connect();
  await migrate(platform.databaseUrl, { schema: SHADOW_SCHEMA, sets: ['jobs'] });
  [unset, production, shadowDevelopment] = await Promise.all([
    startSync(platform, { ENV: null }),
    startSync(platform, { ENV: 'production' }),
    startSync(platform, { ENV: 'development', DB_SCHEMA: `${SHADOW_SCHEMA},public` }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([unset?.stop(), production?.stop(), shadowDevelopment?.stop()]);
  await db?.query('DELETE FROM property_operational WHERE county_id = ANY($1)', [counties]);
  await db?.query(`DROP SCHEMA IF EXISTS ${SHADOW_SCHEMA} CASCADE`);
  await db?.end();
});

const seed = (instance: SyncInstance, query: string) => call(`/seed-sample-data${query}`, { method: 'POST', baseUrl: instance.url });
const notInteger = (field: string) => ({ loc: ['query', field], msg: 'value is not a valid integer', type: 'type_error.integer' });

async function rowsOf(countyId: string): Promise<Array<Record<string, any>>> {
  return (await db.query('SELECT * FROM property_operational WHERE county_id = $1 ORDER BY property_id', [countyId])).rows;
}

describe('GET /sync-sources and GET /import-jobs', () => {
  it('lists no sync sources, whatever the filters', async () => {
    for (const query of ['', '?county_id=benton_wa', '?county_id=x&system_type=pacs']) {
      const reply = await sync(`/sync-sources${query}`);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toBe('application/json');
      expect(reply.text).toBe('[]');
    }
  });

  it('lists no import jobs, with unbounded integers', async () => {
    for (const query of ['', '?source_system_id=3&status=RUNNING', '?limit=-5&offset=-1', '?limit=0&offset=99999999999999999999']) {
      const reply = await sync(`/import-jobs${query}`);
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('[]');
    }
  });

  it('refuses import-job integers that are not integers with every issue in one pydantic v1 422', async () => {
    const reply = await sync('/import-jobs?source_system_id=a&status=x&limit=1.5&offset=ten');
    expect(reply.status).toBe(422);
    expect(reply.json).toEqual({ detail: [notInteger('source_system_id'), notInteger('limit'), notInteger('offset')] });
  });
});

describe('POST /seed-sample-data', () => {
  it('inserts count random properties into property_operational and answers their count', async () => {
    const reply = await seed(unset, `?count=25&county_id=${seedCounty}&include_sync_sources=true`);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(`{"status":"success","created_count":25,"sync_sources_count":0,"county_id":"${seedCounty}"}`);
    const rows = await rowsOf(seedCounty);
    expect(rows).toHaveLength(25);
    const day = 86_400_000;
    for (const row of rows) {
      expect(row.property_id).toMatch(/^PROP-[0-9a-f]{8}$/);
      expect(row.parcel_number).toMatch(/^P-[1-9]\d{5}$/);
      const address = /^(\d+) Sample (St|Ave|Blvd|Rd)$/.exec(row.address);
      expect(Number(address?.[1])).toBeGreaterThanOrEqual(100);
      expect(Number(address?.[1])).toBeLessThanOrEqual(9999);
      expect(row.city).toBe('Sample City');
      expect(Number(row.zip_code)).toBeGreaterThanOrEqual(10000);
      expect(Number(row.zip_code)).toBeLessThanOrEqual(99999);
      expect(['residential', 'commercial', 'industrial', 'agricultural', 'vacant']).toContain(row.property_type);
      expect(row.land_area_sqft).toBeGreaterThanOrEqual(2000);
      expect(row.land_area_sqft).toBeLessThanOrEqual(20000);
      if (row.property_type === 'vacant') {
        expect([row.building_area_sqft, row.year_built]).toEqual([null, null]);
      } else {
        expect(row.building_area_sqft).toBeGreaterThanOrEqual(1000);
        expect(row.building_area_sqft).toBeLessThanOrEqual(5000);
        expect(row.year_built).toBeGreaterThanOrEqual(1950);
        expect(row.year_built).toBeLessThanOrEqual(2023);
      }
      if (row.property_type === 'residential') {
        expect(row.bedrooms).toBeGreaterThanOrEqual(2);
        expect(row.bedrooms).toBeLessThanOrEqual(6);
        expect(['1.0', '1.5', '2.0', '2.5', '3.0', '3.5', '4.0']).toContain(row.bathrooms);
      } else {
        expect([row.bedrooms, row.bathrooms]).toEqual([null, null]);
      }
      expect(Number(row.assessed_total_value)).toBeGreaterThanOrEqual(100000);
      expect(Number(row.assessed_total_value)).toBeLessThanOrEqual(800000);
      expect(Number(row.last_sale_price)).toBeGreaterThanOrEqual(100000);
      expect(Number(row.last_sale_price)).toBeLessThanOrEqual(1000000);
      const saleAge = (Date.now() - (row.last_sale_date as Date).getTime()) / day;
      expect(saleAge).toBeGreaterThanOrEqual(29);
      expect(saleAge).toBeLessThanOrEqual(3651);
      expect(row.geometry).toBeNull();
    }
    // The rows are real: the core route serves them.
    const listed = await call(`/properties?county_id=${seedCounty}&limit=1000`, { baseUrl: unset.url });
    expect(listed.json.map((p: { property_id: string }) => p.property_id).sort()).toEqual(rows.map((r) => r.property_id).sort());
  });

  it('seeds ten SAMPLE-001 properties by default and none for a count of zero or less', async () => {
    const defaults = await seed(unset, '');
    expect(defaults.json).toEqual({ status: 'success', created_count: 10, sync_sources_count: 0, county_id: 'SAMPLE-001' });
    expect(await rowsOf('SAMPLE-001')).toHaveLength(10);
    const before = (await rowsOf(seedCounty)).length;
    for (const count of ['0', '-3']) {
      const reply = await seed(unset, `?count=${count}&county_id=${seedCounty}`);
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({ status: 'success', created_count: 0, sync_sources_count: 0, county_id: seedCounty });
    }
    expect(await rowsOf(seedCounty)).toHaveLength(before);
  });

  it('refuses with 403 when ENV names another environment, after checking the query', async () => {
    const refused = await seed(production, `?count=1&county_id=${seedCounty}`);
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({ detail: 'Seed endpoint is only available in development environment' });
    const invalid = await seed(production, '?count=many');
    expect(invalid.status).toBe(422);
    expect(invalid.json).toEqual({ detail: [notInteger('count')] });
  });

  it('refuses a count or include_sync_sources that does not parse with one pydantic v1 422', async () => {
    const reply = await seed(unset, '?count=1.5&include_sync_sources=maybe');
    expect(reply.status).toBe(422);
    expect(reply.json).toEqual({
      detail: [notInteger('count'), { loc: ['query', 'include_sync_sources'], msg: 'value could not be parsed to a boolean', type: 'type_error.bool' }],
    });
    for (const flag of ['YES', 'off', '1', 'f']) {
      expect((await seed(unset, `?count=0&include_sync_sources=${flag}`)).status).toBe(200);
    }
  });

  it('answers 500 with the database error when a row cannot be stored, and stores none of them', async () => {
    const long = 'c'.repeat(51);
    const reply = await seed(unset, `?count=2&county_id=${long}`);
    expect(reply.status).toBe(500);
    expect(reply.json).toEqual({ detail: 'Error seeding sample data: value too long for type character varying(50)' });
    expect(await rowsOf(long)).toEqual([]);
    // Nothing to store, nothing to fail.
    expect((await seed(unset, `?count=0&county_id=${long}`)).status).toBe(200);
  });

  it('answers a shadow instance in full but leaves the serving data unchanged', async () => {
    const reply = await seed(shadowDevelopment, `?count=5&county_id=${shadowCounty}`);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ status: 'success', created_count: 5, sync_sources_count: 0, county_id: shadowCounty });
    expect(await rowsOf(shadowCounty)).toEqual([]);
  });
});
