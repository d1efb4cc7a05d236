/**
 * Secrets never reach a fixture: before anything is written, credentials are replaced by
 * markers — the Authorization header (its scheme kept), Cookie and Set-Cookie values,
 * password / secret / token fields anywhere in a JSON, form or query body, any JWT-looking
 * string wherever it sits, and the configured PII fields (config fixtures.piiFields: plain
 * field names, matched at any depth, or JSON paths like `$.user.full_name`).
 */
import { inflateSync } from 'node:zlib';
import { parsePathPattern, type PathPattern, type PathStep } from '../compare/json-path.js';
import { JsonNumber, type JsonValue } from '../../proxy/json-text.js';

export const redacted = '[REDACTED]';

/** A JWT (and a Flask session cookie, which is built the same way): base64url JSON header, payload, signature. */
export const jwtPattern = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const bearerPattern = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

/** Field names whose value is a credential, whatever object they sit in. */
const secretField = /^(password|passwd|pass|pwd|secret|client_secret|.*_secret|secret_key|token|access_token|refresh_token|id_token|api_key|apikey|.*_api_key|authorization|session|cookie)$/i;

export interface Redactor {
  headers(headers: Record<string, string>): Record<string, string>;
  json(value: JsonValue): JsonValue;
  /** A text body (form, HTML, Prometheus): form fields by name when it is a form, JWTs and Bearer values always. */
  text(text: string, contentType: string | undefined): string;
  /** A path with its query: secret query parameters and JWTs redacted. */
  path(path: string): string;
}

function redactString(value: string): string {
  return value.replace(jwtPattern, redacted).replace(bearerPattern, (_match, scheme: string) => `${scheme} ${redacted}`);
}

function redactCookieList(value: string): string {
  return value
    .split(/;\s*/)
    .map((pair) => {
      const at = pair.indexOf('=');
      return at === -1 ? pair : `${pair.slice(0, at)}=${redacted}`;
    })
    .join('; ');
}

/** Set-Cookie: the value goes, the attributes (Path, HttpOnly, Expires...) stay: they are part of the contract. */
function redactSetCookie(value: string): string {
  return value
    .split(/,\s*(?=[A-Za-z0-9_-]+=)/)
    .map((cookie) => {
      const [first, ...attributes] = cookie.split(';');
      const at = first!.indexOf('=');
      const name = at === -1 ? first! : first!.slice(0, at);
      return [`${name}=${redacted}`, ...attributes].join(';');
    })
    .join(', ');
}

function piiMatcher(fields: readonly string[]): { byName: Set<string>; byPath: PathPattern[] } {
  const byName = new Set<string>();
  const byPath: PathPattern[] = [];
  for (const field of fields) {
    if (field.startsWith('$')) {
      const pattern = parsePathPattern(field);
      if (pattern) byPath.push(pattern);
    } else byName.add(field.toLowerCase());
  }
  return { byName, byPath };
}

function pathMatches(pattern: PathPattern, path: readonly PathStep[]): boolean {
  if (pattern.steps.length !== path.length) return false;
  return pattern.steps.every((step, i) => {
    const at = path[i]!;
    if ('key' in step) return at === step.key;
    if ('index' in step) return at === step.index;
    if ('anyKey' in step) return typeof at === 'string';
    return typeof at === 'number';
  });
}

/** A redactor for the configured PII fields (names or JSON paths). */
export function createRedactor(piiFields: readonly string[] = []): Redactor {
  const pii = piiMatcher(piiFields);
  const isPii = (key: PathStep, path: readonly PathStep[]) =>
    (typeof key === 'string' && pii.byName.has(key.toLowerCase())) || pii.byPath.some((pattern) => pathMatches(pattern, path));

  const walk = (value: JsonValue, path: PathStep[]): JsonValue => {
    if (typeof value === 'string') return redactString(value);
    if (value === null || typeof value !== 'object' || value instanceof JsonNumber) return value;
    if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) {
      const at = [...path, key];
      if (item !== null && secretField.test(key) && typeof item !== 'object') out[key] = redacted;
      else if (item !== null && isPii(key, at)) out[key] = `${redacted}:pii`;
      else out[key] = walk(item, at);
    }
    return out;
  };

  const form = (text: string) => {
    const params = new URLSearchParams(text);
    for (const [name] of [...params]) if (secretField.test(name) || pii.byName.has(name.toLowerCase())) params.set(name, redacted);
    return params.toString();
  };

  return {
    headers(headers) {
      const out: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) {
        const lower = name.toLowerCase();
        if (lower === 'authorization' || lower === 'proxy-authorization') {
          const scheme = /^\s*(\S+)\s+/.exec(value)?.[1];
          out[lower] = scheme ? `${scheme} ${redacted}` : redacted;
        } else if (lower === 'cookie') out[lower] = redactCookieList(value);
        else if (lower === 'set-cookie') out[lower] = redactSetCookie(value);
        else out[lower] = redactString(value);
      }
      return out;
    },
    json: (value) => walk(value, []),
    text(text, contentType) {
      const body = contentType?.startsWith('application/x-www-form-urlencoded') ? form(text) : text;
      return redactString(body);
    },
    path(path) {
      const at = path.indexOf('?');
      if (at === -1) return redactString(path);
      const query = new URLSearchParams(path.slice(at + 1));
      let changed = false;
      for (const [name] of [...query]) {
        if (secretField.test(name)) {
          query.set(name, redacted);
          changed = true;
        }
      }
      return redactString(changed ? `${path.slice(0, at)}?${query.toString()}` : path);
    },
  };
}

function decodeSegment(segment: string, compressed = false): unknown {
  try {
    const bytes = Buffer.from(segment, 'base64url');
    return JSON.parse((compressed ? inflateSync(bytes) : bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Who made a request, read before redaction: the `username` claim of a Bearer JWT, or the
 * `username` of a Flask session cookie (uncompressed ones). Never the token itself.
 */
export function callerOf(headers: Record<string, string>): string | undefined {
  const bearer = /^Bearer\s+(\S+)/i.exec(headers.authorization ?? '')?.[1];
  const fromJwt = bearer?.split('.')[1];
  const claims = fromJwt ? (decodeSegment(fromJwt) as { username?: unknown } | undefined) : undefined;
  if (typeof claims?.username === 'string') return claims.username;
  // itsdangerous: `payload.timestamp.signature`, the payload zlib-compressed when it starts with a dot.
  const session = /(?:^|;\s*)session=(\.?)([^;.]+)/.exec(headers.cookie ?? '');
  const data = session ? (decodeSegment(session[2]!, session[1] === '.') as { username?: unknown } | undefined) : undefined;
  return typeof data?.username === 'string' ? data.username : undefined;
}
