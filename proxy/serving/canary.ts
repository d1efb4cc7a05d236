/**
 * The canary's sticky choice: which side serves a request, from a key that stays the same
 * for one user across requests (JWT subject, session user, county_id, a header, the client
 * address — in that order of preference).
 */
import { inflateSync } from 'node:zlib';

/** Where a sticky key came from; exposed so tests and logs can tell which rule applied. */
export type StickyKeySource = 'jwt-sub' | 'session-user' | 'county-id' | 'header' | 'client-address';

export interface StickyKey {
  source: StickyKeySource;
  value: string;
}

export interface StickyRequest {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Path with query string, as received. */
  url: string;
  remoteAddress: string | undefined;
  /** The buffered request body, when there is one. */
  body: Buffer | undefined;
}

/** Bucket 0..9999 of a key: FNV-1a (32 bit). The same key always lands in the same bucket, on every proxy instance. */
export function canaryBucket(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // One more avalanche step so that keys differing only in the last character spread evenly.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return (hash >>> 0) % 10_000;
}

/**
 * True when this key is inside the canary share. Not salted per route on purpose: a user in
 * the 5% share is in it on every route at ≥5%, so a job created on one side is read back
 * from the same side.
 */
export function inCanary(key: string, percent: number): boolean {
  return canaryBucket(key) < Math.round(percent * 100);
}

function decodeSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The `sub` of a bearer JWT, decoded without verifying: the upstream verifies, the proxy only needs stickiness. */
function jwtSubject(authorization: string | string[] | undefined): string | undefined {
  if (typeof authorization !== 'string' || !authorization.startsWith('Bearer ')) return undefined;
  const payload = authorization.slice(7).split('.')[1];
  const claims = payload ? decodeSegment(payload) : undefined;
  const sub = (claims as { sub?: unknown } | undefined)?.sub;
  return typeof sub === 'string' || typeof sub === 'number' ? String(sub) : undefined;
}

/** The user of a Flask session cookie (`session=<payload>.<time>.<sig>`, payload optionally zlib'd behind a leading dot). */
function sessionUser(cookie: string | string[] | undefined): string | undefined {
  if (typeof cookie !== 'string') return undefined;
  const match = /(?:^|;\s*)session=([^;]+)/.exec(cookie);
  if (!match) return undefined;
  let token = match[1]!;
  const compressed = token.startsWith('.');
  if (compressed) token = token.slice(1);
  const payload = token.split('.')[0];
  if (!payload) return undefined;
  let data: unknown;
  try {
    const bytes = Buffer.from(payload, 'base64url');
    data = JSON.parse((compressed ? inflateSync(bytes) : bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  for (const field of ['username', 'user', 'user_id', '_user_id', 'sub']) {
    const value = (data as Record<string, unknown>)[field];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
  }
  return undefined;
}

function countyId(url: string, body: Buffer | undefined): string | undefined {
  const query = url.indexOf('?');
  if (query !== -1) {
    const fromQuery = new URLSearchParams(url.slice(query + 1)).get('county_id');
    if (fromQuery) return fromQuery;
  }
  if (body && body.length > 0 && body[0] === 0x7b /* { */) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { county_id?: unknown };
      if (typeof parsed.county_id === 'string' && parsed.county_id) return parsed.county_id;
    } catch {
      // Not JSON: fall through to the next source.
    }
  }
  return undefined;
}

/** The request's sticky key, by the first source that has one. */
export function stickyKey(request: StickyRequest, keyHeader: string): StickyKey {
  const sub = jwtSubject(request.headers.authorization);
  if (sub !== undefined) return { source: 'jwt-sub', value: sub };
  const user = sessionUser(request.headers.cookie);
  if (user !== undefined) return { source: 'session-user', value: user };
  const county = countyId(request.url, request.body);
  if (county !== undefined) return { source: 'county-id', value: county };
  const header = request.headers[keyHeader];
  if (typeof header === 'string' && header) return { source: 'header', value: header };
  return { source: 'client-address', value: request.remoteAddress ?? 'unknown' };
}
