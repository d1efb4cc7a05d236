import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { geoJsonCoordinate } from '../../reimpl/gis-export/export/gdal-number-text.js';

/**
 * Coordinates as GDAL 3.6 itself writes them: Debian's python3-gdal writes one point per value
 * with the GeoJSON driver, exactly as legacy's export does, and hands back value and text.
 */
function gdalGeoJsonCoordinates(): Array<{ value: number; text: string }> {
  const script = String.raw`
import json, random, sys, tempfile, os
from osgeo import ogr
random.seed(20261122)
values = [-119.30161547499999, 46.192364708862144, -119.3014326, 46.18999999999950035, -119.30017399999996996]
for _ in range(1500):
    base = random.choice([-119.3, -119.1, 46.19, 46.6, 0.5, -0.25])
    values.append(base + random.uniform(-1, 1) * random.choice([1e-3, 1e-6, 1e-9, 1e-12]))
    values.append(round(base + random.uniform(-1, 1) * 1e-3, random.randint(5, 12)) + random.choice([0, 1e-15, -1e-15, 2.2e-14]))
path = os.path.join(tempfile.mkdtemp(), 'points.geojson')
ds = ogr.GetDriverByName('GeoJSON').CreateDataSource(path)
layer = ds.CreateLayer('points', None, ogr.wkbPoint)
for v in values:
    feature = ogr.Feature(layer.GetLayerDefn())
    point = ogr.Geometry(ogr.wkbPoint)
    point.AddPoint_2D(v, 0)
    feature.SetGeometry(point)
    layer.CreateFeature(feature)
ds = None
texts = [line.split('"coordinates": [ ')[1].split(',')[0] for line in open(path) if '"coordinates"' in line]
json.dump([{"value": repr(v), "text": t} for v, t in zip(values, texts)], sys.stdout)
`;
  const run = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python3-gdal failed: ${run.stderr}`);
  return (JSON.parse(run.stdout) as Array<{ value: string; text: string }>).map((row) => ({ value: Number(row.value), text: row.text }));
}

describe('GeoJSON coordinates printed as GDAL 3.6 prints them', () => {
  const samples = gdalGeoJsonCoordinates();

  it('rounds a 99999x tail up as OGR does: the clipped vertex the main job caught', () => {
    expect(samples[0]!.text).toBe('-119.301615475');
    expect(geoJsonCoordinate(-119.30161547499999)).toBe('-119.301615475');
  });

  it('prints every value either exactly as GDAL does, or not at all (the job then goes to GDAL)', () => {
    const wrong = samples.filter(({ value, text }) => {
      const ours = geoJsonCoordinate(value);
      return ours !== undefined && ours !== text;
    });
    expect(wrong).toEqual([]);
    const printed = samples.filter(({ value }) => geoJsonCoordinate(value) !== undefined).length;
    // The fast path must stay the common one, or the TypeScript writer gains nothing.
    expect(printed / samples.length).toBeGreaterThan(0.95);
  });
});
