/**
 * Where a synthetic county sits and what it is called: read from the legacy platform's
 * `county_configs/<key>/county.json` (its `geography` block), the same files the legacy
 * services serve. A county missing there cannot be seeded.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CutoverError } from '../errors.js';

export const defaultCountyConfigsDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../legacy/county_configs');

export interface CountyGeography {
  countyId: string;
  countyName: string;
  state: string;
  /** South-west corner of the street grid, EPSG:4326. */
  originLon: number;
  originLat: number;
  city: string;
  zipCodes: readonly string[];
}

interface CountyJson {
  county_id?: unknown;
  county_name?: unknown;
  state?: unknown;
  geography?: { origin_lon?: unknown; origin_lat?: unknown; city?: unknown; zip_codes?: unknown };
}

/** Every county configured in `dir`, keyed by county_id. */
export function listCountyGeographies(dir: string = defaultCountyConfigsDir): Map<string, CountyGeography> {
  const counties = new Map<string, CountyGeography>();
  if (!existsSync(dir)) return counties;
  for (const key of readdirSync(dir).sort()) {
    const file = join(dir, key, 'county.json');
    if (!existsSync(file)) continue;
    const json = JSON.parse(readFileSync(file, 'utf8')) as CountyJson;
    const geography = json.geography;
    if (typeof json.county_id !== 'string' || !geography) continue;
    const { origin_lon: lon, origin_lat: lat, city, zip_codes: zips } = geography;
    if (typeof lon !== 'number' || typeof lat !== 'number' || Math.abs(lat) > 80 || Math.abs(lon) > 180) {
      throw new CutoverError('CUTOVER_ERR_SEED_INVALID', `${file}: geography.origin_lon/origin_lat must be numbers inside EPSG:4326`);
    }
    const zipCodes = Array.isArray(zips) && zips.length > 0 ? zips.map(String) : ['00000'];
    counties.set(json.county_id, {
      countyId: json.county_id,
      countyName: typeof json.county_name === 'string' ? json.county_name : json.county_id,
      state: typeof json.state === 'string' ? json.state : '',
      originLon: lon,
      originLat: lat,
      city: typeof city === 'string' && city ? city : 'Unincorporated',
      zipCodes,
    });
  }
  return counties;
}

/** The geography of one configured county; an unknown county is CUTOVER_ERR_SEED_INVALID. */
export function findCountyGeography(countyId: string, dir: string = defaultCountyConfigsDir): CountyGeography {
  const counties = listCountyGeographies(dir);
  const county = counties.get(countyId);
  if (!county) {
    const known = [...counties.keys()].join(', ') || 'none';
    throw new CutoverError('CUTOVER_ERR_SEED_INVALID', `county '${countyId}' is not configured in ${dir} (configured: ${known})`);
  }
  return county;
}
