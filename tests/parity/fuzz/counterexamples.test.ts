/**
 * The counterexamples `cutover fuzz` found (shrunk), kept as regression cases: each is sent to
 * real legacy and reimplemented sync and must compare as matched or ignored by the engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { differential } from '../../../parity/runner/fuzz.js';
import { exchangeOnSide } from '../../../parity/runner/fuzz-exchange.js';
import { JobRows } from '../../../parity/runner/fuzz-rows.js';
import { mismatchLines } from '../../../parity/runner/fuzz-compare.js';
import { startFuzzBench, type FuzzBench } from './fuzz-sides.js';

let bench: FuzzBench;

beforeAll(async () => {
  bench = await startFuzzBench('fuzz_cex');
}, 180_000);
afterAll(async () => {
  await bench?.stop();
});

const valuation = '/plugins/v1/valuation/run';
const gisExport = '/plugins/v1/gis-export/run';
const polygon = (coordinates: unknown) => JSON.stringify({
  county_id: 'test_county', format: 'GeoJSON', username: 'assessor', area_of_interest: { type: 'Polygon', coordinates }, layers: ['roads'], parameters: null,
});

async function expectSame(path: string, body: string) {
  const route = bench.catalogue.match('sync', 'POST', path)!;
  const { result, legacy } = await differential(route, bench.catalogue, { method: 'POST', path, body }, { legacy: bench.sides.legacy[0]!, reimpl: bench.sides.reimpl! });
  expect(mismatchLines(result), `${path} ${body} (legacy ${legacy.answer.status})`).toEqual([]);
  expect(['matched', 'ignored']).toContain(result.verdict);
}

describe('fuzz counterexamples stay fixed', () => {
  it.each([
    ['{'], ['{"'], ['{"county_id":"'], ['{"county_id"'], ['{"county_id":'], ['{"county_id":"x",'], ['{"county_id":"x" "y"}'],
    ['[1,'], ['[1 2]'], ['{"a":1}x'], ['{"a":"\\q"}'], ['{"a":"\\u12"}'], ['{"a":"\\u12G4"}'], ['{"a":"tab\there"}'],
    ['-'], ['01'], ['{"a":1.}'], ['{"é😀":"'], ['\n\n  {"a" 1}'], ['{"a":NaN,'], [' '], ['\f'], ['\u00a0{}'],
  ])('answers malformed JSON %j with Python json module\'s message and position', async (body) => {
    await expectSame(valuation, body);
  });

  it.each([['null'], ['[]'], ['""'], ['["ab"]'], ['[[1,2]]'], ['[[[1],2]]'], ['[["county_id","test_county"],["property_id","test_county-0000001"]]']])(
    'coerces a valuation body %s to a dict as pydantic v1 does (or refuses it the same way)', async (body) => {
      await expectSame(valuation, body);
    },
  );

  it('accepts valuation parameters given as a list of pairs, as pydantic v1 does', async () => {
    await expectSame(valuation, JSON.stringify({ county_id: 'test_county', property_id: 'test_county-0000001', parameters: [['lookback_months', 12]] }));
  });

  it('accepts GIS export parameters and area_of_interest given as lists of pairs', async () => {
    await expectSame(gisExport, JSON.stringify({ county_id: 'test_county', format: 'GeoJSON', username: 'u', area_of_interest: [], layers: ['roads'], parameters: [[1, 2]] }));
  });

  it.each([['20230101'], ['1e3'], [' 5'], ['inf'], ['nan'], [1700000000000], [true], [[]], ['2024-01-05\n']])(
    'reads a market analysis start_date of %j as pydantic v1\'s parse_date does (a number is Unix time)', async (startDate) => {
      await expectSame('/plugins/market-analysis/run', JSON.stringify({ county_id: 'test_county', analysis_type: 'sales_velocity', parameters: { start_date: startDate } }));
    },
  );

  it.each([['%2F%20'], ['a%2Fb'], ['j'.repeat(101)], ['j'.repeat(400)]])('routes a cancel of job %s as Starlette does (an encoded slash splits the path; no length limit)', async (jobId) => {
    const path = `/plugins/market-analysis/cancel/${jobId}`;
    const route = bench.catalogue.byId('sync.market-analysis.plugin.cancel')!;
    const { result, legacy } = await differential(route, bench.catalogue, { method: 'POST', path }, { legacy: bench.sides.legacy[0]!, reimpl: bench.sides.reimpl! });
    expect(mismatchLines(result), `${path} (legacy ${legacy.answer.status})`).toEqual([]);
    expect(legacy.answer.status).toBe(jobId.includes('%2F') ? 404 : 400);
  });

  it.each([[-1], [[[1]]], ['x']])('fails a GIS export whose polygon coordinates are %j with legacy\'s message', async (coordinates) => {
    await expectSame(gisExport, polygon(coordinates));
  });

  it('fails a GIS export whose FeatureCollection holds an unreadable polygon with legacy\'s message', async () => {
    await expectSame(gisExport, JSON.stringify({
      county_id: 'test_county', format: 'GeoJSON', username: 'u', layers: ['parcels'],
      area_of_interest: { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Polygon', coordinates: -1 } }] },
    }));
  });

  it.each([['0x10'], [' 7'], ['1_0'], ['1e1'], ['inf'], ['nan'], ["it's"], [''], [[1]], [{ a: 1 }], [[]], [true], ['0.0001']])(
    'reads a GIS export simplify_tolerance of %j as Python float() does (or fails the job with its message)', async (tolerance) => {
      await expectSame(gisExport, JSON.stringify({
        county_id: 'test_county', format: 'GeoJSON', username: 'assessor', layers: ['parcels'],
        area_of_interest: { type: 'Polygon', coordinates: [[[-121, 45], [-119, 45], [-119, 47], [-121, 47], [-121, 45]]] },
        parameters: { simplify_tolerance: tolerance },
      }));
    },
  );

  it('zips a Shapefile with the same deflate stream as legacy, so the zip and file_size_kb are the same size', async () => {
    // The shrunk counterexample: reprojected, attributes off, three layers (legacy 3 KB, reimpl 4 KB before the fix).
    const body = JSON.stringify({
      county_id: 'test_county', format: 'Shapefile', username: 'assessor', layers: ['parcels', 'zoning', 'roads'],
      area_of_interest: { type: 'Polygon', coordinates: [[[-121, 45], [-119, 45], [-119, 47], [-121, 47], [-121, 45]]] },
      parameters: { include_attributes: false, coordinate_system: 'EPSG:32611' },
    });
    const route = bench.catalogue.byId('sync.gis-export.run')!;
    const members = async (url: string) => {
      const side = await exchangeOnSide(url, { method: 'POST', path: gisExport, body }, route, bench.catalogue);
      const zip = Buffer.from(await (await fetch(`${url}/plugins/v1/gis-export/download/${side.jobId}`)).arrayBuffer());
      const out: Array<[string, string]> = [];
      for (let at = 0; zip.readUInt32LE(at) === 0x04034b50;) {
        const size = zip.readUInt32LE(at + 18);
        const nameLength = zip.readUInt16LE(at + 26);
        const start = at + 30 + nameLength + zip.readUInt16LE(at + 28);
        out.push([zip.subarray(at + 30, at + 30 + nameLength).toString(), zip.subarray(start, start + size).toString('base64')]);
        at = start + size;
      }
      return { length: zip.length, out };
    };
    const [legacy, reimpl] = await Promise.all([members(bench.sides.legacy[0]!), members(bench.sides.reimpl!)]);
    expect(legacy.out.length).toBe(15);
    expect(reimpl.out).toEqual(legacy.out);
    expect(reimpl.length).toBe(legacy.length);
  }, 60_000);

  it('compares the job row each side left, not only the answers, and sees a row that differs', async () => {
    const rows = new JobRows(bench.database.url);
    try {
      const route = bench.catalogue.byId('sync.valuation.run')!;
      const request = { method: 'POST', path: valuation, body: JSON.stringify({ county_id: 'test_county', property_id: 'test_county-0000002' }) };
      const urls = { legacy: bench.sides.legacy[0]!, reimpl: bench.sides.reimpl! };
      const { result } = await differential(route, bench.catalogue, request, urls, undefined, undefined, rows);
      expect(result.parts.map((part) => part.part)).toEqual(['answer', 'terminal', 'results', 'row']);
      expect(mismatchLines(result)).toEqual([]);
      // differential asks for legacy's row first, then the reimplementation's (both at once):
      // change the second one, counted when asked, not when answered (the reads race).
      let reads = 0;
      const tampering = {
        read: async (r: typeof route, id: string) => {
          const call = ++reads;
          const exchange = (await rows.read(r, id))!;
          if (call % 2 === 1) return exchange;
          // Edited as text: a row keeps each number as written (a float stays 1.0), which a JSON round trip would not.
          return { ...exchange, body: Buffer.from(exchange.body.toString().replace('"message":"Valuation completed successfully"', '"message":"tampered"')) };
        },
      } as unknown as JobRows;
      const again = await differential(route, bench.catalogue, request, urls, undefined, undefined, tampering);
      expect(mismatchLines(again.result)).toEqual([expect.stringMatching(/^row \$\.message \(value\): legacy "Valuation completed successfully" \/ reimpl "tampered"/)]);
    } finally {
      await rows.close();
    }
  }, 60_000);
});
