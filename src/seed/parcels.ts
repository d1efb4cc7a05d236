/**
 * The parcels of a planned county, generated lazily in a fixed order (blocks south to north,
 * west to east; lots south row first), exactly `plan.parcels` of them. Every parcel's random
 * choices come from its own stream, keyed by its index, so any pass regenerates the same one.
 */
import { appraise, type Appraisal } from './appraisal.js';
import type { GridPlan } from './grid-plan.js';
import { subdivideBlock, type Lot } from './lots.js';
import { parcelNumberFormat } from './parcel-number.js';
import { hashFloat, hashInts, Prng } from './prng.js';
import { zones, type ZoneIndex } from './zoning.js';

export interface Parcel {
  /** 0-based position in the county. */
  index: number;
  propertyId: string;
  parcelNumber: string;
  address: string;
  zipCode: string;
  zone: ZoneIndex;
  zoningCode: string;
  lot: Lot;
  appraisal: Appraisal;
}

/** `<county>-<n>` with n 1-based and zero-padded to 7 digits: stable across re-seeds. */
export function propertyId(countyId: string, index: number): string {
  return `${countyId}-${String(index + 1).padStart(7, '0')}`;
}

function houseNumber(plan: GridPlan, column: number, lot: Lot): { number: number; prefix: 'W' | 'E' } {
  const east = column >= plan.centreColumn;
  const blocksOut = east ? column - plan.centreColumn : plan.centreColumn - 1 - column;
  const slot = east ? lot.slot : lot.lotsInRow - 1 - lot.slot;
  // Odd numbers on the north side of an avenue (a south-row lot), even on the south side.
  const parity = lot.front === 'south' ? 1 : 0;
  return { number: 100 * (blocksOut + 1) + 2 * Math.floor((slot * 49) / lot.lotsInRow) + parity, prefix: east ? 'E' : 'W' };
}

export function* generateParcels(plan: GridPlan): Generator<Parcel> {
  const { county, columns, rows } = plan;
  const formatNumber = parcelNumberFormat(county.countyId);
  const priceLevel = 0.9 + 0.25 * hashFloat(plan.countySeed, 0x4d);
  const townColumns = Math.max(1, columns - 2 * plan.ring);
  const townRows = Math.max(1, rows - 2 * plan.ring);
  const zips = county.zipCodes;
  let index = 0;
  for (let j = 0; j < rows && index < plan.parcels; j++) {
    for (let i = 0; i < columns && index < plan.parcels; i++) {
      const zone = plan.zones[j * columns + i]! as ZoneIndex;
      const u = (i + 0.5 - plan.ring) / townColumns;
      const v = (j + 0.5 - plan.ring) / townRows;
      const centreDistance = Math.hypot(u - 0.5, v - 0.5);
      const zipCode = zips[Math.min(zips.length - 1, Math.floor((i / columns) * zips.length))]!;
      const block = j * columns + i + 1;
      const lots = subdivideBlock(plan, i, j);
      for (let k = 0; k < lots.length && index < plan.parcels; k++) {
        const lot = lots[k]!;
        const appraisal = appraise(lot, zone, centreDistance, priceLevel, new Prng(hashInts(plan.countySeed, 0x6e, index)));
        const avenue = lot.front === 'south' ? j : j + 1;
        const { number, prefix } = houseNumber(plan, i, lot);
        yield {
          index,
          propertyId: propertyId(county.countyId, index),
          parcelNumber: formatNumber(block, k + 1, i, j),
          address: `${number} ${prefix} ${plan.avenueNames[avenue]!}`,
          zipCode,
          zone,
          zoningCode: zones[zone].code,
          lot,
          appraisal,
        };
        index++;
      }
    }
  }
}
