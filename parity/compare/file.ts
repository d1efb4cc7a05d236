/**
 * Exported files by content, not bytes: both sides' downloads (a zip of shapefiles, a
 * GeoPackage, KML, CSV, GeoJSON) are opened with GDAL and compared as layers — names, feature
 * counts, field names, attribute values, geometries within an epsilon, CRS. Two exports of the
 * same data differ in bytes for reasons no client sees (timestamps in zip entries, SQLite page
 * layout, GDAL versions); they must not differ in what a GIS reads.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gdal from 'gdal-async';
import type { Difference, Exchange } from './engine.js';
import { compareGeometries } from './geometry.js';
import type { PathRule } from './rules.js';

export type FileRule = Pick<Extract<PathRule, { as: 'file' }>, 'epsilon' | 'ignoreFields'>;

interface FeatureRow {
  attributes: Record<string, unknown>;
  geometry: unknown;
  /** Attributes as text, for pairing features whatever order each side wrote them in. */
  key: string;
}

interface LayerContent {
  name: string;
  srs: string | null;
  fields: string[];
  features: FeatureRow[];
}

/** What the bytes are, by their first bytes: the extension GDAL is given. */
export function sniffExtension(body: Buffer): string {
  if (body.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return 'zip';
  if (body.subarray(0, 16).toString('latin1') === 'SQLite format 3\0') return 'gpkg';
  const start = body.subarray(0, 200).toString('utf8').trimStart();
  if (start.startsWith('<')) return 'kml';
  if (start.startsWith('{')) return 'geojson';
  return 'csv';
}

async function readLayers(directory: string, name: string, body: Buffer): Promise<LayerContent[]> {
  const extension = sniffExtension(body);
  const file = join(directory, `${name}.${extension}`);
  await writeFile(file, body);
  let dataset: gdal.Dataset;
  if (extension === 'zip') {
    // A zip of shapefiles opens as one multi-layer directory; a zip of one file opens as that file.
    const entries = gdal.fs.readDir(`/vsizip/${file}`);
    const target = entries.length === 1 ? `/vsizip/${file}/${entries[0]}` : `/vsizip/${file}`;
    dataset = await gdal.openAsync(target);
  } else {
    dataset = await gdal.openAsync(file);
  }
  try {
    const layers: LayerContent[] = [];
    for (const layer of dataset.layers) {
      const fields = layer.fields.getNames();
      const features: FeatureRow[] = [];
      for (const feature of layer.features) {
        const attributes = feature.fields.toObject() as Record<string, unknown>;
        const geometry = feature.getGeometry();
        features.push({ attributes, geometry: geometry ? geometry.toObject() : null, key: JSON.stringify(attributes) });
      }
      features.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      layers.push({ name: layer.name, srs: describeSrs(layer.srs), fields, features });
    }
    return layers.sort((a, b) => a.name.localeCompare(b.name));
  } finally {
    dataset.close();
  }
}

function describeSrs(srs: gdal.SpatialReference | null): string | null {
  if (!srs) return null;
  try {
    srs.autoIdentifyEPSG();
  } catch {
    // Not every CRS has an EPSG code; the WKT below still names it.
  }
  const code = srs.getAuthorityCode(null);
  return code ? `${srs.getAuthorityName(null)}:${code}` : srs.toWKT();
}

function sameAttribute(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The differences a GIS would see between the two exported files (at most `limit`); empty when the same. */
export async function compareExportFiles(legacy: Exchange, reimpl: Exchange, rule: FileRule, limit = 100): Promise<Difference[]> {
  const directory = await mkdtemp(join(tmpdir(), 'cutover-file-compare-'));
  try {
    let left: LayerContent[];
    let right: LayerContent[];
    try {
      [left, right] = await Promise.all([readLayers(directory, 'legacy', legacy.body), readLayers(directory, 'reimpl', reimpl.body)]);
    } catch (error) {
      return [{ path: '$', kind: 'file', detail: `GDAL cannot open an export: ${(error as Error).message}` }];
    }
    return diffLayers(left, right, rule, limit);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

function diffLayers(left: LayerContent[], right: LayerContent[], rule: FileRule, limit: number): Difference[] {
  const out: Difference[] = [];
  const push = (difference: Difference) => out.length < limit && out.push(difference);
  const byName = new Map(right.map((layer) => [layer.name, layer]));
  for (const layer of left) {
    const other = byName.get(layer.name);
    byName.delete(layer.name);
    const at = `$.${layer.name}`;
    if (!other) {
      push({ path: at, kind: 'missing', legacy: `layer with ${layer.features.length} features`, detail: 'layer missing from the reimplementation export' });
      continue;
    }
    if (layer.srs !== other.srs) push({ path: `${at}.crs`, kind: 'file', legacy: layer.srs, reimpl: other.srs, detail: 'CRS differs' });
    const ignored = new Set(rule.ignoreFields);
    const fieldsA = layer.fields.filter((f) => !ignored.has(f));
    const fieldsB = other.fields.filter((f) => !ignored.has(f));
    if (fieldsA.join(',') !== fieldsB.join(',')) push({ path: `${at}.fields`, kind: 'file', legacy: fieldsA.join(','), reimpl: fieldsB.join(','), detail: 'field names or order differ' });
    if (layer.features.length !== other.features.length) {
      push({ path: `${at}.features`, kind: 'length', legacy: layer.features.length, reimpl: other.features.length, detail: 'feature counts differ' });
    }
    const count = Math.min(layer.features.length, other.features.length);
    for (let i = 0; i < count && out.length < limit; i++) {
      const a = layer.features[i]!;
      const b = other.features[i]!;
      for (const field of new Set([...Object.keys(a.attributes), ...Object.keys(b.attributes)])) {
        if (ignored.has(field)) continue;
        if (!sameAttribute(a.attributes[field], b.attributes[field])) {
          push({ path: `${at}[${i}].${field}`, kind: 'file', legacy: JSON.stringify(a.attributes[field] ?? null), reimpl: JSON.stringify(b.attributes[field] ?? null), detail: 'attribute differs' });
        }
      }
      if ((a.geometry === null) !== (b.geometry === null)) push({ path: `${at}[${i}].geometry`, kind: 'geometry', detail: 'one side has no geometry' });
      else if (a.geometry !== null) {
        const why = compareGeometries(a.geometry, b.geometry, rule.epsilon);
        if (why) push({ path: `${at}[${i}].geometry`, kind: 'geometry', detail: why });
      }
    }
  }
  for (const layer of byName.values()) push({ path: `$.${layer.name}`, kind: 'extra', reimpl: `layer with ${layer.features.length} features`, detail: 'layer only in the reimplementation export' });
  return out;
}
