/**
 * The PostgreSQL pool of the reimplemented services (legacy: terrafusion_sync/db.py).
 *
 * Values come back already in the shape Python would have had them, so that rendering is a
 * single pass: numeric -> PyDecimal, double -> PyFloat, bigint -> number, timestamp -> the
 * naive `isoformat()` string (microseconds kept, which a JS Date would lose), date -> ISO
 * text, json -> values parsed with Python's int/float distinction. DB_SCHEMA becomes the
 * connection's search_path at connect time, as legacy's connect event does.
 */
import pg from 'pg';
import { parsePyJson, PyDecimal, PyFloat } from './py-json.js';

const OID = { int8: 20, float4: 700, float8: 701, numeric: 1700, date: 1082, timestamp: 1114, json: 114, jsonb: 3802 } as const;

/** `2025-05-15 20:49:04.3858` -> `2025-05-15T20:49:04.385800`; no fraction when it is zero, like isoformat(). */
export function isoFromPg(text: string): string {
  const t = text.replace(' ', 'T');
  const dot = t.indexOf('.');
  return dot < 0 ? t : t.slice(0, dot + 1) + t.slice(dot + 1).padEnd(6, '0');
}

const parsers: Record<number, (text: string) => unknown> = {
  [OID.int8]: Number,
  [OID.float4]: (t) => new PyFloat(Number(t)),
  [OID.float8]: (t) => new PyFloat(Number(t)),
  [OID.numeric]: (t) => new PyDecimal(t),
  [OID.date]: (t) => t,
  [OID.timestamp]: isoFromPg,
  [OID.json]: parsePyJson,
  [OID.jsonb]: parsePyJson,
};

const pythonTypes = {
  getTypeParser(oid: number, format?: string) {
    return parsers[oid] ?? pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** psycopg2's own refusal (adapter_qstring.c), raised while it quotes the parameters: the query never reaches the server. */
const NUL_REFUSAL = 'A string literal cannot contain NUL (0x00) characters.';

function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  return Array.isArray(value) && value.some(holdsNul);
}

/** The parameters of a `query(...)` call, in any of its forms; a Submittable (a cursor) is let through. */
function parametersOf(args: readonly unknown[]): readonly unknown[] | undefined {
  const [first, second] = args;
  if (Array.isArray(second)) return second;
  if (typeof first === 'object' && first !== null && typeof (first as { submit?: unknown }).submit !== 'function') {
    const { values } = first as { values?: unknown };
    return Array.isArray(values) ? values : undefined;
  }
  return undefined;
}

/**
 * A client that refuses a string parameter holding NUL as legacy's driver does, with its words:
 * PostgreSQL's own error ("invalid byte sequence for encoding UTF8: 0x00") is what a client of a
 * route that renders the exception would otherwise see instead of legacy's (the reliability
 * run's catalogue fuzz found it on GET /plugins/v1/reporting/reports?county_id=%00).
 */
class PsycopgClient extends pg.Client {}
const clientQuery = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
PsycopgClient.prototype.query = function query(this: pg.Client, ...args: unknown[]): unknown {
  if (!parametersOf(args)?.some(holdsNul)) return clientQuery.apply(this, args);
  const refusal = new Error(NUL_REFUSAL);
  const callback = args.find((arg): arg is (error: Error) => void => typeof arg === 'function');
  if (!callback) return Promise.reject(refusal);
  process.nextTick(callback, refusal);
  return undefined;
} as typeof pg.Client.prototype.query;

export interface DatabaseOptions {
  url: string;
  /** search_path, e.g. `shadow_reimpl,public`; empty = the server default. */
  schema?: string;
  /** Pool size; legacy runs 20 + 20 overflow. */
  max?: number;
}

/** A pool whose rows carry Python-shaped values. */
export function openPool(options: DatabaseOptions): pg.Pool {
  const schema = options.schema?.trim();
  return new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 16,
    idleTimeoutMillis: 30_000,
    types: pythonTypes,
    Client: PsycopgClient,
    ...(schema ? { options: `-c search_path=${schema.replace(/\s+/g, '')}` } : {}),
  });
}

/** A named query, prepared once per connection by the server and reused. */
export function prepared(name: string, text: string) {
  return (values: unknown[]): pg.QueryConfig => ({ name, text, values });
}
