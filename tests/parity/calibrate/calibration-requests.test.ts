import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibrationRequests, fixtureRequests } from '../../../parity/runner/calibrate.js';
import { defaultFixturesDir } from '../../../parity/runner/fixture.js';

const space = { counties: [{ countyId: 'test_county', formats: ['GeoJSON', 'KML'], extent: { x0: -120.5, y0: 46.6, x1: -120.4, y1: 46.7 }, propertyIds: ['p1', 'p2'] }] };

describe('the requests a calibration sends', () => {
  it('takes the golden fixtures of the route first, JSON and text bodies alike, and skips what does not parse', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calibrate-fixtures-'));
    mkdirSync(join(dir, 'sync.valuation.run'));
    writeFileSync(join(dir, 'sync.valuation.run', 'a.json'), JSON.stringify({ request: { method: 'POST', path: '/plugins/v1/valuation/run', body: { json: { county_id: 'c', property_id: 'p' } } } }));
    writeFileSync(join(dir, 'sync.valuation.run', 'b.json'), JSON.stringify({ request: { method: 'POST', path: '/plugins/v1/valuation/run', body: { text: '{"county_id":' } } }));
    writeFileSync(join(dir, 'sync.valuation.run', 'c.json'), 'not json');
    expect(fixtureRequests(dir, 'sync.valuation.run')).toEqual([
      { method: 'POST', path: '/plugins/v1/valuation/run', body: '{"county_id":"c","property_id":"p"}' },
      { method: 'POST', path: '/plugins/v1/valuation/run', body: '{"county_id":' },
    ]);
    expect(fixtureRequests(dir, 'sync.gis-export.run')).toEqual([]);
  });

  it('reads the committed golden fixtures of the valuation route', () => {
    expect(fixtureRequests(defaultFixturesDir, 'sync.valuation.run').every((request) => request.path === '/plugins/v1/valuation/run')).toBe(true);
  });

  it('generates only valid requests, the same ones for the same seed', () => {
    const requests = calibrationRequests('sync.gis-export.run', space, 8, 3);
    expect(requests).toHaveLength(8);
    expect(calibrationRequests('sync.gis-export.run', space, 8, 3)).toEqual(requests);
    for (const request of requests) {
      const body = JSON.parse(request.body!);
      expect(body.county_id).toBe('test_county');
      expect(['GeoJSON', 'KML']).toContain(body.format);
      expect(body.layers.length).toBeGreaterThan(0);
    }
  });
});
