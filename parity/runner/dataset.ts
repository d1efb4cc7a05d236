/**
 * The data a fixture set was recorded against. A golden answer about a county (its parcel
 * count, a report's totals, a page of parcels) only replays the same on the same data, so the
 * set carries its dataset — the generator's seed, the counties and their parcel counts, and a
 * fingerprint of the reference table as the sync API answers it — in `dataset.json` beside the
 * fixtures; replay reads the target's fingerprint first and refuses a target with other data,
 * saying how to get a matching one, instead of reporting the data's differences as parity bugs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CutoverError } from '../../src/errors.js';
import { tryParseJson } from './fixture.js';

export interface FixtureDataset {
  /** The seed generator's seed (config seed.seed) the counties were generated with. */
  seed: number;
  counties: Array<{ countyId: string; parcels: number }>;
  /** sha256 of every county's parcel ids, sorted, as the sync service lists them (datasetFingerprint). */
  fingerprint: string;
}

export const datasetFile = 'dataset.json';

/** The dataset a fixture directory declares, or undefined when it declares none. */
export function readDataset(dir: string): FixtureDataset | undefined {
  const file = join(dir, datasetFile);
  if (!existsSync(file)) return undefined;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<FixtureDataset>;
  if (typeof raw.seed !== 'number' || !Array.isArray(raw.counties) || typeof raw.fingerprint !== 'string') {
    throw new CutoverError('CUTOVER_ERR_FIXTURE_INVALID', `${file} must hold seed (a number), counties ([{ countyId, parcels }]) and fingerprint`);
  }
  return raw as FixtureDataset;
}

export function writeDataset(dir: string, dataset: FixtureDataset): void {
  writeFileSync(join(dir, datasetFile), `${JSON.stringify(dataset, null, 2)}\n`);
}

/** A page of parcels as the sync service lists them: the ids it carries. */
async function parcelIds(syncUrl: string, countyId: string, limit: number, timeoutMs: number): Promise<string[]> {
  const response = await fetch(`${syncUrl}/properties?county_id=${encodeURIComponent(countyId)}&limit=${limit}`, { signal: AbortSignal.timeout(timeoutMs) });
  const rows = tryParseJson(Buffer.from(await response.arrayBuffer()));
  if (!response.ok || !Array.isArray(rows)) return [];
  return rows.flatMap((row) => (row !== null && typeof row === 'object' && !Array.isArray(row) && typeof (row as Record<string, unknown>).property_id === 'string' ? [(row as Record<string, string>).property_id!] : []));
}

/**
 * What a target holds of the given counties, read over its sync API the same way on legacy and
 * the reimplementation: each county's parcel count (up to one more than expected, so a larger
 * county shows) and the fingerprint of all their parcel ids.
 */
export async function targetDataset(syncUrl: string, counties: FixtureDataset['counties'], seed: number, timeoutMs = 30_000): Promise<FixtureDataset> {
  const hash = createHash('sha256');
  const found: FixtureDataset['counties'] = [];
  for (const county of counties) {
    // The list's page is at most 1,000 (legacy's bound): a county of more parcels is fingerprinted by its first page.
    const ids = (await parcelIds(syncUrl, county.countyId, Math.min(county.parcels + 1, 1000), timeoutMs)).sort();
    found.push({ countyId: county.countyId, parcels: ids.length });
    hash.update(`${county.countyId}\n${ids.join('\n')}\n`);
  }
  return { seed, counties: found, fingerprint: hash.digest('hex').slice(0, 16) };
}

const describe = (dataset: FixtureDataset) => dataset.counties.map((county) => `${county.countyId} ${county.parcels} parcels`).join(', ');

/** Refuses (CUTOVER_ERR_REPLAY_DATASET_MISMATCH) a target whose data is not the fixture set's. */
export async function checkTargetDataset(dir: string, syncUrl: string, targetName: string): Promise<void> {
  const recorded = readDataset(dir);
  if (!recorded) return;
  const target = await targetDataset(syncUrl, recorded.counties, recorded.seed);
  if (target.fingerprint === recorded.fingerprint) return;
  const seedLine = recorded.counties.map((county) => `cutover seed --county ${county.countyId} --parcels ${county.parcels} --seed ${recorded.seed}`).join(' && ');
  throw new CutoverError(
    'CUTOVER_ERR_REPLAY_DATASET_MISMATCH',
    `the fixtures in ${dir} were recorded on ${describe(recorded)} (seed ${recorded.seed}, fingerprint ${recorded.fingerprint}); ` +
      `the ${targetName} target holds ${describe(target)} (fingerprint ${target.fingerprint}), so its answers would differ by data, not by parity. ` +
      `Replay with --isolated (a platform seeded to match, on its own database and ports), or seed an empty database to match (${seedLine}) and point the target at it.`,
  );
}
