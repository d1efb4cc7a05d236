import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCountyGeography, isCountySeeded, seedCounty } from '../../src/seed/index.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';

let database: IsolatedDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createIsolatedDatabase('seed', { migrated: true });
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await database?.drop();
});

/** One fingerprint per table of a county, over every column but the sales' bigserial surrogate. */
async function fingerprint(countyId: string): Promise<Record<string, string>> {
  const { rows } = await client.query(
    `SELECT
       (SELECT md5(string_agg(p::text, '|' ORDER BY p.property_id)) FROM property_operational p WHERE county_id = $1) AS parcels,
       (SELECT md5(string_agg(concat_ws(',', property_id, sale_date, sale_price, sale_type), '|' ORDER BY property_id, sale_date))
          FROM property_sales WHERE county_id = $1) AS sales,
       (SELECT md5(string_agg(z::text, '|' ORDER BY z.zone_id)) FROM zoning_areas z WHERE county_id = $1) AS zoning,
       (SELECT md5(string_agg(r::text, '|' ORDER BY r.road_id)) FROM road_segments r WHERE county_id = $1) AS roads`,
    [countyId],
  );
  return rows[0];
}

async function counts(countyId: string): Promise<Record<string, number>> {
  const { rows } = await client.query(
    `SELECT (SELECT count(*) FROM property_operational WHERE county_id = $1)::int AS parcels,
            (SELECT count(*) FROM property_sales WHERE county_id = $1)::int AS sales,
            (SELECT count(*) FROM zoning_areas WHERE county_id = $1)::int AS zoning,
            (SELECT count(*) FROM road_segments WHERE county_id = $1)::int AS roads`,
    [countyId],
  );
  return rows[0];
}

interface ParcelRow {
  property_id: string;
  address: string;
  property_type: string;
  zoning_code: string;
  land_area_sqft: number;
  geometry: string;
  min_x: number;
  min_y: number;
  max_x: number;
  max_y: number;
}

type Position = [number, number];

function polygonsOf(geometry: { type: string; coordinates: unknown }): Position[][][] {
  if (geometry.type === 'Polygon') return [geometry.coordinates as Position[][]];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates as Position[][][];
  throw new Error(`unexpected geometry type ${geometry.type}`);
}

/** Area of a lon/lat ring in square feet, equirectangular at the ring's latitude (exact enough for a lot). */
function ringAreaSqft(ring: Position[]): number {
  const lat = (ring[0]![1] * Math.PI) / 180;
  const mx = 111_320 * Math.cos(lat);
  const my = 110_574 + 1_121 * Math.sin(lat) ** 2;
  let twice = 0;
  for (let k = 0; k + 1 < ring.length; k++) twice += ring[k]![0] * mx * ring[k + 1]![1] * my - ring[k + 1]![0] * mx * ring[k]![1] * my;
  return (Math.abs(twice) / 2) * 10.7639;
}

describe('seeding a county', () => {
  it('reports the county as unseeded before and seeded after, with the counts it wrote', async () => {
    expect(await isCountySeeded(database.url, 'test_county')).toBe(false);
    const summary = await seedCounty(database.url, { countyId: 'test_county', parcels: 800, seed: 42 });
    expect(await isCountySeeded(database.url, 'test_county')).toBe(true);
    expect(summary.parcels).toBe(800);
    expect(summary.tables).toEqual({
      property_operational: 800,
      property_sales: summary.sales,
      zoning_areas: summary.zoningAreas,
      road_segments: summary.roadSegments,
    });
    expect(await counts('test_county')).toEqual({ parcels: 800, sales: summary.sales, zoning: summary.zoningAreas, roads: summary.roadSegments });
    expect(summary.sales).toBeGreaterThan(400);
  });

  it('writes identical rows when re-seeded with the same seed, replacing rather than duplicating them', async () => {
    const first = await fingerprint('test_county');
    const before = await counts('test_county');
    await seedCounty(database.url, { countyId: 'test_county', parcels: 800, seed: 42 });
    expect(await counts('test_county')).toEqual(before);
    expect(await fingerprint('test_county')).toEqual(first);
  });

  it('writes different rows for a different seed, and replaces the county with them', async () => {
    const first = await fingerprint('test_county');
    await seedCounty(database.url, { countyId: 'test_county', parcels: 600, seed: 43 });
    const second = await fingerprint('test_county');
    expect(second.parcels).not.toBe(first.parcels);
    expect(second.sales).not.toBe(first.sales);
    expect((await counts('test_county')).parcels).toBe(600);
    await seedCounty(database.url, { countyId: 'test_county', parcels: 800, seed: 42 });
    expect(await fingerprint('test_county')).toEqual(first);
  });

  it('leaves every index of the reference tables in place after a bulk load', async () => {
    const { rows } = await client.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = 'public'
          AND tablename IN ('property_operational', 'property_sales', 'zoning_areas', 'road_segments') ORDER BY 1`,
    );
    expect(rows.map((r) => r.indexname)).toEqual([
      'ix_property_operational_bbox', 'ix_property_operational_county_property', 'ix_property_operational_county_type_property',
      'ix_property_sales_county_date', 'ix_property_sales_property', 'ix_road_segments_county_bbox', 'ix_zoning_areas_county_bbox',
      'property_operational_pkey', 'property_sales_pkey', 'road_segments_pkey', 'zoning_areas_pkey',
    ]);
  });

  it('leaves planner statistics on every table it loaded, so the first queries of a seeded stack are planned on real row counts', async () => {
    // Without them a bulk-loaded table is estimated at one row, and the sales ratio study's plan
    // recomputed its medians once per sale (167 s on benton_wa instead of 0.1 s: decision 0038).
    await seedCounty(database.url, { countyId: 'test_county', parcels: 300, seed: 7 });
    const { rows } = await client.query<{ relname: string; analyzed: boolean; reltuples: number }>(
      `SELECT s.relname, s.last_analyze IS NOT NULL AS analyzed, c.reltuples
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
        WHERE s.schemaname = 'public' AND s.relname IN ('property_operational', 'property_sales', 'zoning_areas', 'road_segments')
        ORDER BY 1`,
    );
    expect(rows.map((r) => r.relname)).toEqual(['property_operational', 'property_sales', 'road_segments', 'zoning_areas']);
    for (const row of rows) {
      expect(row, row.relname).toMatchObject({ analyzed: true });
      expect(row.reltuples, row.relname).toBeGreaterThan(0);
    }
    const { rows: [total] } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM property_operational');
    expect(rows.find((r) => r.relname === 'property_operational')!.reltuples).toBe(total!.n);
  });

  it('rejects a county that is not configured with CUTOVER_ERR_SEED_INVALID, touching nothing', async () => {
    const before = await fingerprint('test_county');
    await expect(seedCounty(database.url, { countyId: 'atlantis_wa', parcels: 100, seed: 1 })).rejects.toMatchObject({ code: 'CUTOVER_ERR_SEED_INVALID' });
    await expect(seedCounty(database.url, { countyId: 'test_county', parcels: 0, seed: 1 })).rejects.toMatchObject({ code: 'CUTOVER_ERR_SEED_INVALID' });
    await expect(seedCounty(database.url, { countyId: 'test_county', parcels: 10, seed: 1.5 })).rejects.toMatchObject({ code: 'CUTOVER_ERR_SEED_INVALID' });
    expect(await fingerprint('test_county')).toEqual(before);
  });
});

describe('a seeded county', () => {
  const countyId = 'benton_wa';
  let parcels: ParcelRow[];

  beforeAll(async () => {
    await seedCounty(database.url, { countyId, parcels: 2500, seed: 7 });
    parcels = (await client.query<ParcelRow>('SELECT * FROM property_operational WHERE county_id = $1 ORDER BY property_id', [countyId])).rows;
  });

  it('differs from another county seeded with the same seed', async () => {
    await seedCounty(database.url, { countyId: 'franklin_wa', parcels: 2500, seed: 7 });
    const { rows } = await client.query(
      `SELECT county_id, md5(string_agg(concat_ws(',', parcel_number, address, geometry, assessed_total_value), '|' ORDER BY property_id)) AS h
         FROM property_operational WHERE county_id IN ('benton_wa', 'franklin_wa') GROUP BY county_id`,
    );
    expect(rows).toHaveLength(2);
    expect(rows[0].h).not.toBe(rows[1].h);
  });

  it('has closed polygon rings whose bbox columns match the geometry, inside the county grid', async () => {
    const origin = findCountyGeography(countyId);
    const extent = (await client.query('SELECT max(max_x) AS max_x, max(max_y) AS max_y FROM zoning_areas WHERE county_id = $1', [countyId])).rows[0];
    let multiPolygons = 0;
    let irregular = 0;
    for (const parcel of parcels) {
      const geometry = JSON.parse(parcel.geometry);
      if (geometry.type === 'MultiPolygon') multiPolygons++;
      const xs: number[] = [];
      const ys: number[] = [];
      for (const polygon of polygonsOf(geometry)) {
        const ring = polygon[0]!;
        expect(ring.length).toBeGreaterThanOrEqual(5);
        expect(ring[0]).toEqual(ring[ring.length - 1]);
        if (ring.length - 1 >= 5) irregular++;
        for (const [x, y] of ring) xs.push(x), ys.push(y);
      }
      expect([parcel.min_x, parcel.min_y, parcel.max_x, parcel.max_y]).toEqual([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]);
      expect(parcel.min_x).toBeGreaterThanOrEqual(origin.originLon);
      expect(parcel.min_y).toBeGreaterThanOrEqual(origin.originLat);
      expect(parcel.max_x).toBeLessThanOrEqual(extent.max_x);
      expect(parcel.max_y).toBeLessThanOrEqual(extent.max_y);
    }
    expect(irregular).toBeGreaterThan(parcels.length * 0.05);
    expect(multiPolygons).toBeLessThan(parcels.length * 0.02);
  });

  it('has land areas computed from the polygons', () => {
    for (const parcel of parcels) {
      const area = polygonsOf(JSON.parse(parcel.geometry)).reduce((sum, polygon) => sum + ringAreaSqft(polygon[0]!), 0);
      expect(Math.abs(area - parcel.land_area_sqft) / parcel.land_area_sqft).toBeLessThan(0.01);
    }
  });

  it('has no two parcels whose bboxes overlap by more than a sliver', () => {
    const sorted = [...parcels].sort((a, b) => a.min_x - b.min_x);
    const area = (p: ParcelRow) => (p.max_x - p.min_x) * (p.max_y - p.min_y);
    for (let a = 0; a < sorted.length; a++) {
      const p = sorted[a]!;
      for (let b = a + 1; b < sorted.length && sorted[b]!.min_x < p.max_x; b++) {
        const q = sorted[b]!;
        const overlap = Math.max(0, Math.min(p.max_x, q.max_x) - q.min_x) * Math.max(0, Math.min(p.max_y, q.max_y) - Math.max(p.min_y, q.min_y));
        expect(overlap / Math.min(area(p), area(q)), `${p.property_id} / ${q.property_id}`).toBeLessThan(0.01);
      }
    }
  });

  it('gives every parcel the zoning code of a zoning area that contains it', async () => {
    const { rows } = await client.query(
      `SELECT count(*)::int AS orphans FROM property_operational p
        WHERE p.county_id = $1 AND NOT EXISTS (
          SELECT 1 FROM zoning_areas z WHERE z.county_id = p.county_id AND z.zone_code = p.zoning_code
             AND z.min_x <= p.min_x AND z.max_x >= p.max_x AND z.min_y <= p.min_y AND z.max_y >= p.max_y)`,
      [countyId],
    );
    expect(rows[0].orphans).toBe(0);
  });

  it('addresses parcels on streets that exist as road segments', async () => {
    const roads = new Set((await client.query('SELECT DISTINCT road_name FROM road_segments WHERE county_id = $1', [countyId])).rows.map((r) => r.road_name));
    const classes = (await client.query('SELECT DISTINCT road_class FROM road_segments WHERE county_id = $1 ORDER BY 1', [countyId])).rows.map((r) => r.road_class);
    expect(classes).toEqual(['arterial', 'collector', 'local']);
    for (const parcel of parcels) {
      const match = /^(\d+) ([WE] .+ Ave)$/.exec(parcel.address);
      expect(match, parcel.address).not.toBeNull();
      expect(roads.has(match![2])).toBe(true);
    }
    expect(new Set(parcels.map((p) => p.address)).size).toBe(parcels.length);
  });

  it('has plausible attributes: totals add up, a residential majority, several property types', async () => {
    const { rows } = await client.query(
      `SELECT count(*) FILTER (WHERE assessed_total_value <> assessed_land_value + assessed_improvement_value)::int AS bad_totals,
              count(*) FILTER (WHERE property_type = 'residential')::int AS residential,
              count(*) FILTER (WHERE property_type = 'residential' AND building_area_sqft > 0 AND (bedrooms IS NULL OR bathrooms IS NULL))::int AS homes_without_rooms,
              count(DISTINCT property_type)::int AS types,
              count(DISTINCT parcel_number)::int AS parcel_numbers,
              count(*)::int AS total
         FROM property_operational WHERE county_id = $1`,
      [countyId],
    );
    const stats = rows[0];
    expect(stats.bad_totals).toBe(0);
    expect(stats.residential / stats.total).toBeGreaterThan(0.5);
    expect(stats.homes_without_rooms).toBe(0);
    expect(stats.types).toBeGreaterThanOrEqual(4);
    expect(stats.parcel_numbers).toBe(stats.total);
  });

  it('records as last sale the latest row of each parcel sales history, trending upward', async () => {
    const { rows } = await client.query(
      `WITH latest AS (
         SELECT DISTINCT ON (property_id) property_id, sale_date, sale_price FROM property_sales
          WHERE county_id = $1 ORDER BY property_id, sale_date DESC)
       SELECT count(*) FILTER (WHERE l.property_id IS NULL AND p.last_sale_price IS NOT NULL)::int AS sale_without_history,
              count(*) FILTER (WHERE l.property_id IS NOT NULL AND (p.last_sale_date IS DISTINCT FROM l.sale_date OR p.last_sale_price IS DISTINCT FROM l.sale_price))::int AS mismatched,
              count(l.property_id)::int AS sold
         FROM property_operational p LEFT JOIN latest l USING (property_id) WHERE p.county_id = $1`,
      [countyId],
    );
    expect(rows[0]).toMatchObject({ sale_without_history: 0, mismatched: 0 });
    expect(rows[0].sold).toBeGreaterThan(parcels.length * 0.5);
    const perSale = await client.query(
      `SELECT max(n)::int AS most, min(sale_date)::text AS first, max(sale_date)::text AS last,
              (SELECT avg(sale_price / p.assessed_total_value) FROM property_sales s JOIN property_operational p USING (property_id)
                WHERE s.county_id = $1 AND s.sale_type = 'arms_length' AND s.sale_date < '2013-01-01' AND p.assessed_total_value > 0)::float AS early,
              (SELECT avg(sale_price / p.assessed_total_value) FROM property_sales s JOIN property_operational p USING (property_id)
                WHERE s.county_id = $1 AND s.sale_type = 'arms_length' AND s.sale_date >= '2022-01-01' AND p.assessed_total_value > 0)::float AS recent
         FROM (SELECT count(*) AS n, min(sale_date) AS sale_date FROM property_sales WHERE county_id = $1 GROUP BY property_id) c`,
      [countyId],
    );
    const history = perSale.rows[0];
    expect(history.most).toBeLessThanOrEqual(4);
    expect(history.first >= '2010-01-01').toBe(true);
    expect(history.last < '2025-01-01').toBe(true);
    expect(history.recent).toBeGreaterThan(history.early * 1.5);
  });
});
