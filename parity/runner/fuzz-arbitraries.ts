/**
 * fast-check generators of requests for the routes fuzz and calibrate exercise:
 * `sync.gis-export.run`, `sync.valuation.run`, reporting's job CRUD writes,
 * `sync.reporting.reports.create` and `.update` (a PATCH of a job each side creates first, or
 * of an unknown id), and /plugins/market-analysis's `sync.market-analysis.plugin.run` and
 * `.cancel` (contract 1b.D: studies over a county's zip codes, property types, dates and
 * similarity bounds; cancels of ids that name no job, any script and length). Valid requests range over the real input
 * space (seeded counties from county_configs, their formats, layers, polygons inside /
 * overlapping / outside the county's extent, export parameters; properties that exist,
 * lists of them, methods, valuation parameters); invalid ones break it on purpose (malformed
 * JSON, wrong types, missing fields, boundary numbers, unicode, oversized bodies).
 * A generated FuzzCase is plain data, so fast-check can shrink it and a fixture can keep it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { CutoverError } from '../../src/errors.js';
import { countyConfigsDir } from '../../src/platform/paths.js';
import type { RunRequest } from './fuzz-exchange.js';

export interface CountySpace {
  countyId: string;
  formats: readonly string[];
  /** Bounding box of the county's seeded parcels (EPSG:4326). */
  extent: { x0: number; y0: number; x1: number; y1: number };
  /** A sample of existing property ids (valuation subjects). */
  propertyIds: readonly string[];
  /** The zip codes of the county's properties (market analysis scopes). */
  zipCodes?: readonly string[];
}

/** What the generators draw from: the seeded counties of the database under test. */
export interface InputSpace {
  counties: readonly CountySpace[];
}

export interface FuzzCase {
  /** `valid` or the invalid family it belongs to, for the report. */
  family: string;
  /** The JSON body, unless `raw` is set. */
  body?: unknown;
  /** A body sent as is (malformed JSON, oversized text). */
  raw?: string;
  /** The id in the path of a route acting on a record; unset: the record each side's setup created. */
  pathId?: string;
  /** Catalogue fuzz (fuzz-catalogue.ts): values of the path's other parameters, sent percent-encoded unless `rawPath`. */
  path?: Record<string, string>;
  /** Path values sent as written (encoded characters, dot segments). */
  rawPath?: boolean;
  /** Query parameters in order (a name may repeat), each `[name, value]`; values percent-encoded unless `rawQuery`. */
  query?: Array<[string, string]>;
  rawQuery?: boolean;
  /** The user whose login the request carries (gateway routes), `forged`, or unset for none. */
  as?: string;
  /** The method, for a route that takes any (`*`). */
  method?: string;
  /** The body of the setup that creates the record the request acts on (its creator route's valid case). */
  setupBody?: unknown;
  /** Whether the setup's job is followed to its end before the request (false: the request races it). */
  settled?: boolean;
}

export const fuzzableRoutes = [
  'sync.gis-export.run', 'sync.valuation.run', 'sync.reporting.reports.create', 'sync.reporting.reports.update',
  'sync.market-analysis.plugin.run', 'sync.market-analysis.plugin.cancel',
  'sync.reporting.run', 'sync.market-analysis.run',
] as const;
export type FuzzableRoute = (typeof fuzzableRoutes)[number];

const REPORT_PLACEHOLDER = '{report_id}';
const routeRequests: Record<FuzzableRoute, { method: string; path: string }> = {
  'sync.gis-export.run': { method: 'POST', path: '/plugins/v1/gis-export/run' },
  'sync.valuation.run': { method: 'POST', path: '/plugins/v1/valuation/run' },
  'sync.reporting.reports.create': { method: 'POST', path: '/plugins/v1/reporting/reports' },
  'sync.reporting.reports.update': { method: 'PATCH', path: `/plugins/v1/reporting/reports/${REPORT_PLACEHOLDER}` },
  'sync.market-analysis.plugin.run': { method: 'POST', path: '/plugins/market-analysis/run' },
  // Every cancel case names its (unknown) id.
  'sync.market-analysis.plugin.cancel': { method: 'POST', path: '/plugins/market-analysis/cancel/{job_id}' },
  'sync.reporting.run': { method: 'POST', path: '/plugins/v1/reporting/run' },
  'sync.market-analysis.run': { method: 'POST', path: '/plugins/v1/market-analysis/run' },
};

/** What an update acts on when its case names no id: a PENDING job each side creates just before. */
const reportSetup: RunRequest = {
  method: 'POST',
  path: '/plugins/v1/reporting/reports',
  body: JSON.stringify({ report_type: 'fuzz_target', county_id: 'fuzz_reports', parameters: null }),
};

export function isFuzzable(routeId: string): routeId is FuzzableRoute {
  return (fuzzableRoutes as readonly string[]).includes(routeId);
}

/** The HTTP request a case stands for. */
export function toRequest(routeId: FuzzableRoute, fuzzCase: FuzzCase): RunRequest {
  const { method, path } = routeRequests[routeId];
  const request: RunRequest = { method, path, body: fuzzCase.raw ?? JSON.stringify(fuzzCase.body ?? null) };
  const placeholder = /\{[a-z_]+\}/.exec(path)?.[0];
  if (placeholder === undefined) return request;
  if (fuzzCase.pathId !== undefined) return { ...request, path: path.replace(placeholder, encodeURIComponent(fuzzCase.pathId)) };
  return { ...request, setup: { request: reportSetup, idAt: '$.report_id', placeholder: REPORT_PLACEHOLDER } };
}

/** Reads the seeded counties (those with parcels) and their formats; property ids sampled in id order. */
export async function loadInputSpace(databaseUrl: string, propertiesPerCounty = 40): Promise<InputSpace> {
  const formats = new Map<string, string[]>();
  for (const entry of readdirSync(countyConfigsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    try {
      const json = JSON.parse(readFileSync(join(countyConfigsDir, entry.name, 'county.json'), 'utf8')) as { county_id: string; available_formats?: string[] };
      formats.set(json.county_id, json.available_formats ?? []);
    } catch {
      // A directory without a county.json is not a county.
    }
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const counties: CountySpace[] = [];
    const extents = await client.query<{ county_id: string; x0: number; y0: number; x1: number; y1: number }>(
      `SELECT county_id, min(min_x)::float8 AS x0, min(min_y)::float8 AS y0, max(max_x)::float8 AS x1, max(max_y)::float8 AS y1
         FROM property_operational GROUP BY county_id ORDER BY county_id`);
    for (const row of extents.rows) {
      if (!formats.has(row.county_id)) continue;
      const ids = await client.query<{ property_id: string }>(
        'SELECT property_id FROM property_operational WHERE county_id = $1 ORDER BY property_id LIMIT $2', [row.county_id, propertiesPerCounty]);
      const zips = await client.query<{ zip_code: string }>(
        'SELECT DISTINCT zip_code FROM property_operational WHERE county_id = $1 AND zip_code IS NOT NULL ORDER BY zip_code LIMIT 12', [row.county_id]);
      counties.push({
        countyId: row.county_id,
        formats: formats.get(row.county_id)!,
        extent: { x0: row.x0, y0: row.y0, x1: row.x1, y1: row.y1 },
        propertyIds: ids.rows.map((id) => id.property_id),
        zipCodes: zips.rows.map((zip) => zip.zip_code),
      });
    }
    if (counties.length === 0) throw new CutoverError('CUTOVER_ERR_FUZZ_ROUTE_UNSUPPORTED', 'no seeded county in the database: run `cutover seed --county test_county` first');
    return { counties };
  } finally {
    await client.end();
  }
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/** A rectangle, as fractions of the extent: inside (0..1), overlapping an edge, or wholly outside. */
function rectangle(extent: CountySpace['extent']): fc.Arbitrary<number[][][]> {
  const placement = fc.oneof(
    fc.tuple(fc.double({ min: 0, max: 0.8, noNaN: true }), fc.double({ min: 0, max: 0.8, noNaN: true }), fc.double({ min: 0.05, max: 0.2, noNaN: true })).map(([fx, fy, size]) => ({ fx, fy, size })),
    fc.tuple(fc.double({ min: -0.1, max: 0.9, noNaN: true }), fc.constantFrom(-0.05, 0.95), fc.double({ min: 0.1, max: 0.3, noNaN: true })).map(([fx, fy, size]) => ({ fx, fy, size })),
    fc.tuple(fc.constantFrom(1.5, -1.5), fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(0.1)).map(([fx, fy, size]) => ({ fx, fy, size })),
  );
  return placement.map(({ fx, fy, size }) => {
    const w = extent.x1 - extent.x0;
    const h = extent.y1 - extent.y0;
    const x0 = round6(extent.x0 + fx * w);
    const y0 = round6(extent.y0 + fy * h);
    const x1 = round6(x0 + size * w);
    const y1 = round6(y0 + size * h);
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]];
  });
}

function areaOfInterest(extent: CountySpace['extent']): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: rectangle(extent).map((coordinates) => ({ type: 'Polygon', coordinates })) },
    { weight: 1, arbitrary: fc.array(rectangle(extent), { minLength: 1, maxLength: 2 }).map((polygons) => ({ type: 'MultiPolygon', coordinates: polygons })) },
    {
      weight: 1,
      arbitrary: rectangle(extent).map((coordinates) => ({
        type: 'FeatureCollection',
        features: [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates } }],
      })),
    },
  );
}

const exportParameters = fc.option(
  fc.record(
    {
      simplify_tolerance: fc.constantFrom(0, 0.0001, 0.001, 0.00005),
      include_attributes: fc.boolean(),
      coordinate_system: fc.constantFrom('EPSG:4326', 'EPSG:3857', 'EPSG:2927', 'EPSG:32611'),
    },
    { requiredKeys: [] },
  ),
  { nil: null },
);

/** Valid GIS export requests over the seeded counties. */
export function validGisExport(space: InputSpace): fc.Arbitrary<FuzzCase> {
  return fc.constantFrom(...space.counties).chain((county) =>
    fc.record({
      county_id: fc.constant(county.countyId),
      format: fc.constantFrom(...county.formats),
      username: fc.constantFrom('assessor', 'admin', 'staff'),
      area_of_interest: areaOfInterest(county.extent),
      layers: fc.subarray(['parcels', 'zoning', 'roads'], { minLength: 1 }),
      parameters: exportParameters,
    }).map((body) => ({ family: 'valid', body })),
  );
}

const valuationParameters = fc.option(
  fc.record(
    {
      lookback_months: fc.integer({ min: 1, max: 120 }),
      min_comparables: fc.integer({ min: 1, max: 3 }),
      max_comparables: fc.integer({ min: 3, max: 20 }),
      as_of_date: fc.constantFrom('2023-06-30', '2024-12-31', '2022-01-01'),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

/** Valid valuation requests: one existing property or a list of them, the one method, parameters within bounds. */
export function validValuation(space: InputSpace): fc.Arbitrary<FuzzCase> {
  return fc.constantFrom(...space.counties.filter((county) => county.propertyIds.length > 0)).chain((county) => {
    const subject = fc.oneof(
      fc.constantFrom(...county.propertyIds).map((id) => ({ property_id: id })),
      fc.uniqueArray(fc.constantFrom(...county.propertyIds), { minLength: 1, maxLength: 4 }).map((ids) => ({ property_ids: ids })),
    );
    return fc.tuple(subject, fc.option(fc.constant('comparable_sales'), { nil: undefined }), valuationParameters).map(([who, method, parameters]) => ({
      family: 'valid',
      body: { county_id: county.countyId, ...who, ...(method ? { valuation_method: method } : {}), ...(parameters ? { parameters } : {}) },
    }));
  });
}

// JSON values of free-form objects (report parameters, result metadata): Python keeps ints and floats apart.
const jsonLeaf = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.string({ maxLength: 8 }));
const jsonObject = fc.dictionary(
  fc.stringMatching(/^[a-z][a-z_]{0,7}$/),
  fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 3 }), fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), jsonLeaf, { maxKeys: 2 })),
  { maxKeys: 4 },
);
const REPORT_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED'] as const;

/** Valid report job creations: any type (the CRUD never runs them), a seeded county, parameters absent, null or an object. */
export function validReportCreate(space: InputSpace): fc.Arbitrary<FuzzCase> {
  return fc.record(
    {
      report_type: fc.constantFrom('assessment_roll', 'value_summary', 'FAILING_REPORT_SIM', 'sales_ratio'),
      county_id: fc.constantFrom(...space.counties.map((county) => county.countyId)),
      parameters: fc.option(jsonObject, { nil: null }),
    },
    { requiredKeys: ['report_type', 'county_id'] },
  ).map((body) => ({ family: 'valid', body }));
}

/** Valid status updates of the side's own PENDING job (now and then of an unknown one): any status, optional fields. */
export function validReportUpdate(): fc.Arbitrary<FuzzCase> {
  return fc.tuple(
    fc.record(
      {
        status: fc.constantFrom(...REPORT_STATUSES),
        message: fc.option(fc.string({ maxLength: 20 }), { nil: null }),
        result_location: fc.option(fc.constantFrom('', 's3://terrafusion-reports/fuzz/a.pdf', 'file:///tmp/r.pdf'), { nil: null }),
        result_metadata: fc.option(jsonObject, { nil: null }),
      },
      { requiredKeys: ['status'] },
    ),
    fc.option(fc.constantFrom('no-such-report', 'ünknown id'), { freq: 6, nil: undefined }),
  ).map(([body, pathId]) => ({ family: 'valid', body, ...(pathId === undefined ? {} : { pathId }) }));
}

const analysisTypes = ['price_trend_by_zip', 'comparable_market_area', 'sales_velocity', 'market_valuation', 'price_per_sqft'];

/** Valid /plugins/market-analysis runs: a study of a seeded county over dates, zip codes and property types of its own. */
export function validMarketAnalysis(space: InputSpace): fc.Arbitrary<FuzzCase> {
  return fc.constantFrom(...space.counties).chain((county) => {
    const zips = county.zipCodes?.length ? county.zipCodes : ['99999'];
    return fc.record({
      county_id: fc.constant(county.countyId),
      analysis_type: fc.constantFrom(...analysisTypes),
      parameters: fc.record(
        {
          start_date: fc.constantFrom('2015-01-01', '2021-06-30', '2024-01-01'),
          end_date: fc.constantFrom('2023-12-31', '2026-12-31'),
          zip_codes: fc.subarray([...zips], { minLength: 1, maxLength: Math.min(3, zips.length) }),
          property_types: fc.subarray(['residential', 'commercial', 'agricultural', 'industrial'], { minLength: 1 }),
          zip_code: fc.constantFrom(...zips),
          min_similarity: fc.constantFrom(0, 0.5, 0.8, 0.95, 1),
        },
        { requiredKeys: [] },
      ),
    }).map((body) => ({ family: 'valid', body }));
  });
}

/** Valid report runs: a report type (one that fails on purpose among them), a seeded county, parameters absent, a property type, or any object. */
export function validReportRun(space: InputSpace): fc.Arbitrary<FuzzCase> {
  return fc.record(
    {
      report_type: fc.constantFrom('assessment_roll_summary', 'value_summary', 'assessment_roll', 'FAILING_REPORT_SIM'),
      county_id: fc.constantFrom(...space.counties.map((county) => county.countyId)),
      parameters: fc.oneof(
        fc.constant(null),
        fc.constantFrom('residential', 'commercial', 'agricultural', 'industrial', 'no_such_type').map((type) => ({ property_type: type })),
        jsonObject,
      ),
    },
    { requiredKeys: ['report_type', 'county_id'] },
  ).map((body) => ({ family: 'valid', body }));
}

/** Valid /plugins/v1/market-analysis runs: the three studies legacy knows, over the county's own dates, zip codes and types. */
export function validMarketAnalysisV1(space: InputSpace): fc.Arbitrary<FuzzCase> {
  return validMarketAnalysis(space).chain((fuzzCase) =>
    fc.constantFrom('price_trend_by_zip', 'comparable_market_area', 'sales_ratio_study').map((type) => ({ ...fuzzCase, body: { ...(fuzzCase.body as Record<string, unknown>), analysis_type: type } })));
}

/** Cancels of jobs that do not exist: uuids, any text (percent-encoded in the path), long ids. */
export function cancelCases(): fc.Arbitrary<FuzzCase> {
  return fc.oneof(
    fc.uuid().map((id) => ({ family: 'unknown-id', pathId: id })),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }).map((text) => ({ family: 'unicode-id', pathId: text })),
    fc.integer({ min: 37, max: 400 }).map((length) => ({ family: 'long-id', pathId: 'j'.repeat(length) })),
  );
}

const boundaryNumbers = fc.constantFrom(-1, 0, -0, 1e308, -1e308, 2 ** 53 + 1, 0.1 + 0.2, 1e-320);
const wrongTypes = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}), fc.string({ maxLength: 5 }));
const unicodeText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });

/** Breaks a valid case in one of the invalid families. */
function invalidFrom(valid: fc.Arbitrary<FuzzCase>, numericPaths: ReadonlyArray<readonly string[]>): fc.Arbitrary<FuzzCase> {
  const bodyOf = (fuzzCase: FuzzCase) => structuredClone(fuzzCase.body) as Record<string, unknown>;
  // The broken request acts on what the valid one did (a PATCH: its side's own job, or an unknown id).
  const keep = (source: FuzzCase, broken: FuzzCase): FuzzCase => (source.pathId === undefined ? broken : { ...broken, pathId: source.pathId });
  const setAt = (body: Record<string, unknown>, path: readonly string[], value: unknown) => {
    let at = body;
    for (const step of path.slice(0, -1)) {
      if (at[step] === null || typeof at[step] !== 'object') at[step] = {};
      at = at[step] as Record<string, unknown>;
    }
    at[path[path.length - 1]!] = value;
    return body;
  };
  return fc.oneof(
    fc.tuple(valid, fc.nat({ max: 60 })).map(([c, cut]) => {
      const text = JSON.stringify(c.body);
      return keep(c, { family: 'malformed-json', raw: text.slice(0, Math.max(1, Math.min(cut, text.length - 1))) });
    }),
    fc.tuple(valid, fc.nat(), wrongTypes).map(([c, which, value]) => {
      const body = bodyOf(c);
      const keys = Object.keys(body);
      return keep(c, { family: 'wrong-type', body: setAt(body, [keys[which % keys.length]!], value) });
    }),
    fc.tuple(valid, fc.nat()).map(([c, which]) => {
      const body = bodyOf(c);
      const keys = Object.keys(body);
      delete body[keys[which % keys.length]!];
      return keep(c, { family: 'missing-field', body });
    }),
    fc.tuple(valid, fc.constantFrom(...numericPaths), boundaryNumbers).map(([c, path, n]) => keep(c, { family: 'boundary-number', body: setAt(bodyOf(c), path, n) })),
    fc.tuple(valid, fc.constantFrom('county_id', 'username', 'format', 'property_id', 'valuation_method'), unicodeText).map(([c, key, text]) => keep(c, {
      family: 'unicode',
      body: key in bodyOf(c) ? setAt(bodyOf(c), [key], text) : { ...bodyOf(c), [key]: text },
    })),
    fc.tuple(valid, fc.integer({ min: 64_000, max: 300_000 })).map(([c, size]) => keep(c, {
      family: 'oversized',
      body: { ...bodyOf(c), padding: 'x'.repeat(size) },
    })),
    // pydantic v1 coerces: "12" and 12.7 and true are ints, 5 is a str; the reimplementation must coerce alike.
    fc.tuple(valid, fc.constantFrom(...numericPaths), fc.oneof(fc.integer({ min: -5, max: 130 }).map(String), fc.double({ min: -5, max: 130, noNaN: true }), fc.boolean(), fc.constantFrom(' 7', '1e1', '0x10', '7.0')))
      .map(([c, path, value]) => keep(c, { family: 'coercible-type', body: setAt(bodyOf(c), path, value) })),
    // Duplicate keys: Python's json keeps the last one.
    fc.tuple(valid, fc.nat(), fc.oneof(wrongTypes, unicodeText)).map(([c, which, first]) => {
      const body = bodyOf(c);
      const keys = Object.keys(body);
      const key = keys[which % keys.length]!;
      return keep(c, { family: 'duplicate-key', raw: `{${JSON.stringify(key)}:${JSON.stringify(first)},${JSON.stringify(body).slice(1)}` });
    }),
    fc.constantFrom<FuzzCase>({ family: 'not-an-object', raw: '[]' }, { family: 'not-an-object', raw: 'null' }, { family: 'not-an-object', raw: '"text"' }, { family: 'empty-body', raw: '' }),
  );
}

/** Well-typed values the route must refuse or handle: unknown counties, formats, layers, CRSs, properties, methods. */
function unknownValues(valid: fc.Arbitrary<FuzzCase>, routeId: FuzzableRoute): fc.Arbitrary<FuzzCase> {
  const replacements: Record<FuzzableRoute, Array<[readonly string[], fc.Arbitrary<unknown>]>> = {
    'sync.gis-export.run': [
      [['county_id'], fc.constantFrom('nowhere_wa', 'BENTON_WA', '', 'test')],
      [['format'], fc.constantFrom('geojson', 'KML ', 'FAIL_FORMAT_SIM', 'GeoPackage', 'CSV')],
      [['layers'], fc.constantFrom([], ['buildings'], ['parcels', 'parcels'], ['Parcels'], ['roads', 'zoning', 'parcels'])],
      [['parameters', 'coordinate_system'], fc.constantFrom('EPSG:999999', 'epsg:4326', '+proj=longlat +datum=WGS84', 'EPSG:2927 ', 'CRS:84', '')],
      [['area_of_interest'], fc.constantFrom({}, { type: 'Point', coordinates: [0, 0] }, { type: 'FeatureCollection', features: [] }, { type: 'Polygon', coordinates: [] })],
    ],
    'sync.reporting.reports.create': [
      [['county_id'], fc.constantFrom('', 'x'.repeat(50), 'x'.repeat(51), 'ñandú')],
      [['report_type'], fc.constantFrom('', 'x'.repeat(100), 'x'.repeat(101))],
      [['parameters'], fc.constantFrom([], [['a', 1]], '', 'ab', [['a']], 7)],
    ],
    'sync.reporting.reports.update': [
      [['status'], fc.constantFrom('DONE', 'completed', 'RUNNING ', '', 1)],
      [['result_location'], fc.constantFrom('', 'x'.repeat(255), 'x'.repeat(256), 5)],
      [['result_metadata'], fc.constantFrom({}, [], [['k', 'v']], 'x')],
      [['message'], fc.constantFrom('', 12, false)],
    ],
    'sync.market-analysis.plugin.run': [
      [['county_id'], fc.constantFrom('nowhere_wa', 'benton_wa', '', 'x'.repeat(51))],
      [['analysis_type'], fc.constantFrom('sales_ratio_study', 'SALES_VELOCITY', '', 'price_trend')],
      [['parameters', 'start_date'], fc.constantFrom('2023-02-30', '2030-01-01', 'yesterday', '2023-06-30T00:00:00', '20230101')],
      [['parameters', 'zip_codes'], fc.constantFrom([], ['00000'], 'not-a-list', [99301])],
      [['parameters', 'zip_code'], fc.constantFrom('00000', '', 99301)],
      [['parameters'], fc.constantFrom({}, { unknown: 'kept' }, [])],
    ],
    'sync.market-analysis.plugin.cancel': [],
    'sync.reporting.run': [
      [['county_id'], fc.constantFrom('nowhere_wa', '', 'x'.repeat(50), 'x'.repeat(51), 'ñandú')],
      [['report_type'], fc.constantFrom('', 'x'.repeat(100), 'x'.repeat(101))],
      [['parameters'], fc.constantFrom([], '', 7, { property_type: 5 }, { property_type: null })],
    ],
    'sync.market-analysis.run': [
      [['county_id'], fc.constantFrom('nowhere_wa', '', 'x'.repeat(51))],
      [['analysis_type'], fc.constantFrom('sales_velocity', 'PRICE_TREND_BY_ZIP', '', 'price_trend')],
      [['parameters', 'start_date'], fc.constantFrom('2023-02-30', '2030-01-01', 'yesterday', '20230101')],
      [['parameters', 'zip_codes'], fc.constantFrom([], ['00000'], 'not-a-list', [99301])],
      [['parameters'], fc.constantFrom({}, { unknown: 'kept' }, [])],
    ],
    'sync.valuation.run': [
      [['county_id'], fc.constantFrom('nowhere_wa', 'benton_wa', '', 'x'.repeat(51))],
      [['property_id'], fc.constantFrom('nope', '', 'x'.repeat(65))],
      [['property_ids'], fc.constantFrom([], ['nope'], Array.from({ length: 101 }, (_, i) => `p${i}`))],
      [['valuation_method'], fc.constantFrom('income', '', 'COMPARABLE_SALES')],
      [['parameters', 'as_of_date'], fc.constantFrom('2023-02-30', '1900-01-01', '2024-13-01', 'yesterday', '2023-06-30T00:00:00')],
    ],
  };
  return fc.tuple(valid, fc.constantFrom(...replacements[routeId])).chain(([c, [path, values]]) =>
    values.map((value) => {
      const body = structuredClone(c.body) as Record<string, unknown>;
      let at = body;
      for (const step of path.slice(0, -1)) {
        if (at[step] === null || typeof at[step] !== 'object') at[step] = {};
        at = at[step] as Record<string, unknown>;
      }
      at[path[path.length - 1]!] = value;
      return { ...c, family: 'unknown-value', body };
    }));
}

const generators: Record<FuzzableRoute, { valid: (space: InputSpace) => fc.Arbitrary<FuzzCase>; numeric: ReadonlyArray<readonly string[]> }> = {
  'sync.gis-export.run': {
    valid: validGisExport,
    numeric: [['parameters', 'simplify_tolerance'], ['area_of_interest', 'coordinates'], ['parameters', 'include_attributes'], ['parameters', 'coordinate_system']],
  },
  'sync.valuation.run': { valid: validValuation, numeric: [['parameters', 'lookback_months'], ['parameters', 'min_comparables'], ['parameters', 'max_comparables']] },
  'sync.reporting.reports.create': { valid: validReportCreate, numeric: [['parameters', 'year'], ['report_type'], ['county_id']] },
  'sync.reporting.reports.update': { valid: validReportUpdate, numeric: [['result_metadata', 'pages'], ['status'], ['message'], ['result_location']] },
  'sync.market-analysis.plugin.run': { valid: validMarketAnalysis, numeric: [['parameters', 'min_similarity']] },
  'sync.market-analysis.plugin.cancel': { valid: cancelCases, numeric: [] },
  'sync.reporting.run': { valid: validReportRun, numeric: [['parameters', 'year'], ['report_type'], ['county_id']] },
  'sync.market-analysis.run': { valid: validMarketAnalysisV1, numeric: [['parameters', 'min_similarity'], ['analysis_type']] },
};

/** Valid and invalid requests for a route, valid ones more often (they reach the code that does the work). */
export function fuzzCases(routeId: FuzzableRoute, space: InputSpace, options: { invalid?: boolean } = {}): fc.Arbitrary<FuzzCase> {
  // A cancel has no body to break: every case is an id that names no job.
  if (routeId === 'sync.market-analysis.plugin.cancel') return cancelCases();
  const valid = generators[routeId].valid(space);
  if (options.invalid === false) return valid;
  return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: invalidFrom(valid, generators[routeId].numeric) }, { weight: 1, arbitrary: unknownValues(valid, routeId) });
}
