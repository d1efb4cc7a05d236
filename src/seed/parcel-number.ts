/**
 * Parcel numbers in each county's own style (what its assessor's roll prints), unique by
 * construction because they encode the block sequence and the lot within it.
 */
const pad = (value: number, width: number) => String(value).padStart(width, '0');

type ParcelNumberFormat = (block: number, lot: number, column: number, row: number) => string;

const formats: Record<string, ParcelNumberFormat> = {
  // Benton (PACS geo_id): section-township, block, lot, split suffix: 1-2309-00417-0012-000.
  benton_wa: (block, lot, column, row) => `1-${pad((row % 36) + 1, 2)}${pad((column % 9) + 1, 2)}-${pad(block, 5)}-${pad(lot, 4)}-000`,
  // Franklin (iasWorld PARID): 113-370-071 style, nine digits in three groups.
  franklin_wa: (block, lot) => {
    const digits = pad(block, 6);
    return `${digits.slice(0, 3)}-${digits.slice(3)}-${pad(lot, 3)}`;
  },
};

const fallback = (countyId: string): ParcelNumberFormat => {
  const prefix = countyId.replace(/[^a-z]/gi, '').slice(0, 2).toUpperCase() || 'PN';
  return (block, lot) => `${prefix}${pad(block, 6)}-${pad(lot, 3)}`;
};

/** The formatter of a county: block and lot are 1-based; column/row are the block's grid position. */
export function parcelNumberFormat(countyId: string): ParcelNumberFormat {
  return formats[countyId] ?? fallback(countyId);
}
