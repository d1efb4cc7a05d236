/**
 * werkzeug 2.2's `generate_password_hash(password, "pbkdf2:sha256")`, the hashes legacy's RBAC
 * files hold (legacy/terrafusion_gateway/README.md, "Password hash format"):
 * `pbkdf2:sha256:260000$<16 chars of [A-Za-z0-9]>$<hex of PBKDF2-HMAC-SHA256(password, salt text)>`.
 */
import { pbkdf2, randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);
const SALT_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ITERATIONS = 260_000;

function randomText(length: number, alphabet: string): string {
  let text = '';
  for (let i = 0; i < length; i += 1) text += alphabet[randomInt(alphabet.length)];
  return text;
}

/** A hash legacy's `check_password_hash` and the reimplementation's `checkPasswordHash` accept. */
export async function generatePasswordHash(password: string): Promise<string> {
  const salt = randomText(16, SALT_CHARS);
  const hash = await pbkdf2Async(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), ITERATIONS, 32, 'sha256');
  return `pbkdf2:sha256:${ITERATIONS}$${salt}$${hash.toString('hex')}`;
}

/** A password to print once: 20 characters, no look-alikes (0/O, 1/l/I), ~115 bits. */
export function generatePassword(): string {
  return randomText(20, 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789');
}
