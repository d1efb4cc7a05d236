/**
 * The zoning districts of a synthetic county and what each implies for its lots: how wide a
 * lot's frontage is, how many rows a block holds, and which property types live there.
 */

export interface ZoneDistrict {
  code: string;
  name: string;
  /** Target lot frontage along the street, metres. */
  frontage: number;
  /** Lots per block row is forced to one when the district takes whole blocks (parks, schools). */
  wholeBlock: boolean;
}

export const zones = [
  { code: 'R-1', name: 'Single-Family Residential', frontage: 20, wholeBlock: false },
  { code: 'R-2', name: 'Two-Family Residential', frontage: 18, wholeBlock: false },
  { code: 'R-3', name: 'Multi-Family Residential', frontage: 30, wholeBlock: false },
  { code: 'C-1', name: 'Neighborhood Commercial', frontage: 35, wholeBlock: false },
  { code: 'CBD', name: 'Central Business District', frontage: 25, wholeBlock: false },
  { code: 'I-1', name: 'Light Industrial', frontage: 80, wholeBlock: false },
  { code: 'AG', name: 'Agricultural', frontage: 190, wholeBlock: false },
  { code: 'PF', name: 'Public Facilities', frontage: 0, wholeBlock: true },
] as const satisfies readonly ZoneDistrict[];

export const Zone = { R1: 0, R2: 1, R3: 2, C1: 3, CBD: 4, I1: 5, AG: 6, PF: 7 } as const;
export type ZoneIndex = (typeof Zone)[keyof typeof Zone];

export type PropertyType = 'residential' | 'commercial' | 'industrial' | 'agricultural' | 'exempt';
