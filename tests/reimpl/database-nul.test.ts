// The reimplementation's pool refuses a string parameter holding NUL the way legacy's driver
// (psycopg2) does, in its words and before anything reaches PostgreSQL; everything else goes
// through as before, on real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { openPool } from '../../reimpl/shared/database.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';

/** psycopg2's words, as legacy's routes render them (str(exc)): the test's own copy, so that it fails when the pool's words change. */
const psycopgRefusal = 'A string literal cannot contain NUL (0x00) characters.';

let database: IsolatedDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createIsolatedDatabase('nul');
  pool = openPool({ url: database.url, max: 2 });
  await pool.query('CREATE TABLE seen (value text)');
});
afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

describe('a string parameter holding NUL', () => {
  it('is refused with psycopg2’s message by pool.query, a client’s query and a query config, and nothing is written', async () => {
    await expect(pool.query('INSERT INTO seen VALUES ($1)', ['a\0b'])).rejects.toThrow(psycopgRefusal);
    const client = await pool.connect();
    try {
      await expect(client.query({ text: 'INSERT INTO seen VALUES ($1)', values: ['\0'] })).rejects.toThrow(psycopgRefusal);
      await expect(client.query('SELECT $1::text[]', [['ok', 'n\0t']])).rejects.toThrow(psycopgRefusal);
      // The connection is still good: the refusal happened before anything was sent.
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      client.release();
    }
    expect((await pool.query('SELECT count(*)::int AS n FROM seen')).rows).toEqual([{ n: 0 }]);
  });

  it('is the only thing refused: other strings, arrays and bytes go through', async () => {
    await pool.query('INSERT INTO seen VALUES ($1), ($2)', ['plain', 'escaped \\0 is two characters']);
    expect((await pool.query('SELECT $1::bytea AS bytes', [Buffer.from([0, 1])])).rows[0].bytes).toEqual(Buffer.from([0, 1]));
    expect((await pool.query('SELECT value FROM seen ORDER BY value')).rows.map((row) => row.value)).toEqual(['escaped \\0 is two characters', 'plain']);
  });
});
