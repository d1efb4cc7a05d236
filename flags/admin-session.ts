/**
 * The web console's session: signing in with an admin token gives a cookie that says who
 * (the token's name), until when, and a random nonce, signed with HMAC-SHA256. The cookie never
 * holds the token: its key is derived from the session secret (auth.sessionSecretKey) and the
 * actor's token, so every proxy instance with the same config accepts it, forging one needs
 * the token, and rotating a token ends that actor's sessions. The CSRF token is an HMAC of the
 * session's nonce under the same key: bound to the session, kept nowhere (decision 0023).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const sessionCookieName = 'cutover_console';
/** The header a cookie-authenticated change carries its CSRF token in. */
export const csrfHeader = 'x-cutover-csrf';

export interface AdminSession {
  actor: string;
  /** Epoch milliseconds after which the cookie is refused. */
  expiresAt: number;
  nonce: string;
}

export interface SessionKeys {
  /** A new session for `actor` (one of the named tokens), valid for the configured time. */
  open(actor: string, now?: number): { session: AdminSession; cookieValue: string };
  /** The session a cookie value stands for, or undefined when it is malformed, forged, for an unknown actor or expired. */
  verify(cookieValue: string, now?: number): AdminSession | undefined;
  csrfFor(session: AdminSession): string;
  csrfMatches(session: AdminSession, presented: string): boolean;
}

const base64url = (buffer: Buffer) => buffer.toString('base64url');
// Hashing both sides first gives equal-length buffers, so the comparison time says nothing.
const same = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/** Keys for the named tokens; `ttlMs` is proxy.consoleSessionTtlMs. */
export function createSessionKeys(sessionSecret: string, tokens: Readonly<Record<string, string>>, ttlMs: number): SessionKeys {
  const keys = new Map(
    Object.entries(tokens).map(([actor, token]) => [actor, createHmac('sha256', sessionSecret).update(`cutover-console-session\0${actor}\0${token}`).digest()]),
  );
  const mac = (key: Buffer, text: string) => base64url(createHmac('sha256', key).update(text).digest());
  const payloadOf = (session: AdminSession) => `v1.${base64url(Buffer.from(session.actor, 'utf8'))}.${session.expiresAt.toString(36)}.${session.nonce}`;
  const keyOf = (actor: string) => keys.get(actor);
  return {
    open(actor, now = Date.now()) {
      const key = keyOf(actor);
      if (!key) throw new RangeError(`no admin token named '${actor}'`);
      const session = { actor, expiresAt: now + ttlMs, nonce: base64url(randomBytes(18)) };
      const payload = payloadOf(session);
      return { session, cookieValue: `${payload}.${mac(key, payload)}` };
    },
    verify(cookieValue, now = Date.now()) {
      const parts = cookieValue.split('.');
      if (parts.length !== 5 || parts[0] !== 'v1') return undefined;
      const [, actorPart, expiresPart, nonce, signature] = parts as [string, string, string, string, string];
      const actor = Buffer.from(actorPart, 'base64url').toString('utf8');
      const key = keyOf(actor);
      const expiresAt = parseInt(expiresPart, 36);
      if (!key || !Number.isFinite(expiresAt) || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) return undefined;
      const session = { actor, expiresAt, nonce };
      if (!same(mac(key, payloadOf(session)), signature)) return undefined;
      return expiresAt > now ? session : undefined;
    },
    csrfFor(session) {
      return mac(keyOf(session.actor)!, `csrf\0${session.nonce}`);
    },
    csrfMatches(session, presented) {
      const key = keyOf(session.actor);
      return key !== undefined && presented !== '' && same(mac(key, `csrf\0${session.nonce}`), presented);
    },
  };
}

/** The cookie's value in a Cookie header, or undefined. */
export function sessionCookieOf(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at !== -1 && part.slice(0, at).trim() === sessionCookieName) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a session: httpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Secure behind https. */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${sessionCookieName}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`, ...(secure ? ['Secure'] : [])].join('; ');
}

/**
 * Whether a browser request comes from a page of this server: its Origin names the host the
 * request was sent to (Host), over http or https (a TLS-terminating balancer in front). A
 * missing Origin is refused: browsers send one with every cross-site or state-changing fetch.
 */
export function originIsSelf(origin: string | undefined, host: string | undefined): boolean {
  if (!origin || !host) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase();
  } catch {
    return false;
  }
}
