/**
 * Flask 2.2's signed session cookie (SecureCookieSessionInterface over itsdangerous 2.1), so a
 * cookie set by either gateway is honoured by the other. Format: `payload.timestamp.signature`,
 * all base64url without padding; payload = Flask's tagged JSON (sorted keys, compact, ASCII),
 * zlib-compressed with a leading `.` when that is shorter; signature = HMAC-SHA1 under the key
 * HMAC-SHA1(SECRET_KEY, "cookie-session"); max age 31 days (PERMANENT_SESSION_LIFETIME).
 * Reproduces what legacy/terrafusion_gateway gets from `flask.session`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { flaskJson } from './flask-json.js';
import type { PyValue } from '../shared/py-json.js';

const SALT = 'cookie-session';
const MAX_AGE_SECONDS = 31 * 24 * 3600;

/** A session's values; a flash list holds Python tuples, written as arrays here. */
export type SessionData = Record<string, PyValue>;

const b64 = (data: Buffer) => data.toString('base64url');

function signingKey(secretKey: string): Buffer {
  return createHmac('sha1', secretKey).update(SALT).digest();
}

/** Flask's TaggedJSONSerializer for the values a gateway session holds (strings and tuples). */
function tag(value: PyValue): PyValue {
  if (Array.isArray(value)) return value.map(tag);
  if (value !== null && typeof value === 'object' && value.constructor === Object) {
    const record = value as Record<string, PyValue>;
    // Arrays directly under `_flashes` are (category, message) tuples in Flask.
    return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, key === '_flashes' && Array.isArray(item) ? item.map((t) => ({ ' t': tag(t) })) : tag(item)]));
  }
  return value;
}

function untag(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untag);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && entries[0]![0] === ' t') return untag(entries[0]![1]);
    return Object.fromEntries(entries.map(([key, item]) => [key, untag(item)]));
  }
  return value;
}

/** The cookie value for `data`, signed now. */
export function dumpSession(data: SessionData, secretKey: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  let json = Buffer.from(flaskJson(tag(data)).trimEnd(), 'utf8');
  let prefix = '';
  const compressed = deflateSync(json);
  if (compressed.length < json.length - 1) {
    json = compressed;
    prefix = '.';
  }
  const timeBytes = Buffer.alloc(8);
  timeBytes.writeBigUInt64BE(BigInt(nowSeconds));
  let first = 0;
  while (first < 7 && timeBytes[first] === 0) first++;
  const value = `${prefix}${b64(json)}.${b64(timeBytes.subarray(first))}`;
  const signature = createHmac('sha1', signingKey(secretKey)).update(value).digest();
  return `${value}.${b64(signature)}`;
}

/** The session in a cookie value, or undefined when it is unsigned, forged, expired or garbled (Flask then starts an empty session). */
export function loadSession(cookie: string, secretKey: string, nowSeconds = Date.now() / 1000): SessionData | undefined {
  const lastDot = cookie.lastIndexOf('.');
  if (lastDot <= 0) return undefined;
  const value = cookie.slice(0, lastDot);
  const given = Buffer.from(cookie.slice(lastDot + 1), 'base64url');
  const expected = createHmac('sha1', signingKey(secretKey)).update(value).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const timeDot = value.lastIndexOf('.');
  if (timeDot <= 0) return undefined;
  const stampBytes = Buffer.from(value.slice(timeDot + 1), 'base64url');
  let stamp = 0;
  for (const byte of stampBytes) stamp = stamp * 256 + byte;
  if (nowSeconds - stamp > MAX_AGE_SECONDS) return undefined;
  let payload = value.slice(0, timeDot);
  try {
    let raw = Buffer.from(payload.startsWith('.') ? payload.slice(1) : payload, 'base64url');
    if (payload.startsWith('.')) raw = inflateSync(raw);
    payload = raw.toString('utf8');
    const data = untag(JSON.parse(payload));
    return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as SessionData) : undefined;
  } catch {
    return undefined;
  }
}

/** The Set-Cookie value Flask sends for a changed session; an emptied session deletes the cookie. */
export function sessionSetCookie(data: SessionData, secretKey: string): string {
  if (Object.keys(data).length === 0) return 'session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/';
  return `session=${dumpSession(data, secretKey)}; HttpOnly; Path=/`;
}
