/**
 * What an assessor's roll says about one lot: property type, building, values, and the
 * sales history behind its last sale. Values are whole dollars so that
 * total = land + improvement holds exactly in numeric(14,2); sales follow the county's
 * price index with per-sale noise, so the history trends upward the way the region did.
 */
import type { Lot } from './lots.js';
import { firstDayOfYear, priceIndex, windowDays } from './market.js';
import type { Prng } from './prng.js';
import { Zone, type PropertyType, type ZoneIndex } from './zoning.js';

export interface Sale {
  /** Day of the sales window (see market.ts). */
  day: number;
  price: number;
  saleType: 'arms_length' | 'quit_claim' | 'foreclosure' | 'estate';
}

export interface Appraisal {
  propertyType: PropertyType;
  buildingAreaSqft: number;
  yearBuilt: number | null;
  bedrooms: number | null;
  bathrooms: number | null;
  landValue: number;
  improvementValue: number;
  /** Chronological, at most four. */
  sales: Sale[];
}

export const squareFeetPerSquareMetre = 10.763910416709722;
const assessmentRatio = 0.93;

// Land $/sqft by zone, before the location premium; agricultural is ~$7,000 an acre.
const landRate: Record<ZoneIndex, number> = { 0: 6.5, 1: 7.5, 2: 9, 3: 14, 4: 22, 5: 4.2, 6: 0.16, 7: 5 };
const buildingRate: Record<PropertyType, number> = { residential: 150, commercial: 125, industrial: 72, agricultural: 95, exempt: 115 };

function propertyTypeOf(zone: ZoneIndex, roll: number): PropertyType {
  switch (zone) {
    case Zone.AG:
      return 'agricultural';
    case Zone.I1:
      return roll < 0.04 ? 'commercial' : 'industrial';
    case Zone.C1:
    case Zone.CBD:
      return roll < 0.04 ? 'exempt' : 'commercial';
    case Zone.PF:
      return 'exempt';
    default:
      // Churches and the odd corner store in residential districts.
      return roll < 0.006 ? 'exempt' : roll < 0.012 ? 'commercial' : 'residential';
  }
}

function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

/** Rounds to a multiple of `step` dollars. */
function dollars(value: number, step: number): number {
  return Math.max(0, Math.round(value / step) * step);
}

function building(type: PropertyType, zone: ZoneIndex, landSqft: number, centreDistance: number, rng: Prng): { area: number; year: number | null } {
  // Older stock near downtown, newer subdivisions towards the edge.
  const era = 1948 + 70 * clamp(centreDistance / 0.6, 0, 1);
  const year = Math.round(clamp(era + rng.normal() * 12, 1905, 2024));
  const vacant = rng.next();
  switch (type) {
    case 'residential':
      if (vacant < 0.03) return { area: 0, year: null };
      if (zone === Zone.R3) return { area: Math.round(landSqft * rng.range(0.35, 0.6) * rng.int(2, 3)), year };
      if (zone === Zone.R2) return { area: Math.round(clamp(1600 + landSqft * 0.12 + rng.normal() * 300, 1400, 4200)), year };
      return { area: Math.round(clamp(850 + landSqft * 0.13 + rng.normal() * 350, 650, 4800)), year };
    case 'commercial':
      if (vacant < 0.05) return { area: 0, year: null };
      return { area: Math.round(landSqft * rng.range(0.2, 0.55) * (zone === Zone.CBD ? rng.int(1, 4) : 1)), year: Math.max(year, 1935) };
    case 'industrial':
      if (vacant < 0.08) return { area: 0, year: null };
      return { area: Math.round(landSqft * rng.range(0.15, 0.45)), year: Math.max(year, 1955) };
    case 'agricultural':
      if (vacant < 0.35) return { area: 0, year: null };
      return { area: Math.round(rng.range(1100, 3200)), year: Math.round(clamp(1915 + rng.next() * 105, 1905, 2024)) };
    case 'exempt':
      if (vacant < 0.4) return { area: 0, year: null };
      return { area: Math.round(landSqft * rng.range(0.08, 0.25)), year };
  }
}

function salesHistory(marketValue: number, yearBuilt: number | null, type: PropertyType, rng: Prng): Sale[] {
  const roll = rng.next();
  const threshold = type === 'exempt' ? [0.92, 0.98, 1, 1] : [0.25, 0.6, 0.82, 0.94];
  let count = 4;
  for (let k = 0; k < threshold.length; k++) if (roll < threshold[k]!) { count = k; break; }
  const first = firstDayOfYear(yearBuilt ?? 2010);
  const days: number[] = [];
  for (let k = 0; k < count; k++) days.push(first + Math.floor(rng.next() * (windowDays - first)));
  days.sort((a, b) => a - b);
  const sales: Sale[] = [];
  let previous = -1;
  for (const day of days) {
    if (day === previous) continue; // one sale per parcel per day
    previous = day;
    const kind = rng.next();
    const saleType = kind < 0.05 ? 'quit_claim' : kind < 0.08 ? 'foreclosure' : kind < 0.11 ? 'estate' : 'arms_length';
    const discount = saleType === 'quit_claim' ? rng.range(0.2, 0.6) : saleType === 'foreclosure' ? rng.range(0.65, 0.85) : saleType === 'estate' ? rng.range(0.85, 0.97) : 1;
    const noise = Math.exp(rng.normal() * 0.07);
    sales.push({ day, price: Math.max(1000, dollars(marketValue * priceIndex(day) * noise * discount, 500)), saleType });
  }
  return sales;
}

/**
 * Appraises one lot. `centreDistance` is the block's distance from downtown as a fraction
 * of the town's size; `priceLevel` is the county's overall level (counties differ).
 */
export function appraise(lot: Lot, zone: ZoneIndex, centreDistance: number, priceLevel: number, rng: Prng): Appraisal {
  const propertyType = propertyTypeOf(zone, rng.next());
  const landSqft = lot.areaM2 * squareFeetPerSquareMetre;
  const { area, year } = building(propertyType, zone, landSqft, centreDistance, rng);
  const location = 1 + 0.6 * clamp(0.45 - centreDistance, -0.3, 0.45);
  const cornerPremium = lot.corner && (zone === Zone.C1 || zone === Zone.CBD) ? 1.1 : 1;
  const landValue = dollars(landSqft * landRate[zone] * location * cornerPremium * priceLevel * Math.exp(rng.normal() * 0.1), 100);
  const age = year === null ? 0 : 2025 - year;
  const depreciation = Math.max(0.35, 1 - age * 0.0075);
  const quality = rng.range(0.85, 1.2);
  const improvementValue = area === 0 ? 0 : dollars(area * buildingRate[propertyType] * depreciation * quality * priceLevel, 100);
  let bedrooms: number | null = null;
  let bathrooms: number | null = null;
  if (propertyType === 'residential' && area > 0) {
    const perUnit = zone === Zone.R3 ? Math.min(area, 1100 + rng.next() * 600) : area;
    bedrooms = clamp(Math.round(perUnit / 650 + rng.normal() * 0.6), 1, 6);
    bathrooms = clamp(Math.round((perUnit / 900 + 0.5 + rng.next() * 0.8) * 2) / 2, 1, 4.5);
  }
  const marketValue = (landValue + improvementValue) / assessmentRatio;
  const sales = salesHistory(marketValue, year, propertyType, rng);
  return { propertyType, buildingAreaSqft: area, yearBuilt: year, bedrooms, bathrooms, landValue, improvementValue, sales };
}
