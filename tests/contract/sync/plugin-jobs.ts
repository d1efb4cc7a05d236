/**
 * Shared by the contract tests of the sync job plugins (reporting, market analysis,
 * valuation): calls to the sync service under test, polling a job to its final state, and
 * fixture counties written straight into the platform's database so that the numbers a
 * plugin must compute (and round) are known exactly.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect } from 'vitest';
import { call, platform, pollUntil, type CallOptions, type Reply } from '../gateway/gateway-client.js';

export { platform };
export type { Reply };

/** One request to the sync service under test. */
export function sync(path: string, options: CallOptions = {}): Promise<Reply> {
  return call(path, { ...options, baseUrl: platform.syncUrl });
}

export type PluginPrefix = '/plugins/v1/reporting' | '/plugins/v1/market-analysis' | '/plugins/v1/valuation';

/** GET /status until the job is COMPLETED or FAILED (legacy finishes inline; an async
 * implementation may not, and the contract only promises the final state). */
export async function finalStatus(prefix: PluginPrefix, id: string): Promise<Reply> {
  return pollUntil(
    () => sync(`${prefix}/status/${id}`),
    (reply) => reply.status !== 200 || ['COMPLETED', 'FAILED'].includes(reply.json?.status),
    20_000,
  );
}

export const naiveUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;
export const uuid4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export interface FixtureProperty {
  id: string;
  propertyType: string;
  zipCode: string;
  buildingAreaSqft: number | null;
  yearBuilt: number | null;
  /** numeric(14,2) as a string, so no float rounding happens on the way in. */
  assessedTotalValue: string;
}

export interface FixtureSale {
  propertyId: string;
  saleDate: string;
  salePrice: string;
  saleType?: string;
}

/** A county of its own in property_operational/property_sales, removed by drop(). */
export class FixtureCounty {
  readonly countyId: string;
  private readonly client: pg.Client;

  private constructor(countyId: string, client: pg.Client) {
    this.countyId = countyId;
    this.client = client;
  }

  static async create(label: string): Promise<FixtureCounty> {
    const client = new pg.Client({ connectionString: platform.databaseUrl });
    await client.connect();
    return new FixtureCounty(`ct_${label}_${randomBytes(4).toString('hex')}`, client);
  }

  /** The property's id as stored: prefixed with the county so fixtures never collide. */
  propertyId(id: string): string {
    return `${this.countyId}-${id}`;
  }

  async addProperties(properties: FixtureProperty[]): Promise<void> {
    for (const p of properties) {
      await this.client.query(
        `INSERT INTO property_operational (property_id, county_id, parcel_number, address, zip_code, property_type,
           land_area_sqft, building_area_sqft, year_built, assessed_total_value)
         VALUES ($1, $2, $3, $4, $5, $6, 5000, $7, $8, $9)`,
        [this.propertyId(p.id), this.countyId, p.id, `${p.id} Fixture Rd`, p.zipCode, p.propertyType,
          p.buildingAreaSqft, p.yearBuilt, p.assessedTotalValue],
      );
    }
  }

  async addSales(sales: FixtureSale[]): Promise<void> {
    for (const s of sales) {
      await this.client.query(
        `INSERT INTO property_sales (property_id, county_id, sale_date, sale_price, sale_type) VALUES ($1, $2, $3, $4, $5)`,
        [this.propertyId(s.propertyId), this.countyId, s.saleDate, s.salePrice, s.saleType ?? 'arms_length'],
      );
    }
  }

  async query<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
    return (await this.client.query<T>(sql, values)).rows;
  }

  async drop(): Promise<void> {
    await this.client.query('DELETE FROM property_sales WHERE county_id = $1', [this.countyId]);
    await this.client.query('DELETE FROM property_operational WHERE county_id = $1', [this.countyId]);
    await this.client.end();
  }
}

/** The four naive-UTC timestamps of a job that has reached its final state. */
export const finishedJobTimestamps = {
  created_at: expect.stringMatching(naiveUtc),
  updated_at: expect.stringMatching(naiveUtc),
  started_at: expect.stringMatching(naiveUtc),
  completed_at: expect.stringMatching(naiveUtc),
};

/** Both /status and /results answer 404 `{"detail":"<label> <id> not found"}` for an unknown id. */
export async function expectUnknownJobNotFound(prefix: PluginPrefix, label: string): Promise<void> {
  for (const route of ['status', 'results']) {
    const reply = await sync(`${prefix}/${route}/no-such-job`);
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ detail: `${label} no-such-job not found` });
  }
}
