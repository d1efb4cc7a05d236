/**
 * JWTs of the gateway, byte-compatible with legacy/terrafusion_gateway/tokens.py (PyJWT 2.6):
 * HS256 with JWT_SECRET_KEY; header `{"alg":"HS256","typ":"JWT"}`; claims sub, username, role,
 * county_ids, type, iat, exp in that order, compact JSON. jose checks the signature (HS256
 * only); the claim checks are PyJWT's, in its order and without leeway, because jose's own
 * (clock tolerance, typed claims) would refuse or accept other tokens than legacy does.
 */
import { CompactSign, compactVerify } from 'jose';
import { stringLiteral } from '../shared/py-json.js';

export const ACCESS_TOKEN_SECONDS = 3600;
export const REFRESH_TOKEN_SECONDS = 30 * 24 * 3600;

export type TokenType = 'access' | 'refresh';

export interface TokenUser {
  id: number | string;
  username: string;
  role: string;
  county_ids: string[];
}

export interface Claims {
  sub: string;
  username?: string;
  role?: string;
  county_ids?: string[];
  type: string;
  iat: number;
  exp: number;
  [claim: string]: unknown;
}

/** Why a token was refused, already in the shape of the 401 body. */
export class TokenRejected extends Error {
  constructor(readonly error: string, message: string) {
    super(message);
  }
}

const invalid = () => new TokenRejected('Invalid token', 'The token is invalid.');
const keyOf = (secret: string) => new TextEncoder().encode(secret);

/** A signed token of `type` for the user, valid from now. */
export async function mintToken(user: TokenUser, type: TokenType, secret: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
  const lifetime = type === 'access' ? ACCESS_TOKEN_SECONDS : REFRESH_TOKEN_SECONDS;
  const a = (text: string) => stringLiteral(text, true);
  // PyJWT's json.dumps(payload, separators=(",", ":")): insertion order, ASCII-escaped.
  const payload =
    `{"sub":${a(String(user.id))},"username":${a(user.username)},"role":${a(user.role)},` +
    `"county_ids":[${user.county_ids.map(a).join(',')}],"type":${a(type)},"iat":${nowSeconds},"exp":${nowSeconds + lifetime}}`;
  return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(keyOf(secret));
}

/** Python's int() of a JSON claim value, or undefined when int() would raise ValueError. */
function pyInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

/** The claims of a valid token of `expected`; throws TokenRejected otherwise (legacy's bodies and order). */
export async function verifyToken(token: string, secret: string, expected: TokenType, nowMs = Date.now()): Promise<Claims> {
  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(token, keyOf(secret), { algorithms: ['HS256'] }));
  } catch {
    throw invalid();
  }
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes));
  } catch {
    throw invalid();
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw invalid();
  for (const required of ['sub', 'type', 'iat', 'exp']) if (claims[required] === undefined || claims[required] === null) throw invalid();
  const now = Math.floor(nowMs / 1000);
  const iat = pyInt(claims.iat);
  if (iat === undefined || iat > now) throw invalid();
  if ('nbf' in claims) {
    const nbf = pyInt(claims.nbf);
    if (nbf === undefined || nbf > now) throw invalid();
  }
  const exp = pyInt(claims.exp);
  if (exp === undefined) throw invalid();
  if (exp <= now) throw new TokenRejected('Token expired', 'The token has expired. Please log in again.');
  // No audience is expected, so PyJWT refuses any `aud`.
  if ('aud' in claims) throw invalid();
  if (claims.type !== expected) {
    if (expected === 'access') throw new TokenRejected('Invalid token type', 'An access token is required; refresh tokens are only accepted by /auth/refresh.');
    throw new TokenRejected('Invalid token type', 'A refresh token is required.');
  }
  return claims as Claims;
}
