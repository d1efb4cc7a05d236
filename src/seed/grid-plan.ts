/**
 * The plan of a synthetic county: a street grid laid out from the county's origin (its
 * south-west corner), wide agricultural sections on the edge, a downtown in the middle,
 * commercial strips along arterials, one industrial cluster, parks and schools scattered.
 * The plan is sized so its blocks hold at least the requested number of parcels; it is
 * pure arithmetic on (county, seed, parcels), so every pass over it sees the same county.
 */
import type { CountyGeography } from './county-geography.js';
import { hashFloat, hashInts, hashString, Prng } from './prng.js';
import { avenueNames, streetNames } from './street-names.js';
import { Zone, zones, type ZoneIndex } from './zoning.js';

/** Centreline spacing of town blocks (east-west, north-south) and of agricultural sections, metres. */
const townBlockWidth = 180;
const townBlockHeight = 90;
const sectionSpan = 400;
const averageTownLotsPerBlock = 14;

export type RoadClass = 'arterial' | 'collector' | 'local';
const rightOfWay: Record<RoadClass, number> = { arterial: 30, collector: 24, local: 18 };

export interface GridPlan {
  readonly county: CountyGeography;
  readonly seed: number;
  /** The stream key every random decision of this county derives from. */
  readonly countySeed: number;
  readonly parcels: number;
  readonly columns: number;
  readonly rows: number;
  /** Width of the agricultural ring, in blocks. */
  readonly ring: number;
  /** Street centrelines, metres east (xs, columns + 1) and north (ys, rows + 1) of the origin. */
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  /** Zone of block (i, j) at j * columns + i. */
  readonly zones: Uint8Array;
  readonly avenueClasses: RoadClass[];
  readonly streetClasses: RoadClass[];
  readonly avenueNames: string[];
  readonly streetNames: string[];
  /** Index of the north-south street (centreColumn) and east-west avenue (centreRow) through downtown. */
  readonly centreColumn: number;
  readonly centreRow: number;
  /** Metres per degree at the origin's latitude. */
  readonly metresPerDegreeLon: number;
  readonly metresPerDegreeLat: number;
}

export function metresPerDegree(latitude: number): { lon: number; lat: number } {
  const phi = (latitude * Math.PI) / 180;
  return {
    lat: 111132.92 - 559.82 * Math.cos(2 * phi) + 1.175 * Math.cos(4 * phi),
    lon: 111412.84 * Math.cos(phi) - 93.5 * Math.cos(3 * phi),
  };
}

export function roadWidth(roadClass: RoadClass): number {
  return rightOfWay[roadClass];
}

function classify(k: number, centre: number, ringStreets: number[]): RoadClass {
  if (ringStreets.includes(k) || (k - centre) % 8 === 0) return 'arterial';
  return (k - centre) % 4 === 0 ? 'collector' : 'local';
}

function offsets(count: number, ring: number, span: (ringBlock: boolean) => number): Float64Array {
  const out = new Float64Array(count + 1);
  for (let k = 0; k < count; k++) out[k + 1] = out[k]! + span(k < ring || k >= count - ring);
  return out;
}

interface Shape {
  columns: number;
  rows: number;
  ring: number;
}

function zoneOf(shape: Shape, countySeed: number, industrial: { u: number; v: number }, arterialAve: (k: number) => boolean, arterialSt: (k: number) => boolean, i: number, j: number): ZoneIndex {
  const { columns, rows, ring } = shape;
  if (i < ring || i >= columns - ring || j < ring || j >= rows - ring) return Zone.AG;
  const u = (i + 0.5 - ring) / Math.max(1, columns - 2 * ring);
  const v = (j + 0.5 - ring) / Math.max(1, rows - 2 * ring);
  const d = Math.hypot(u - 0.5, v - 0.5);
  const roll = hashFloat(countySeed, 0x5a, i, j);
  if (d < 0.09) return Zone.CBD;
  if (Math.hypot(u - industrial.u, v - industrial.v) < 0.11) return Zone.I1;
  if ((arterialAve(j) || arterialAve(j + 1)) && roll < 0.5) return Zone.C1;
  if ((arterialSt(i) || arterialSt(i + 1)) && roll < 0.2) return Zone.C1;
  if (roll > 0.975) return Zone.PF;
  if (d < 0.2) return roll < 0.55 ? Zone.R3 : Zone.R2;
  if (d < 0.3) return roll < 0.35 ? Zone.R2 : Zone.R1;
  return Zone.R1;
}

/** Lots per block row and rows per block for a block of this zone and inner size. */
export function blockSubdivision(zone: ZoneIndex, innerWidth: number, innerHeight: number): { rows: number; lotsPerRow: number } {
  const district = zones[zone];
  if (district.wholeBlock) return { rows: 1, lotsPerRow: 1 };
  const rows = zone === Zone.AG && innerHeight < 150 ? 1 : 2;
  return { rows, lotsPerRow: Math.max(1, Math.round(innerWidth / district.frontage)) };
}

/** Inner (buildable) rectangle of block (i, j): the cell between centrelines minus half of each right of way. */
export function blockInterior(plan: GridPlan, i: number, j: number): { x0: number; y0: number; x1: number; y1: number } {
  return {
    x0: plan.xs[i]! + rightOfWay[plan.streetClasses[i]!] / 2,
    x1: plan.xs[i + 1]! - rightOfWay[plan.streetClasses[i + 1]!] / 2,
    y0: plan.ys[j]! + rightOfWay[plan.avenueClasses[j]!] / 2,
    y1: plan.ys[j + 1]! - rightOfWay[plan.avenueClasses[j + 1]!] / 2,
  };
}

export function lotsInBlock(plan: GridPlan, i: number, j: number): number {
  const inner = blockInterior(plan, i, j);
  const { rows, lotsPerRow } = blockSubdivision(plan.zones[j * plan.columns + i]! as ZoneIndex, inner.x1 - inner.x0, inner.y1 - inner.y0);
  return rows * lotsPerRow;
}

function build(county: CountyGeography, seed: number, parcels: number, countySeed: number, shape: Shape): GridPlan {
  const { columns, rows, ring } = shape;
  const centreColumn = Math.floor(columns / 2);
  const centreRow = Math.floor(rows / 2);
  const avenueClasses = Array.from({ length: rows + 1 }, (_, k) => classify(k, centreRow, [ring, rows - ring]));
  const streetClasses = Array.from({ length: columns + 1 }, (_, k) => classify(k, centreColumn, [ring, columns - ring]));
  const layoutRng = new Prng(hashInts(countySeed, 0x1a));
  const industrial = layoutRng.pick([{ u: 0.8, v: 0.22 }, { u: 0.2, v: 0.78 }, { u: 0.78, v: 0.8 }, { u: 0.22, v: 0.2 }]);
  const zoneGrid = new Uint8Array(columns * rows);
  const arterialAve = (k: number) => avenueClasses[k] === 'arterial';
  const arterialSt = (k: number) => streetClasses[k] === 'arterial';
  for (let j = 0; j < rows; j++) for (let i = 0; i < columns; i++) zoneGrid[j * columns + i] = zoneOf(shape, countySeed, industrial, arterialAve, arterialSt, i, j);
  const scale = metresPerDegree(county.originLat);
  const namesRng = new Prng(hashInts(countySeed, 0x2b));
  return {
    county,
    seed,
    countySeed,
    parcels,
    columns,
    rows,
    ring,
    xs: offsets(columns, ring, (ag) => (ag ? sectionSpan : townBlockWidth)),
    ys: offsets(rows, ring, (ag) => (ag ? sectionSpan : townBlockHeight)),
    zones: zoneGrid,
    avenueClasses,
    streetClasses,
    avenueNames: avenueNames(namesRng, rows + 1, centreRow, county.city),
    streetNames: streetNames(namesRng, columns + 1, centreColumn),
    centreColumn,
    centreRow,
    metresPerDegreeLon: scale.lon,
    metresPerDegreeLat: scale.lat,
  };
}

export function capacity(plan: GridPlan): number {
  let total = 0;
  for (let j = 0; j < plan.rows; j++) for (let i = 0; i < plan.columns; i++) total += lotsInBlock(plan, i, j);
  return total;
}

/** The smallest plan of this shape family whose blocks hold `parcels`; the last blocks may stay partly unplatted. */
export function planCounty(county: CountyGeography, seed: number, parcels: number): GridPlan {
  const countySeed = hashInts(seed, hashString(county.countyId));
  const blocks = parcels / averageTownLotsPerBlock;
  // Town blocks are twice as wide as tall: twice as many rows as columns makes a square town.
  const townColumns = Math.max(2, Math.ceil(Math.sqrt(blocks / 2)));
  const ring = Math.max(1, Math.round(townColumns * 0.05));
  const columns = townColumns + 2 * ring;
  let rows = Math.max(2 * ring + 2, Math.floor(townColumns * 2 * 0.85) + 2 * ring);
  for (;;) {
    const plan = build(county, seed, parcels, countySeed, { columns, rows, ring });
    const held = capacity(plan);
    if (held >= parcels) return plan;
    const perRow = held / rows;
    rows += Math.max(1, Math.floor(((parcels - held) / perRow) * 0.9));
  }
}
