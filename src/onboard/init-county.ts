/**
 * Onboarding a county: validates what the engineer gave (every bad input named at once), writes
 * the county's folder where the legacy platform reads county configs, and checks it by loading it
 * the way legacy and the reimplementation do. User passwords are asked on a terminal or generated;
 * only their werkzeug hashes are written, the caller prints the passwords once.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CutoverError } from '../errors.js';
import { checkCountyConfiguration } from './county-check.js';
import { countyJson, countyUserRoles, envFile, mappingYaml, rbacRoles, rbacUsersJson, type CountySpec, type HashedUser, type RoleName } from './county-files.js';
import { findLegacySystem, legacySystems } from './legacy-systems.js';
import { generatePassword, generatePasswordHash } from './password-hash.js';
import type { Prompter } from './terminal-prompt.js';

export const exportFormats = ['GeoJSON', 'Shapefile', 'KML', 'GeoPackage', 'CSV'] as const;

export interface InitCountyInput {
  countyId: string | undefined;
  name?: string;
  legacySystem?: string;
  state?: string;
  /** `LON,LAT` of the south-west corner of the synthetic street grid (seed). */
  origin?: string;
  city?: string;
  /** Comma-separated ZIP codes. */
  zip?: string;
  dbHost?: string;
  dbPort?: string;
  dbName?: string;
  dbUser?: string;
  /** Comma-separated export formats. */
  formats?: string;
  /** The county configs folder (COUNTY_CONFIGS_DIR); the county is written to `<dir>/<county_id>/`. */
  dir: string;
  force: boolean;
}

export interface CountyUserPassword {
  username: string;
  role: RoleName;
  password: string;
  generated: boolean;
}

export interface InitCountyResult {
  countyId: string;
  folder: string;
  files: string[];
  users: CountyUserPassword[];
}

const COUNTY_ID = /^[a-z][a-z0-9_]{1,39}$/;

function parseSpec(input: InitCountyInput): CountySpec {
  const problems: string[] = [];
  const countyId = input.countyId ?? '';
  if (!COUNTY_ID.test(countyId)) problems.push(`<county_id> '${countyId}' must be 2-40 characters of a-z, 0-9 and _, starting with a letter (e.g. yakima_wa)`);
  const name = input.name?.trim() ?? '';
  if (!name) problems.push('--name "<County name>" is required');
  const system = input.legacySystem === undefined ? undefined : findLegacySystem(input.legacySystem);
  const systems = legacySystems.map((s) => s.id).join('|');
  if (input.legacySystem === undefined) problems.push(`--legacy-system ${systems} is required`);
  else if (!system) problems.push(`--legacy-system '${input.legacySystem}' is not one of ${systems}`);
  const state = (input.state ?? /_([a-z]{2})$/.exec(countyId)?.[1] ?? '').toUpperCase();
  if (!/^[A-Z]{2}$/.test(state)) problems.push(`--state must be a two-letter state code${input.state === undefined ? ' (the county id does not end in one, e.g. _wa)' : `, got '${input.state}'`}`);
  const [lon, lat] = (input.origin ?? '').split(',').map((part) => (part.trim() === '' ? Number.NaN : Number(part)));
  if (input.origin === undefined) problems.push('--origin LON,LAT is required (where the county sits, EPSG:4326; seed builds its streets there)');
  else if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon!) > 180 || Math.abs(lat!) > 80) problems.push(`--origin '${input.origin}' must be LON,LAT in EPSG:4326 (|lon| <= 180, |lat| <= 80)`);
  const zipCodes = (input.zip ?? '').split(',').map((zip) => zip.trim()).filter(Boolean);
  for (const zip of zipCodes) if (!/^\d{5}$/.test(zip)) problems.push(`--zip '${zip}' is not a five-digit ZIP code`);
  const formats = input.formats === undefined ? [...exportFormats] : input.formats.split(',').map((format) => format.trim()).filter(Boolean);
  for (const format of formats) if (!(exportFormats as readonly string[]).includes(format)) problems.push(`--formats '${format}' is not one of ${exportFormats.join(',')}`);
  if (formats.length === 0) problems.push('--formats names no format');
  const port = input.dbPort === undefined ? system?.defaultPort ?? 1 : Number(input.dbPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`--db-port '${input.dbPort}' is not a port number`);
  if (problems.length > 0) throw new CutoverError('CUTOVER_ERR_COUNTY_INVALID', problems.join('; '));
  const key = countyId;
  return {
    countyId,
    key,
    name,
    state,
    system: system!,
    connection: {
      host: input.dbHost ?? `${system!.id.toLowerCase()}-db.${key.replace(/_[a-z]{2}$/, '')}.local`,
      port,
      database: input.dbName ?? system!.id.toLowerCase(),
      username: input.dbUser ?? 'terrafusion_sync',
    },
    formats,
    geography: { originLon: lon!, originLat: lat!, city: input.city?.trim() || name.replace(/\s+County$/i, ''), zipCodes },
  };
}

interface ExistingCounty {
  folder: string;
  countyId: unknown;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The other counties of the folder, and the highest user id their RBAC files use. */
function survey(dir: string, key: string): { others: ExistingCounty[]; maxUserId: number } {
  const others: ExistingCounty[] = [];
  let maxUserId = 0;
  if (!existsSync(dir)) return { others, maxUserId };
  for (const folder of readdirSync(dir)) {
    if (folder === key) continue;
    const config = readJson(join(dir, folder, 'county.json'));
    if (config) others.push({ folder, countyId: config.county_id });
    const rbac = join(dir, folder, 'rbac');
    if (!existsSync(rbac)) continue;
    for (const file of readdirSync(rbac).filter((name) => name.endsWith('_users.json'))) {
      const users = (readJson(join(rbac, file))?.users ?? []) as Array<{ id?: unknown }>;
      for (const user of users) if (Number.isInteger(Number(user.id))) maxUserId = Math.max(maxUserId, Number(user.id));
    }
  }
  return { others, maxUserId };
}

async function choosePasswords(spec: CountySpec, prompter: Prompter | undefined): Promise<CountyUserPassword[]> {
  const users: CountyUserPassword[] = [];
  for (const { suffix, role } of countyUserRoles) {
    const username = `${spec.key}_${suffix}`;
    const typed = prompter ? await prompter.askHidden(`password for ${username} (${role}; empty: generate one): `) : '';
    if (typed !== '' && typed.length < 10) throw new CutoverError('CUTOVER_ERR_COUNTY_INVALID', `the password typed for ${username} is shorter than 10 characters`);
    users.push({ username, role, password: typed || generatePassword(), generated: typed === '' });
  }
  return users;
}

async function fillFromPrompts(input: InitCountyInput, prompter: Prompter): Promise<InitCountyInput> {
  const filled = { ...input };
  if (filled.name === undefined) filled.name = await prompter.ask('county name (e.g. Yakima County): ');
  if (filled.legacySystem === undefined) filled.legacySystem = await prompter.ask(`legacy system (${legacySystems.map((s) => s.id).join('|')}): `);
  if (filled.origin === undefined) filled.origin = await prompter.ask('origin LON,LAT (EPSG:4326): ');
  return filled;
}

/** Writes and checks `<dir>/<county_id>/`; throws CUTOVER_ERR_COUNTY_INVALID / _EXISTS / _CHECK_FAILED. */
export async function initCounty(rawInput: InitCountyInput, options: { python: string; prompter?: Prompter }): Promise<InitCountyResult> {
  const input = options.prompter ? await fillFromPrompts(rawInput, options.prompter) : rawInput;
  const spec = parseSpec(input);
  const dir = resolve(input.dir);
  const folder = join(dir, spec.key);
  const { others, maxUserId } = survey(dir, spec.key);
  const twin = others.find((county) => county.countyId === spec.countyId);
  if (twin) throw new CutoverError('CUTOVER_ERR_COUNTY_EXISTS', `county ${spec.countyId} is already configured in ${join(dir, twin.folder)}`);
  const existed = existsSync(folder) && readdirSync(folder).length > 0;
  if (existed && !input.force) throw new CutoverError('CUTOVER_ERR_COUNTY_EXISTS', `${folder} already exists; pass --force to overwrite its county.json, mapping.yaml, RBAC file and .env`);

  const passwords = await choosePasswords(spec, options.prompter);
  const users: HashedUser[] = await Promise.all(
    passwords.map(async (user, index) => ({
      id: maxUserId + 1 + index,
      username: user.username,
      role: user.role,
      fullName: `${spec.name} ${countyUserRoles[index]!.title}`,
      passwordHash: await generatePasswordHash(user.password),
    })),
  );

  const files: Array<[string, string, number]> = [
    ['county.json', countyJson(spec), 0o644],
    ['mapping.yaml', mappingYaml(spec), 0o644],
    [join('rbac', `${spec.key}_users.json`), rbacUsersJson(spec, users), 0o644],
    ['.env', envFile(spec, dir), 0o600],
  ];
  mkdirSync(join(folder, 'rbac'), { recursive: true });
  for (const [name, text, mode] of files) {
    writeFileSync(join(folder, name), text, { mode });
    chmodSync(join(folder, name), mode); // an overwritten file keeps its old mode otherwise
  }

  const problems = await checkCountyConfiguration(options.python, {
    countyConfigsDir: dir,
    countyId: spec.countyId,
    key: spec.key,
    users: passwords,
    rolesCount: Object.keys(rbacRoles).length,
  });
  if (problems.length > 0) {
    if (!existed) rmSync(folder, { recursive: true, force: true });
    throw new CutoverError('CUTOVER_ERR_COUNTY_CHECK_FAILED', `${folder} ${existed ? 'was written' : 'was written and removed again'}: ${problems.join('; ')}`);
  }
  return { countyId: spec.countyId, folder, files: files.map(([name]) => join(folder, name)), users: passwords };
}
