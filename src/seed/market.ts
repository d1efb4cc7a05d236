/**
 * The county's market over the sales window: a price index with the region's shape (flat
 * after 2010, steady growth, the 2020-22 surge, a plateau) and the calendar of sale dates.
 * Fixed dates, not "now": a county seeded next year must be byte-identical to today's.
 */

/** The assessment date every value is "as of", and the sales window before it. */
export const assessmentDate = '2025-01-01';
const windowStartMs = Date.UTC(2010, 0, 1);
export const windowDays = Math.round((Date.UTC(2025, 0, 1) - windowStartMs) / 86_400_000);

const isoDates: string[] = Array.from({ length: windowDays }, (_, day) => new Date(windowStartMs + day * 86_400_000).toISOString().slice(0, 10));

/** ISO date (YYYY-MM-DD) of day `day` of the window (0 = 2010-01-01). */
export function saleDate(day: number): string {
  return isoDates[day]!;
}

/** First day of the window on or after January 1st of `year`. */
export function firstDayOfYear(year: number): number {
  if (year <= 2010) return 0;
  return Math.min(windowDays - 1, Math.round((Date.UTC(year, 0, 1) - windowStartMs) / 86_400_000));
}

// Annual appreciation by year since 2010; the index compounds these.
const annualGrowth = [-0.03, -0.02, 0.01, 0.04, 0.05, 0.06, 0.06, 0.07, 0.06, 0.05, 0.09, 0.17, 0.11, 0.0, 0.02];
const yearStartIndex: number[] = [1];
for (const growth of annualGrowth) yearStartIndex.push(yearStartIndex[yearStartIndex.length - 1]! * (1 + growth));

/** Price level on window day `day`, relative to the assessment date (= 1). */
export function priceIndex(day: number): number {
  const years = day / 365.25;
  const year = Math.min(annualGrowth.length - 1, Math.floor(years));
  const level = yearStartIndex[year]! * (1 + annualGrowth[year]! * (years - year));
  return level / yearStartIndex[annualGrowth.length]!;
}
