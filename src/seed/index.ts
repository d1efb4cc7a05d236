/** The synthetic county generator's public face: seed a county, ask whether one is seeded. */
export { seedCounty, isCountySeeded, planSeed, maxParcels, type SeedOptions, type SeedSummary } from './seed-county.js';
export { listCountyGeographies, findCountyGeography, defaultCountyConfigsDir, type CountyGeography } from './county-geography.js';
export type { SeedTable } from './tables.js';
