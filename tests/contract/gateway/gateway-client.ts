/**
 * A small HTTP client for the gateway contract tests: JSON calls with a Bearer token or a
 * session cookie, cached logins (password checks cost ~0.1 s each), and token minting with
 * jose for the refused-token cases. Points at whatever platform the harness provides.
 */
import { SignJWT } from 'jose';
import { inject } from 'vitest';

export const platform = inject('platform');

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

export interface CallOptions {
  method?: string;
  token?: string;
  cookie?: string;
  /** Sent as JSON unless it is a string (then sent as is) or URLSearchParams (a form). */
  body?: unknown;
  headers?: Record<string, string>;
  baseUrl?: string;
}

/** One request to the gateway; never follows redirects, always reads the whole body. */
export async function call(path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie) headers.cookie = options.cookie;
  let body: string | URLSearchParams | undefined;
  if (options.body instanceof URLSearchParams || typeof options.body === 'string') body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch((options.baseUrl ?? platform.gatewayUrl) + path, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    redirect: 'manual',
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
}

const logins = new Map<string, Promise<Tokens>>();

/** Tokens of a user from POST /auth/login, fetched once per test file. */
export function tokensOf(username: string, password = defaultPassword(username)): Promise<Tokens> {
  const key = `${username}:${password}`;
  if (!logins.has(key)) {
    logins.set(
      key,
      call('/auth/login', { body: { username, password } }).then((reply) => {
        if (reply.status !== 200) throw new Error(`login of ${username} failed: ${reply.status} ${reply.text}`);
        return reply.json as Tokens;
      }),
    );
  }
  return logins.get(key)!;
}

export async function accessTokenOf(username: string): Promise<string> {
  return (await tokensOf(username)).access_token;
}

/** The passwords of the sample counties' users (legacy/terrafusion_gateway/README.md). */
export const passwords: Record<string, string> = {
  admin: 'admin123',
  assessor: 'assessor123',
  staff: 'staff123',
  auditor: 'auditor123',
  benton_assessor: 'benton123',
  franklin_staff: 'franklin123',
};

function defaultPassword(username: string): string {
  const password = passwords[username];
  if (!password) throw new Error(`no known password for ${username}`);
  return password;
}

export interface MintOptions {
  secret?: string;
  /** Seconds from now; negative for an already expired token. */
  expiresIn?: number;
  type?: 'access' | 'refresh';
  /** Seconds from now for `iat` (default: now, or before `exp` for an expired token). */
  issuedIn?: number;
  /** Claims added to or replacing the usual ones. */
  extraClaims?: Record<string, unknown>;
}

/** A token shaped like the gateway's own, signed HS256 with the shared key unless told otherwise. */
export async function mintToken(options: MintOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = options.expiresIn ?? 3600;
  return new SignJWT({
    username: 'admin',
    role: 'ITAdmin',
    county_ids: ['benton', 'franklin', 'test'],
    type: options.type ?? 'access',
    ...options.extraClaims,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('1')
    .setIssuedAt(now + (options.issuedIn ?? (expiresIn < 0 ? expiresIn - 3600 : 0)))
    .setExpirationTime(now + expiresIn)
    .sign(new TextEncoder().encode(options.secret ?? platform.jwtSecretKey));
}

/** An unsigned `alg: none` token carrying admin's claims. */
export function unsignedToken(): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { sub: '1', username: 'admin', role: 'ITAdmin', county_ids: ['benton', 'franklin', 'test'], type: 'access', iat: now, exp: now + 3600 };
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** Polls `read` until `done` holds for its result, or fails after the deadline. */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
