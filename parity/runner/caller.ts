/** Who made a recorded request, for a fixture (replay logs in as that user): read from the credentials before they are redacted. */
import { inflateSync } from 'node:zlib';

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
