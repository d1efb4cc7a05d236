/**
 * Subdivision of one block into lots, in metres from the county origin. Two rows back to
 * back (south row fronting the avenue below, north row the avenue above), frontages varying
 * around the district's target. Shared lot lines are identical on both sides, so lots never
 * overlap. End lots are corner lots with a chamfered street corner (5 vertices); a few lots
 * have a bent frontage (one more vertex); a few large lots are split by an access easement
 * into a two-part MultiPolygon.
 */
import { blockInterior, blockSubdivision, type GridPlan } from './grid-plan.js';
import { hashInts, Prng } from './prng.js';
import { Zone, type ZoneIndex } from './zoning.js';

export interface Lot {
  /** Rings of the lot's parts, each a flat [x0, y0, x1, y1, ...] counter-clockwise, not closed. */
  parts: number[][];
  /** Area in square metres (sum of the parts). */
  areaM2: number;
  /** 'south' lots front the avenue at the block's south edge (ys[j]), 'north' the one at ys[j + 1]. */
  front: 'south' | 'north';
  /** Position along the row, 0 = westmost, and the row's lot count. */
  slot: number;
  lotsInRow: number;
  corner: boolean;
}

/** Shoelace area of a flat ring. */
export function ringArea(ring: readonly number[]): number {
  let twice = 0;
  const n = ring.length / 2;
  for (let k = 0; k < n; k++) {
    const m = (k + 1) % n;
    twice += ring[2 * k]! * ring[2 * m + 1]! - ring[2 * m]! * ring[2 * k + 1]!;
  }
  return twice / 2;
}

function lotRing(x0: number, y0: number, x1: number, y1: number, front: 'south' | 'north', chamferWest: number, chamferEast: number, bend: number): number[] {
  const mid = (x0 + x1) / 2;
  if (front === 'south') {
    const ring: number[] = [];
    if (chamferWest > 0) ring.push(x0, y0 + chamferWest, x0 + chamferWest, y0);
    else ring.push(x0, y0);
    if (bend > 0) ring.push(mid, y0 + bend);
    if (chamferEast > 0) ring.push(x1 - chamferEast, y0, x1, y0 + chamferEast);
    else ring.push(x1, y0);
    ring.push(x1, y1, x0, y1);
    return ring;
  }
  const ring: number[] = [x0, y0, x1, y0];
  if (chamferEast > 0) ring.push(x1, y1 - chamferEast, x1 - chamferEast, y1);
  else ring.push(x1, y1);
  if (bend > 0) ring.push(mid, y1 - bend);
  if (chamferWest > 0) ring.push(x0 + chamferWest, y1, x0, y1 - chamferWest);
  else ring.push(x0, y1);
  return ring;
}

const rectangle = (x0: number, y0: number, x1: number, y1: number) => [x0, y0, x1, y0, x1, y1, x0, y1];

/** The lots of block (i, j), west to east, south row first. Deterministic per (county, block). */
export function subdivideBlock(plan: GridPlan, i: number, j: number): Lot[] {
  const zone = plan.zones[j * plan.columns + i]! as ZoneIndex;
  const inner = blockInterior(plan, i, j);
  const width = inner.x1 - inner.x0;
  const height = inner.y1 - inner.y0;
  const { rows, lotsPerRow } = blockSubdivision(zone, width, height);
  const rng = new Prng(hashInts(plan.countySeed, 0x3c, i, j));
  const lots: Lot[] = [];
  const splitY = rows === 2 ? inner.y0 + height * rng.range(0.46, 0.54) : inner.y1;
  for (let row = 0; row < rows; row++) {
    const front = row === 0 ? 'south' : 'north';
    const y0 = row === 0 ? inner.y0 : splitY;
    const y1 = row === 0 ? splitY : inner.y1;
    const weights: number[] = [];
    let sum = 0;
    for (let k = 0; k < lotsPerRow; k++) {
      const w = 0.8 + 0.4 * rng.next();
      weights.push(w);
      sum += w;
    }
    let x = inner.x0;
    for (let k = 0; k < lotsPerRow; k++) {
      const x0 = x;
      const x1 = k === lotsPerRow - 1 ? inner.x1 : x + (width * weights[k]!) / sum;
      x = x1;
      const lotWidth = x1 - x0;
      const depth = y1 - y0;
      const chamfer = Math.min(lotWidth, depth) * rng.range(0.08, 0.15);
      const chamferWest = k === 0 ? chamfer : 0;
      const chamferEast = k === lotsPerRow - 1 ? chamfer : 0;
      const bendRoll = rng.next();
      const splitRoll = rng.next();
      let parts: number[][];
      const large = zone === Zone.AG || zone === Zone.I1 || zone === Zone.C1;
      if (large && chamferWest === 0 && chamferEast === 0 && lotWidth > 30 && splitRoll < 0.04) {
        // A private access easement (unowned strip) cuts the lot in two: one parcel, two parts.
        const easement = 4;
        const cut = x0 + lotWidth * rng.range(0.35, 0.65);
        parts = [rectangle(x0, y0, cut - easement / 2, y1), rectangle(cut + easement / 2, y0, x1, y1)];
      } else {
        const bend = bendRoll < 0.06 ? Math.min(depth * 0.05, 2) * rng.range(0.3, 1) : 0;
        parts = [lotRing(x0, y0, x1, y1, front, chamferWest, chamferEast, bend)];
      }
      let areaM2 = 0;
      for (const part of parts) areaM2 += ringArea(part);
      lots.push({ parts, areaM2, front, slot: k, lotsInRow: lotsPerRow, corner: chamferWest > 0 || chamferEast > 0 });
    }
  }
  return lots;
}
