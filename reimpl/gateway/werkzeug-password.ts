/**
 * werkzeug 2.2's `check_password_hash` for the `pbkdf2:sha256:<iterations>$<salt>$<hex>` hashes
 * of the RBAC files (legacy/terrafusion_gateway/README.md, "Password hash format"): the salt is
 * used as its ASCII text, not decoded; comparison in constant time.
 */
import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);
const FORMAT = /^pbkdf2:(sha256|sha512|sha1)(?::(\d+))?\$([^$]*)\$([0-9a-f]+)$/;

/** True when `password` matches the stored werkzeug hash; false for any other hash format. */
export async function checkPasswordHash(stored: string, password: string): Promise<boolean> {
  const match = FORMAT.exec(stored);
  if (!match) return false;
  const [, digest, iterations, salt, expectedHex] = match as unknown as [string, string, string | undefined, string, string];
  const expected = Buffer.from(expectedHex, 'hex');
  // werkzeug's default iteration count when the hash does not name one.
  const actual = await pbkdf2Async(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), Number(iterations ?? 260000), expected.length, digest);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
