/**
 * Reads the WKB GDAL gives for a shaped geometry into GeoJSON-like coordinates, keeping every
 * bit of each double (GDAL's JSON export rounds to 15 digits, which the Shapefile's binary
 * coordinates would show). 2D Polygon, MultiPolygon, LineString and MultiLineString only.
 */
import type { Shaped } from './text-export.js';

const TYPES: Record<number, string> = { 2: 'LineString', 3: 'Polygon', 5: 'MultiLineString', 6: 'MultiPolygon' };

/** The geometry in `wkb`, or undefined for a type the TypeScript writers do not take. */
export function readWkb(wkb: Buffer): Shaped | undefined {
  let at = 0;
  const little = () => wkb[at++] === 1;
  const u32 = (le: boolean) => {
    const v = le ? wkb.readUInt32LE(at) : wkb.readUInt32BE(at);
    at += 4;
    return v;
  };
  const f64 = (le: boolean) => {
    const v = le ? wkb.readDoubleLE(at) : wkb.readDoubleBE(at);
    at += 8;
    return v;
  };
  const points = (le: boolean) => Array.from({ length: u32(le) }, () => [f64(le), f64(le)]);
  const rings = (le: boolean) => Array.from({ length: u32(le) }, () => points(le));
  const geometry = (expect?: number): { type: string; coordinates: unknown[] } | undefined => {
    const le = little();
    const type = u32(le);
    if (!TYPES[type] || (expect !== undefined && type !== expect)) return undefined;
    if (type === 2) return { type: TYPES[type]!, coordinates: points(le) };
    if (type === 3) return { type: TYPES[type]!, coordinates: rings(le) };
    const parts: unknown[] = [];
    for (let n = u32(le); n > 0; n--) {
      const part = geometry(type === 5 ? 2 : 3);
      if (!part) return undefined;
      parts.push(part.coordinates);
    }
    return { type: TYPES[type]!, coordinates: parts };
  };
  return geometry() as Shaped | undefined;
}
