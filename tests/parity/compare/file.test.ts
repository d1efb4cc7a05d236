import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { afterAll, describe, expect, it } from 'vitest';
import { compareExchanges, type Exchange } from '../../../parity/compare/engine.js';
import { compareRules } from '../../../parity/compare/rules.js';
import { writeZip } from '../../../reimpl/gis-export/export/zip.js';

const work = mkdtempSync(join(tmpdir(), 'file-compare-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Parcel { id: string; value: number; ring: number[][] }
const parcels: Parcel[] = [
  { id: 'p1', value: 100.5, ring: [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]] },
  { id: 'p2', value: 200, ring: [[2, 2], [3, 2], [3, 3], [2, 3], [2, 2]] },
];

let counter = 0;
/** Writes parcels with GDAL in a driver's format; answers the file's path. */
function write(driver: string, extension: string, rows: readonly Parcel[], epsg = 4326): string {
  const dir = join(work, `export-${counter++}`);
  const path = driver === 'ESRI Shapefile' ? dir : join(dir, `parcels.${extension}`);
  if (driver !== 'ESRI Shapefile') mkdirSync(dir);
  const dataset = gdal.drivers.get(driver).create(path);
  const layer = dataset.layers.create('parcels', gdal.SpatialReference.fromEPSG(epsg), gdal.wkbPolygon);
  layer.fields.add(new gdal.FieldDefn('id', gdal.OFTString));
  layer.fields.add(new gdal.FieldDefn('value', gdal.OFTReal));
  for (const row of rows) {
    const feature = new gdal.Feature(layer);
    feature.fields.set({ id: row.id, value: row.value });
    feature.setGeometry(gdal.Geometry.fromGeoJson({ type: 'Polygon', coordinates: [row.ring] }));
    layer.features.add(feature);
  }
  dataset.close();
  return path;
}

const download = (body: Buffer): Exchange => ({ status: 200, headers: { 'content-type': 'application/octet-stream' }, body });
const context = { routeId: 'sync.gis-export.download', rules: compareRules({ paths: { $: { as: 'file', epsilon: 1e-6 } } }) };
/** The same closed ring, starting at its second vertex and running the other way. */
const rotated = (ring: number[][]) => {
  const open = ring.slice(0, -1);
  const turned = [...open.slice(1), open[0]!].reverse();
  return [...turned, turned[0]!];
};

describe('exported files compared by content', () => {
  it('matches two GeoPackages with the features in another order and rings starting elsewhere, turning the other way', async () => {
    const legacy = readFileSync(write('GPKG', 'gpkg', parcels));
    const reimpl = readFileSync(write('GPKG', 'gpkg', [...parcels].reverse().map((p) => ({ ...p, ring: rotated(p.ring) }))));
    expect(legacy.equals(reimpl)).toBe(false);
    const result = await compareExchanges(download(legacy), download(reimpl), context);
    expect(result.differences).toEqual([]);
    expect(result.verdict).toBe('matched');
  });

  it('finds a changed attribute, a moved vertex and a missing feature, by path', async () => {
    const legacy = readFileSync(write('GPKG', 'gpkg', parcels));
    const changed = readFileSync(write('GPKG', 'gpkg', [{ ...parcels[0]!, value: 101 }, { ...parcels[1]!, ring: [[2, 2], [3.1, 2], [3, 3], [2, 3], [2, 2]] }]));
    const result = await compareExchanges(download(legacy), download(changed), context);
    expect(result.verdict).toBe('mismatched');
    expect(result.differences.map((d) => [d.path, d.kind])).toEqual([
      ['$.parcels[0].value', 'file'],
      ['$.parcels[1].geometry', 'geometry'],
    ]);
    const fewer = readFileSync(write('GPKG', 'gpkg', parcels.slice(0, 1)));
    expect((await compareExchanges(download(legacy), download(fewer), context)).differences[0]).toMatchObject({ path: '$.parcels.features', kind: 'length', legacy: 2, reimpl: 1 });
  });

  it('opens zips of shapefiles and sees a CRS difference', async () => {
    const zipOf = async (directory: string) => {
      const zip = join(work, `z-${counter++}.zip`);
      await writeZip(zip, readdirSync(directory).map((name) => join(directory, name)));
      return readFileSync(zip);
    };
    const legacy = await zipOf(write('ESRI Shapefile', 'shp', parcels));
    const same = await zipOf(write('ESRI Shapefile', 'shp', [...parcels].reverse()));
    expect((await compareExchanges(download(legacy), download(same), context)).verdict).toBe('matched');
    const otherCrs = await zipOf(write('ESRI Shapefile', 'shp', parcels, 3857));
    expect((await compareExchanges(download(legacy), download(otherCrs), context)).differences).toContainEqual(
      expect.objectContaining({ path: '$.parcels.crs', legacy: 'EPSG:4326', reimpl: 'EPSG:3857' }),
    );
  });

  it('reports an export GDAL cannot open as a file difference, not a crash', async () => {
    const result = await compareExchanges(download(Buffer.from('PK\x03\x04garbage', 'latin1')), download(Buffer.from('PK\x03\x04other', 'latin1')), context);
    expect(result.differences[0]).toMatchObject({ path: '$', kind: 'file', disposition: { as: 'mismatch' } });
  });
});
