/**
 * The one place the legacy schema is created and migrated. Migrations are plain SQL files,
 * numbered, grouped in sets: `reference` (shared read-only data, in `public`) and `jobs`
 * (plugin job tables, applied to `public` and to every shadow schema). Each set records
 * what it applied in `<schema>.schema_migrations`, so re-running is a no-op.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CutoverError } from '../errors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const migrationSets = {
  reference: join(root, 'legacy/schema/migrations/reference'),
  jobs: join(root, 'legacy/schema/migrations/jobs'),
  /** The harness's own tables (flags, audit log, observations), always in schema `cutover`. */
  cutover: join(root, 'src/db/migrations/cutover'),
} as const;

export type MigrationSet = keyof typeof migrationSets;

export interface Migration {
  set: MigrationSet;
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(set: MigrationSet): Migration[] {
  return readdirSync(migrationSets[set])
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      set,
      version: Number(file.split('_')[0]),
      name: file,
      sql: readFileSync(join(migrationSets[set], file), 'utf8'),
    }));
}

const identifier = /^[a-z_][a-z0-9_]*$/;

/** Creates or migrates the harness's own `cutover` schema, apart from the legacy tables. */
export function migrateHarness(databaseUrl: string): Promise<Migration[]> {
  return migrate(databaseUrl, { schema: 'cutover', sets: ['cutover'] });
}

/** Applies the pending migrations of each set to `schema`, each in its own transaction. */
export async function migrate(
  databaseUrl: string,
  options: { schema?: string; sets?: MigrationSet[] } = {},
): Promise<Migration[]> {
  const schema = options.schema ?? 'public';
  const sets = options.sets ?? ['reference', 'jobs'];
  if (!identifier.test(schema)) throw new CutoverError('CUTOVER_ERR_MIGRATION_FAILED', `invalid schema name ${schema}`);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const applied: Migration[] = [];
  try {
    // One migrator at a time per database, so concurrent starts cannot race.
    await client.query('SELECT pg_advisory_lock(727274)');
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`SET search_path TO "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      migration_set varchar(32) NOT NULL, version integer NOT NULL, name text NOT NULL,
      applied_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
      PRIMARY KEY (migration_set, version))`);
    for (const set of sets) {
      const done = await client.query<{ version: number }>('SELECT version FROM schema_migrations WHERE migration_set = $1', [set]);
      const seen = new Set(done.rows.map((row) => row.version));
      for (const migration of listMigrations(set)) {
        if (seen.has(migration.version)) continue;
        try {
          await client.query('BEGIN');
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (migration_set, version, name) VALUES ($1, $2, $3)', [set, migration.version, migration.name]);
          await client.query('COMMIT');
          applied.push(migration);
        } catch (error) {
          await client.query('ROLLBACK');
          throw new CutoverError('CUTOVER_ERR_MIGRATION_FAILED', `migration ${set}/${migration.name} failed in schema ${schema}: ${(error as Error).message}`, { cause: error });
        }
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(727274)').catch(() => undefined);
    await client.end();
  }
  return applied;
}
