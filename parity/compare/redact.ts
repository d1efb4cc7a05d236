/**
 * The one Redactor: secrets and PII never reach a fixture, a stored observation or a report.
 * Credentials are replaced by markers — the Authorization header (its scheme kept), Cookie
 * and Set-Cookie values, password / secret / token fields anywhere in a JSON, form or query
 * body, any JWT-looking string wherever it sits — and so are the configured PII fields
 * (config redaction.piiFields: plain field names, matched at any depth, or JSON paths like
 * `$.user.full_name`).
 *
 * Fixtures get plain markers (`[REDACTED]`), which replay recognises. Observations and
 * reports are redacted after the comparison, so a redacted difference stays a mismatch; their
 * redactor is given a fingerprint key, and each marker in a difference then carries a keyed
 * hash of what it replaced (`[REDACTED]:pii#3f9a1c0e`): two values that differed still read as
 * different, without the value being recoverable (the key is random per process and never
 * stored). Whole stored bodies (`document`) get plain markers: a body has thousands of fields,
 * and its differences already say which of them differed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { parsePathPattern, type PathPattern, type PathStep } from './json-path.js';
import { JsonNumber, parseJsonText, type JsonValue } from './json-text.js';
import { renderFull } from './values.js';

export const redacted = '[REDACTED]';

/** A JWT (and a Flask session cookie, which is built the same way): base64url JSON header, payload, signature. */
export const jwtPattern = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
/** What is left of a JWT where a text was cut: header and the start of the payload. */
const cutJwtPattern = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*$/;
const bearerPattern = /\b(Bearer|Basic)\s+([A-Za-z0-9._~+/=-]+)/gi;
/** A marker this redactor (or an earlier one) wrote: left as it is, so redacting twice changes nothing. */
const markerPattern = /^\[REDACTED\](?::pii)?(?:#[0-9a-f]{8})?$/;

/** Field names whose value is a credential, whatever object they sit in (no quote inside, so it also serves in JSON text). */
const secretNames = 'password|passwd|pass|pwd|secret|client_secret|[^"]*_secret|secret_key|token|access_token|refresh_token|id_token|api_key|apikey|[^"]*_api_key|authorization|session|cookie';
const secretField = new RegExp(`^(?:${secretNames})$`, 'i');

export interface RedactorOptions {
  /** Key of the markers' fingerprints; without it markers are plain (fixtures, which replay reads back). */
  fingerprintKey?: Uint8Array;
}

export interface Redactor {
  headers(headers: Record<string, string>): Record<string, string>;
  /** A JSON value; `at` is where it sits in its document (a difference's path), so a PII or secret field above it counts. */
  json(value: JsonValue, at?: readonly PathStep[]): JsonValue;
  /** A text body (form, HTML, Prometheus): form fields by name when it is a form, JWTs and Bearer values always. */
  text(text: string, contentType: string | undefined): string;
  /**
   * JSON text that may not parse (a body or a value cut at a bound): parsed and redacted when it
   * parses; otherwise `"field": value` pairs of secret and PII fields, JWTs and Bearer values.
   */
  jsonText(text: string, at?: readonly PathStep[]): string;
  /**
   * A whole stored body (JSON, maybe cut, or text), as jsonText but with plain markers: the
   * observation's differences carry the fingerprints, and a body has thousands of fields.
   */
  document(text: string): string;
  /** A path with its query: secret and PII query parameters and JWTs redacted. */
  path(path: string): string;
  /** Whether a field of this name, at this path, is redacted whole. */
  hides(path: readonly PathStep[]): boolean;
}

function redactCookieList(value: string, mark: (original: string) => string): string {
  return value
    .split(/;\s*/)
    .map((pair) => {
      const at = pair.indexOf('=');
      return at === -1 ? pair : `${pair.slice(0, at)}=${mark(pair.slice(at + 1))}`;
    })
    .join('; ');
}

/** Set-Cookie: the value goes, the attributes (Path, HttpOnly, Expires...) stay: they are part of the contract. */
function redactSetCookie(value: string, mark: (original: string) => string): string {
  return value
    .split(/,\s*(?=[A-Za-z0-9_-]+=)/)
    .map((cookie) => {
      const [first, ...attributes] = cookie.split(';');
      const at = first!.indexOf('=');
      const name = at === -1 ? first! : first!.slice(0, at);
      return [`${name}=${mark(at === -1 ? '' : first!.slice(at + 1))}`, ...attributes].join(';');
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

/** A field whose value is an object or an array: a PII field there is hidden whole, which needs the parsed document. */
const fieldOpening = /"([^"\\]{1,100})"\s*:\s*[{[]/g;
/** A `"name": value` pair in JSON text: a string value (maybe cut, without its closing quote) or a scalar. */
const fieldPair = /"([^"\\]{1,100})"(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s"{[]+)/g;

/** A redactor for the configured PII fields (names or JSON paths). */
export function createRedactor(piiFields: readonly string[] = [], options: RedactorOptions = {}): Redactor {
  const pii = piiMatcher(piiFields);
  // SHA-256 over the secret key then the value; the keyed state is copied per value, which costs a fraction of a new HMAC.
  const keyed = options.fingerprintKey ? createHash('sha256').update(options.fingerprintKey) : undefined;
  const fingerprint = (original: string) => (keyed ? `#${keyed.copy().update(original).digest('hex').slice(0, 8)}` : '');
  const isPiiName = (name: string) => pii.byName.has(name.toLowerCase());
  // Bodies repeat the same few field names thousands of times: each name is judged once.
  const judged = new Map<string, 'secret' | 'pii' | undefined>();
  const hiddenAs = (name: string) => {
    if (judged.has(name)) return judged.get(name);
    const kind = secretField.test(name) ? ('secret' as const) : isPiiName(name) ? ('pii' as const) : undefined;
    if (judged.size < 10_000) judged.set(name, kind);
    return kind;
  };
  const isPii = (path: readonly PathStep[]) => {
    const last = path[path.length - 1];
    return (typeof last === 'string' && isPiiName(last)) || pii.byPath.some((pattern) => pathMatches(pattern, path));
  };
  const isSecret = (path: readonly PathStep[]) => {
    const last = path[path.length - 1];
    return typeof last === 'string' && secretField.test(last);
  };
  const holdsHiddenObject = (text: string) => {
    for (const match of text.matchAll(fieldOpening)) if (hiddenAs(match[1]!) === 'pii') return true;
    return false;
  };

  /** Everything that writes markers, with or without fingerprints. */
  const marking = (print: (original: string) => string) => {
    const secretMarker = (original: string) => (markerPattern.test(original) ? original : `${redacted}${print(original)}`);
    const piiMarker = (original: string) => (markerPattern.test(original) ? original : `${redacted}:pii${print(original)}`);
    const redactString = (value: string): string =>
      value.replace(jwtPattern, (token) => secretMarker(token)).replace(bearerPattern, (_match, scheme: string, credential: string) => `${scheme} ${secretMarker(credential)}`);

    /** The marker for a whole value at `path`, or undefined when the value is walked into. */
    const wholeMarker = (path: readonly PathStep[], value: JsonValue): string | undefined => {
      if (value === null || path.length === 0) return undefined;
      const original = () => (typeof value === 'string' ? value : renderFull(value));
      if (isSecret(path) && (typeof value !== 'object' || value instanceof JsonNumber)) return secretMarker(original());
      if (isPii(path)) return piiMarker(original());
      return undefined;
    };

    const walk = (value: JsonValue, path: PathStep[]): JsonValue => {
      const whole = wholeMarker(path, value);
      if (whole !== undefined) return whole;
      if (typeof value === 'string') return redactString(value);
      if (value === null || typeof value !== 'object' || value instanceof JsonNumber) return value;
      if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
      const out: Record<string, JsonValue> = {};
      for (const [name, item] of Object.entries(value)) out[name] = walk(item, [...path, name]);
      return out;
    };

    // For text that is not walked: `"name": "value"` or `"name": 123` pairs, kept unless the name is a secret or PII field.
    const byFields = (text: string) =>
      redactString(
        text.replace(fieldPair, (match, name: string, colon: string, value: string) => {
          const kind = value === 'null' ? undefined : hiddenAs(name);
          if (kind === undefined) return match;
          const original = value.startsWith('"') ? value.replace(/^"|"$/g, '') : value;
          return `"${name}"${colon}${JSON.stringify(kind === 'pii' ? piiMarker(original) : secretMarker(original))}`;
        }),
      ).replace(cutJwtPattern, (token) => secretMarker(token));

    const jsonText = (text: string, at: readonly PathStep[] = []) => {
      // A whole document whose hidden fields all hold scalars is redacted pair by pair, in one pass over
      // the text (its layout kept): parsing it would cost more than its comparison did. Otherwise it is walked.
      if (at.length === 0 && pii.byPath.length === 0 && !holdsHiddenObject(text)) return byFields(text);
      try {
        return renderFull(walk(parseJsonText(text), [...at]));
      } catch {
        if (at.length > 0 && (isPii(at) || isSecret(at))) return JSON.stringify(isPii(at) ? piiMarker(text) : secretMarker(text));
        return byFields(text);
      }
    };
    return { secretMarker, piiMarker, redactString, walk, jsonText };
  };
  const marks = marking(fingerprint);
  const plain = keyed ? marking(() => '') : marks;
  const { secretMarker, piiMarker, redactString } = marks;

  const form = (text: string) => {
    const params = new URLSearchParams(text);
    for (const [name, value] of [...params]) {
      const kind = hiddenAs(name);
      if (kind) params.set(name, kind === 'pii' ? piiMarker(value) : secretMarker(value));
    }
    return params.toString();
  };

  return {
    headers(headers) {
      const out: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) {
        const lower = name.toLowerCase();
        if (lower === 'authorization' || lower === 'proxy-authorization') {
          const scheme = /^\s*(\S+)\s+(.*)$/.exec(value);
          out[lower] = scheme ? `${scheme[1]} ${secretMarker(scheme[2]!)}` : secretMarker(value);
        } else if (lower === 'cookie') out[lower] = redactCookieList(value, secretMarker);
        else if (lower === 'set-cookie') out[lower] = redactSetCookie(value, secretMarker);
        else out[lower] = redactString(value);
      }
      return out;
    },
    json: (value, at = []) => marks.walk(value, [...at]),
    text(text, contentType) {
      const body = contentType?.startsWith('application/x-www-form-urlencoded') ? form(text) : text;
      return redactString(body);
    },
    jsonText: marks.jsonText,
    document: (text) => plain.jsonText(text),
    path(path) {
      const at = path.indexOf('?');
      if (at === -1) return redactString(path);
      const query = new URLSearchParams(path.slice(at + 1));
      let changed = false;
      for (const [name, value] of [...query]) {
        const kind = hiddenAs(name);
        if (kind) {
          query.set(name, kind === 'pii' ? piiMarker(value) : secretMarker(value));
          changed = true;
        }
      }
      return redactString(changed ? `${path.slice(0, at)}?${query.toString()}` : path);
    },
    hides: (path) => isPii(path) || isSecret(path),
  };
}

/** The redactor of what is stored (observations, unknown traffic, reports): fingerprinted markers, with a key of this process. */
export function createStorageRedactor(piiFields: readonly string[]): Redactor {
  return createRedactor(piiFields, { fingerprintKey: randomBytes(32) });
}
