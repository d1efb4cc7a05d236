/**
 * Who is calling: a Bearer access token or the Flask session cookie, and the guards of the
 * routes. Reproduces legacy/terrafusion_gateway/identity.py (`login_required`,
 * `rbac_required(permission)`, county scoping) with its 401/403 bodies. A present but bad Bearer
 * token wins over a valid session.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendJsonError } from './flask-json.js';
import { loadSession, type SessionData } from './flask-session.js';
import type { RbacStore } from './rbac-store.js';
import { TokenRejected, verifyToken } from './tokens.js';

export interface Identity {
  userId: string;
  username: unknown;
  role: unknown;
  countyKeys: unknown[];
  source: 'jwt' | 'session';
}

export interface IdentityContext {
  rbac: RbacStore;
  jwtSecretKey: string;
  secretKey: string;
}

/** The request's Flask session, read lazily; `accessed` makes the answer `Vary: Cookie` as Flask's does. */
export class RequestSession {
  accessed = false;
  modified = false;
  private data: SessionData | undefined;

  constructor(private readonly cookieHeader: string | undefined, private readonly secretKey: string) {}

  get values(): SessionData {
    this.accessed = true;
    if (this.data === undefined) {
      const cookie = cookieValue(this.cookieHeader, 'session');
      this.data = (cookie && loadSession(cookie, this.secretKey)) || {};
    }
    return this.data;
  }

  replace(data: SessionData): void {
    this.data = data;
    this.accessed = true;
    this.modified = true;
  }
}

/** The first value of a cookie, as werkzeug's parser gives it. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value;
  }
  return undefined;
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization ?? '';
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  return scheme.toLowerCase() === 'bearer' && value ? value : undefined;
}

export interface Resolution {
  identity?: Identity;
  rejected?: TokenRejected;
}

export async function resolveIdentity(request: FastifyRequest, session: RequestSession, context: IdentityContext): Promise<Resolution> {
  const token = bearerToken(request);
  if (token !== undefined) {
    try {
      const claims = await verifyToken(token, context.jwtSecretKey, 'access');
      const countyKeys = Array.isArray(claims.county_ids) ? claims.county_ids : [];
      return { identity: { userId: String(claims.sub), username: claims.username, role: claims.role, countyKeys, source: 'jwt' } };
    } catch (error) {
      if (error instanceof TokenRejected) return { rejected: error };
      throw error;
    }
  }
  const userId = session.values.user_id;
  if (userId !== undefined && userId !== null) {
    const user = context.rbac.userById(userId);
    if (user) return { identity: { userId: String(user.id), username: user.username, role: user.role, countyKeys: user.county_ids, source: 'session' } };
  }
  return {};
}

type Unauthenticated = (reply: FastifyReply) => FastifyReply;

export const noCredentials: Unauthenticated = (reply) => sendJsonError(reply, 401, 'Authentication required');
export const noCredentialsRbac: Unauthenticated = (reply) => sendJsonError(reply, 401, 'Unauthorized', 'Authentication required.');

/** The caller, or undefined after the 401 has been sent. */
export async function authenticate(
  request: FastifyRequest,
  reply: FastifyReply,
  session: RequestSession,
  context: IdentityContext,
  unauthenticated: Unauthenticated,
): Promise<Identity | undefined> {
  const { identity, rejected } = await resolveIdentity(request, session, context);
  if (rejected) {
    sendJsonError(reply, 401, rejected.error, rejected.message);
    return undefined;
  }
  if (!identity) {
    unauthenticated(reply);
    return undefined;
  }
  return identity;
}

/** The caller when it holds `permission`; otherwise the 401/403 is sent and undefined returned. */
export async function requirePermission(
  request: FastifyRequest,
  reply: FastifyReply,
  session: RequestSession,
  context: IdentityContext,
  permission: string,
): Promise<Identity | undefined> {
  const identity = await authenticate(request, reply, session, context, noCredentialsRbac);
  if (!identity) return undefined;
  if (!context.rbac.permissionsOf(identity.role).has(permission)) {
    sendJsonError(reply, 403, 'Forbidden', `Missing required permission: ${permission}`);
    return undefined;
  }
  return identity;
}

/** A county the caller may not touch, or undefined; non-string counties are the upstream's to judge. */
export function forbiddenCounty(identity: Identity, rbac: RbacStore, countyId: unknown): string | undefined {
  if (typeof countyId !== 'string') return undefined;
  return rbac.countyIdsForKeys(identity.countyKeys).has(countyId) ? undefined : countyId;
}

export function sendCountyForbidden(reply: FastifyReply, countyId: string): FastifyReply {
  return sendJsonError(reply, 403, 'Forbidden', `Access denied for county: ${countyId}`);
}

/** `county_id` of a JSON object body, whatever its content type; bad JSON is left to the upstream. */
export function countyInJsonBody(raw: Buffer | undefined): unknown {
  if (!raw || raw.length === 0) return undefined;
  try {
    const body = JSON.parse(raw.toString('utf8'));
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? body.county_id : undefined;
  } catch {
    return undefined;
  }
}
