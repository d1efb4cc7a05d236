import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ogrRealAsInteger, ogrRealAsString, ogrRealText, ogrStringAsReal } from '../../reimpl/gis-export/export/gdal-number-text.js';

/**
 * OGR's conversions as GDAL 3.6's KML driver prints them (kml-export.ts: legacy's values land
 * one or two fields on, in fields of another type): Debian's python3-gdal sets each value into
 * a string, a real and an integer field of one Placemark and hands back the texts written.
 */
function gdalKmlTexts(): Array<{ value: number | string; asString: string; asReal: string; asInteger: string | null }> {
  const script = String.raw`
import json, random, sys, tempfile, os, re
from osgeo import ogr, gdal
gdal.PushErrorHandler('CPLQuietErrorHandler')
random.seed(20261202)
numbers = [0.1 + 0.7, 1e20, 7.0, 123456.0, 1234567.123456789, 0.000012345, 1e16, 420955.9, 1e-5, -2.7, 2.5, 3.999, 1e10, -1e10, 2.0**40, -0.5]
for _ in range(400):
    numbers.append(round(random.uniform(0, 2e6), random.randint(0, 3)))
    numbers.append(random.uniform(-1e4, 1e4))
strings = ['2018-08-03', 'abc', '', ' 12.5e1', '  42', '1e3x', '.5', '-.25e-2z', '2024-11-22']
path = os.path.join(tempfile.mkdtemp(), 'fields.kml')
ds = ogr.GetDriverByName('KML').CreateDataSource(path)
layer = ds.CreateLayer('fields', None, ogr.wkbPoint)
for name, kind in [('s', ogr.OFTString), ('r', ogr.OFTReal), ('i', ogr.OFTInteger)]:
    layer.CreateField(ogr.FieldDefn(name, kind))
values = numbers + strings
for v in values:
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField('s', v)
    if isinstance(v, str):
        feature.SetFieldString(feature.GetFieldIndex('r'), v)
    else:
        feature.SetField('r', v)
        feature.SetField('i', v)
    feature.SetGeometry(ogr.CreateGeometryFromWkt('POINT (1 2)'))
    layer.CreateFeature(feature)
ds = None
placemarks = open(path).read().split('<Placemark>')[1:]
out = []
for v, p in zip(values, placemarks):
    texts = dict(re.findall(r'<SimpleData name="(\w)">([^<]*)</SimpleData>', p))
    out.append({"value": v if isinstance(v, str) else repr(v), "number": not isinstance(v, str), "asString": texts.get('s', ''), "asReal": texts.get('r'), "asInteger": texts.get('i')})
json.dump(out, sys.stdout)
`;
  const result = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return (JSON.parse(result.stdout) as Array<{ value: string; number: boolean; asString: string; asReal: string; asInteger: string | null }>).map((entry) => ({
    ...entry,
    value: entry.number ? Number(entry.value) : entry.value,
  }));
}

describe('the KML writer\'s field conversions', () => {
  it('print every value as GDAL\'s KML driver does in a string, a real and an integer field, or decline it', () => {
    const cases = gdalKmlTexts();
    expect(cases.length).toBeGreaterThan(800);
    let declined = 0;
    for (const { value, asString, asReal, asInteger } of cases) {
      if (typeof value === 'number') {
        const text = ogrRealAsString(value);
        if (text === undefined) declined++;
        else expect(text, `real ${value} in a string field`).toBe(asString);
        expect(ogrRealText(value), `real ${value} in a real field`).toBe(asReal);
        expect(String(ogrRealAsInteger(value)), `real ${value} in an integer field`).toBe(asInteger);
      } else {
        expect(ogrRealText(ogrStringAsReal(value)!), `'${value}' in a real field`).toBe(asReal);
      }
    }
    // A decline sends the job to GDAL; it must stay the exception.
    expect(declined).toBeLessThan(cases.length / 10);
  });
});
