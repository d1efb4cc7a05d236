/**
 * GeoJSON geometries by shape, not by text: coordinates within an epsilon, a polygon ring's
 * start vertex and orientation ignored (PostGIS, GDAL and shapely each pick their own), vertex
 * counts compared (a simplified ring is a different geometry).
 */

type Position = readonly number[];
interface Geometry {
  type: string;
  coordinates?: unknown;
  geometries?: readonly Geometry[];
}

/** Undefined when the geometries are the same within epsilon; otherwise the first reason they are not. */
export function compareGeometries(legacy: unknown, reimpl: unknown, epsilon: number): string | undefined {
  if (!isGeometry(legacy) || !isGeometry(reimpl)) return `not a GeoJSON geometry: ${!isGeometry(legacy) ? 'legacy' : 'reimplementation'}`;
  if (legacy.type !== reimpl.type) return `type ${legacy.type} vs ${reimpl.type}`;
  if (legacy.type === 'GeometryCollection') {
    const a = legacy.geometries ?? [];
    const b = reimpl.geometries ?? [];
    if (a.length !== b.length) return `${a.length} vs ${b.length} geometries`;
    for (let i = 0; i < a.length; i++) {
      const why = compareGeometries(a[i], b[i], epsilon);
      if (why) return `geometries[${i}]: ${why}`;
    }
    return undefined;
  }
  return compareCoordinates(legacy.type, legacy.coordinates, reimpl.coordinates, epsilon);
}

function isGeometry(value: unknown): value is Geometry {
  return typeof value === 'object' && value !== null && typeof (value as Geometry).type === 'string';
}

function compareCoordinates(type: string, a: unknown, b: unknown, epsilon: number): string | undefined {
  switch (type) {
    case 'Point':
      return samePosition(a as Position, b as Position, epsilon) ? undefined : `point ${fmt(a as Position)} vs ${fmt(b as Position)}`;
    case 'MultiPoint':
    case 'LineString':
      return compareSequence(a as Position[], b as Position[], epsilon, 'vertices');
    case 'MultiLineString':
      return compareParts(a as Position[][], b as Position[][], (x, y) => compareSequence(x, y, epsilon, 'vertices'), 'lines');
    case 'Polygon':
      return comparePolygon(a as Position[][], b as Position[][], epsilon);
    case 'MultiPolygon':
      return compareParts(a as Position[][][], b as Position[][][], (x, y) => comparePolygon(x, y, epsilon), 'polygons');
    default:
      return `unknown geometry type ${type}`;
  }
}

function compareParts<T>(a: readonly T[], b: readonly T[], each: (x: T, y: T) => string | undefined, what: string): string | undefined {
  if (!Array.isArray(a) || !Array.isArray(b)) return 'coordinates are not arrays';
  if (a.length !== b.length) return `${a.length} vs ${b.length} ${what}`;
  for (let i = 0; i < a.length; i++) {
    const why = each(a[i]!, b[i]!);
    if (why) return `${what}[${i}]: ${why}`;
  }
  return undefined;
}

function compareSequence(a: readonly Position[], b: readonly Position[], epsilon: number, what: string): string | undefined {
  return compareParts(a, b, (x, y) => (samePosition(x, y, epsilon) ? undefined : `${fmt(x)} vs ${fmt(y)}`), what);
}

function comparePolygon(a: readonly Position[][], b: readonly Position[][], epsilon: number): string | undefined {
  return compareParts(a, b, (x, y) => compareRing(x, y, epsilon), 'rings');
}

/** Rings are closed (last = first); compare them as cycles, in either direction, from any start. */
function compareRing(a: readonly Position[], b: readonly Position[], epsilon: number): string | undefined {
  if (!Array.isArray(a) || !Array.isArray(b)) return 'ring is not an array';
  if (a.length !== b.length) return `${a.length} vs ${b.length} vertices`;
  const cycleA = open(a);
  const cycleB = open(b);
  const n = cycleA.length;
  if (n === 0) return undefined;
  for (const direction of [1, -1]) {
    for (let start = 0; start < n; start++) {
      if (!samePosition(cycleA[0]!, cycleB[start]!, epsilon)) continue;
      let same = true;
      for (let i = 1; i < n && same; i++) same = samePosition(cycleA[i]!, cycleB[(((start + direction * i) % n) + n) % n]!, epsilon);
      if (same) return undefined;
    }
  }
  return `ring vertices differ beyond ${epsilon} (from any start, in either direction)`;
}

function open(ring: readonly Position[]): readonly Position[] {
  const first = ring[0];
  const last = ring[ring.length - 1];
  return ring.length > 1 && first && last && samePosition(first, last, 0) ? ring.slice(0, -1) : ring;
}

function samePosition(a: Position, b: Position, epsilon: number): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i]! - b[i]!) <= epsilon)) return false;
  return true;
}

function fmt(position: Position): string {
  return Array.isArray(position) ? `(${position.join(' ')})` : String(position);
}
