/**
 * A golden Fixture: one recorded request/response pair of a route, redacted, as readable
 * and stable JSON in parity/fixtures/<route-id>/<shape-hash>.json. The shape hash names the
 * request's shape (method, route, query keys and JSON body keys with their value types, not
 * the values), so recording the same kind of request twice keeps one fixture.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { routesMatching } from '../../flags/flag-change.js';
import type { Route } from '../../flags/route-catalogue.js';
import { JsonNumber, parseJsonText, type JsonValue } from '../compare/json-text.js';
import { CutoverError } from '../../src/errors.js';

export const fixtureFormat = 1;

/** The committed golden set. */
export const defaultFixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** A body as the fixture keeps it: JSON (numbers as written), text, or bytes in base64. */
export type FixtureBody = { json: JsonValue } | { text: string } | { base64: string; contentType: string; bytes: number } | null;

/**
 * Where a fixture sits in a recorded sequence: a job created by one fixture and read by later
 * ones. `produces` names the ids this fixture's answer created; `needs` the ids (and the
 * fixture that produced them) its request refers to, substituted with the target's ids on replay.
 */
export interface FixtureSequence {
  produces?: Array<{ id: string; value: string }>;
  needs?: Array<{ id: string; value: string; from: string }>;
}

export interface Fixture {
  fixture: typeof fixtureFormat;
  routeId: string;
  service: string;
  shape: string;
  recordedAt: string;
  /** The caller's username when it was authenticated (never its password or token); replay logs in as it. */
  user?: string;
  sequence?: FixtureSequence;
  request: { method: string; path: string; query: Record<string, string | string[]>; headers: Record<string, string>; body: FixtureBody };
  /** The recorded answer; null for a request-only fixture (written by hand or saved by fuzz) until `replay --update new` records it. */
  response: { status: number; headers: Record<string, string>; body: FixtureBody } | null;
}

/** The fixture's key: `<route-id>/<shape-hash>`, also its file name without `.json`. */
export const fixtureKey = (fixture: Pick<Fixture, 'routeId' | 'shape'>) => `${fixture.routeId}/${fixture.shape}`;

function shapeOfJson(value: JsonValue): unknown {
  if (value === null) return 'null';
  if (value instanceof JsonNumber) return 'number';
  if (Array.isArray(value)) {
    // Items by their distinct shapes, sorted: [1,2,3] and [4] are the same shape.
    const shapes = [...new Set(value.map((item) => JSON.stringify(shapeOfJson(item))))].sort();
    return { array: shapes };
  }
  if (typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, shapeOfJson(value[key]!)]));
  }
  return typeof value;
}

function valueKind(text: string): string {
  if (/^-?\d+(\.\d+)?$/.test(text)) return 'number';
  if (text === 'true' || text === 'false') return 'boolean';
  return text === '' ? 'empty' : 'string';
}

/** The query of a path as name → value (repeated names → list). */
export function queryOf(path: string): Record<string, string | string[]> {
  const at = path.indexOf('?');
  const out: Record<string, string | string[]> = {};
  if (at === -1) return out;
  for (const [name, value] of new URLSearchParams(path.slice(at + 1))) {
    const seen = out[name];
    out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

/**
 * The request shape's hash: method, route id, how the caller authenticates, query names with
 * their value kinds, and the JSON body's keys and types (form field names, or the content type
 * of another body). 12 hex digits of sha256.
 */
export function requestShape(method: string, routeId: string, path: string, body: Buffer, headersOrContentType: Record<string, string> | string | undefined): string {
  // A bare content type (callers without headers, e.g. fuzz counterexamples) means an anonymous request.
  const headers = typeof headersOrContentType === 'object' ? headersOrContentType : headersOrContentType === undefined ? {} : { 'content-type': headersOrContentType };
  const contentType = headers['content-type'];
  // How the caller authenticates is part of the shape: a Bearer call, a session call and an anonymous one answer differently.
  const auth = /^bearer\s/i.test(headers.authorization ?? '') ? 'bearer' : /(^|;\s*)session=/.test(headers.cookie ?? '') ? 'session' : 'anonymous';
  const query = Object.entries(queryOf(path))
    .map(([name, value]) => [name, (Array.isArray(value) ? value : [value]).map(valueKind).join('|')])
    .sort(([a], [b]) => (a! < b! ? -1 : 1));
  let bodyShape: unknown = body.length === 0 ? 'none' : `bytes ${contentType ?? ''}`;
  if (body.length > 0) {
    const json = tryParseJson(body);
    if (json !== undefined) bodyShape = shapeOfJson(json);
    else if (contentType?.startsWith('application/x-www-form-urlencoded')) {
      bodyShape = { form: [...new URLSearchParams(body.toString('utf8')).keys()].sort() };
    }
  }
  const text = JSON.stringify([method.toUpperCase(), routeId, auth, query, bodyShape]);
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

export function tryParseJson(body: Buffer): JsonValue | undefined {
  if (body.length === 0) return undefined;
  try {
    return parseJsonText(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

const textTypes = /^(text\/|application\/(xml|x-www-form-urlencoded|javascript))/;

/** A body for a fixture: JSON when it parses, text for text types, base64 otherwise. */
export function fixtureBody(body: Buffer, contentType: string | undefined): FixtureBody {
  if (body.length === 0) return null;
  const json = tryParseJson(body);
  if (json !== undefined) return { json };
  if (contentType && textTypes.test(contentType) && !body.toString('utf8').includes('\uFFFD')) return { text: body.toString('utf8') };
  return { base64: body.toString('base64'), contentType: contentType ?? 'application/octet-stream', bytes: body.length };
}

/** The bytes a fixture body stands for (JSON re-rendered compactly with numbers as written). */
export function bodyBytes(body: FixtureBody): Buffer {
  if (body === null) return Buffer.alloc(0);
  if ('json' in body) return Buffer.from(renderJson(body.json, ''), 'utf8');
  if ('text' in body) return Buffer.from(body.text, 'utf8');
  return Buffer.from(body.base64, 'base64');
}

/** JSON text keeping each JsonNumber's text; `indent` '' renders compactly. */
export function renderJson(value: unknown, indent: string, depth = 0): string {
  if (value instanceof JsonNumber) return value.text;
  if (value === null || value === undefined) return 'null';
  const pad = indent ? `\n${indent.repeat(depth + 1)}` : '';
  const close = indent ? `\n${indent.repeat(depth)}` : '';
  const colon = indent ? ': ' : ':';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[${value.map((item) => `${pad}${renderJson(item, indent, depth + 1)}`).join(',')}${close}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    if (entries.length === 0) return '{}';
    return `{${entries.map(([key, item]) => `${pad}${JSON.stringify(key)}${colon}${renderJson(item, indent, depth + 1)}`).join(',')}${close}}`;
  }
  return JSON.stringify(value);
}

/** The fixture file's path under `dir`. */
export const fixtureFile = (dir: string, fixture: Pick<Fixture, 'routeId' | 'shape'>) => join(dir, fixture.routeId, `${fixture.shape}.json`);

/** Writes a fixture as pretty JSON (atomically: a half-written golden must never exist). */
export function writeFixture(dir: string, fixture: Fixture): string {
  const file = fixtureFile(dir, fixture);
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, `${renderJson(fixture, '  ')}\n`);
  renameSync(temporary, file);
  return file;
}

export function fixtureExists(dir: string, fixture: Pick<Fixture, 'routeId' | 'shape'>): boolean {
  return existsSync(fixtureFile(dir, fixture));
}

/** Reads one fixture file; a malformed one throws CUTOVER_ERR_FIXTURE_INVALID naming it. */
export function readFixture(file: string): Fixture {
  let parsed: JsonValue;
  try {
    parsed = parseJsonText(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CutoverError('CUTOVER_ERR_FIXTURE_INVALID', `fixture ${file} is not valid JSON: ${(error as Error).message}`);
  }
  const fixture = parsed as unknown as Record<string, unknown>;
  // Numbers outside bodies are plain numbers; inside bodies they keep their text.
  const number = (value: unknown) => (value instanceof JsonNumber ? Number(value.text) : value);
  const request = fixture.request as Fixture['request'] | undefined;
  const response = fixture.response as Fixture['response'] | undefined;
  if (number(fixture.fixture) !== fixtureFormat || typeof fixture.routeId !== 'string' || typeof fixture.shape !== 'string' || !request || response === undefined) {
    throw new CutoverError('CUTOVER_ERR_FIXTURE_INVALID', `fixture ${file} is not a format-${fixtureFormat} fixture (fixture, routeId, shape, request, response)`);
  }
  const unwrapBytes = (body: FixtureBody) => (body && 'base64' in body ? { ...body, bytes: Number(number(body.bytes)) } : body);
  return {
    ...(fixture as unknown as Fixture),
    fixture: fixtureFormat,
    request: { ...request, body: unwrapBytes(request.body) },
    response: response && { ...response, status: Number(number(response.status)), body: unwrapBytes(response.body) },
  };
}

/** Every fixture file under `dir`, sorted by path (route id, then shape). */
export function listFixtureFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const route of readdirSync(dir, { withFileTypes: true })) {
    if (!route.isDirectory()) continue;
    for (const file of readdirSync(join(dir, route.name))) {
      if (file.endsWith('.json')) out.push(join(dir, route.name, file));
    }
  }
  return out.sort();
}

/** Reads every fixture under `dir`, keyed by `<route-id>/<shape>`. */
export function loadFixtures(dir: string): Map<string, { file: string; fixture: Fixture }> {
  const out = new Map<string, { file: string; fixture: Fixture }>();
  for (const file of listFixtureFiles(dir)) {
    out.set(relative(dir, file).replace(/\.json$/, ''), { file, fixture: readFixture(file) });
  }
  return out;
}

/** A filter of route ids by `--route` globs (`*` = any run of characters, as `cutover flags`); none = every route. */
export function routeGlobMatcher(patterns: readonly string[]): (routeId: string) => boolean {
  if (patterns.length === 0) return () => true;
  return (routeId) => patterns.some((pattern) => routesMatching([{ id: routeId } as Route], pattern).length > 0);
}
