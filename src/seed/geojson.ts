/**
 * Local metres to EPSG:4326 GeoJSON text, with the bounding box the legacy schema stores
 * next to every geometry. Coordinates are rounded to 1e-7 degrees (about a centimetre) once,
 * and the bbox is taken from the rounded values, so it matches the text exactly.
 */
import type { GridPlan } from './grid-plan.js';

export interface GeoText {
  json: string;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

const round7 = (value: number) => Math.round(value * 1e7) / 1e7;

class Projector {
  minX = Infinity;
  minY = Infinity;
  maxX = -Infinity;
  maxY = -Infinity;
  constructor(private readonly plan: GridPlan) {}

  /** `[lon,lat]` of local point (x, y) metres, tracked into the bbox. */
  point(x: number, y: number): string {
    const lon = round7(this.plan.county.originLon + x / this.plan.metresPerDegreeLon);
    const lat = round7(this.plan.county.originLat + y / this.plan.metresPerDegreeLat);
    if (lon < this.minX) this.minX = lon;
    if (lon > this.maxX) this.maxX = lon;
    if (lat < this.minY) this.minY = lat;
    if (lat > this.maxY) this.maxY = lat;
    return `[${lon},${lat}]`;
  }

  /** A closed linear ring from a flat, unclosed, counter-clockwise ring. */
  ring(flat: readonly number[]): string {
    const first = this.point(flat[0]!, flat[1]!);
    let out = '[' + first;
    for (let k = 2; k < flat.length; k += 2) out += ',' + this.point(flat[k]!, flat[k + 1]!);
    return out + ',' + first + ']';
  }

  done(json: string): GeoText {
    return { json, minX: this.minX, minY: this.minY, maxX: this.maxX, maxY: this.maxY };
  }
}

/** A Polygon for one ring, a MultiPolygon for several (one exterior ring per part). */
export function polygonText(plan: GridPlan, parts: readonly (readonly number[])[]): GeoText {
  const projector = new Projector(plan);
  if (parts.length === 1) return projector.done(`{"type":"Polygon","coordinates":[${projector.ring(parts[0]!)}]}`);
  const polygons = parts.map((part) => `[${projector.ring(part)}]`).join(',');
  return projector.done(`{"type":"MultiPolygon","coordinates":[${polygons}]}`);
}

export function lineText(plan: GridPlan, x0: number, y0: number, x1: number, y1: number): GeoText {
  const projector = new Projector(plan);
  return projector.done(`{"type":"LineString","coordinates":[${projector.point(x0, y0)},${projector.point(x1, y1)}]}`);
}
