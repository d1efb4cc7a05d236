// The RBAC files the legacy gateway reads (legacy/county_configs/<key>/rbac/<key>_users.json):
// their shape, and that the documented password hash format verifies with node:crypto alone,
// as a TypeScript gateway will have to.
import { pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countyConfigsDir } from '../../../src/platform/paths.js';
import { passwords } from './gateway-client.js';

interface RbacFile {
  county: string;
  roles: Record<string, { permissions: string[]; inherits_permissions_from: string[] }>;
  users: Array<{ id: number; username: string; password_hash: string; role: string; county_ids: string[] }>;
}

const keys = readdirSync(countyConfigsDir).filter((key) => !key.startsWith('.'));
const rbacKeys = new Set(keys.map((key) => JSON.parse(readFileSync(join(countyConfigsDir, key, 'county.json'), 'utf8')).rbac_key as string));
const files = keys.map((key) => ({
  key,
  data: JSON.parse(readFileSync(join(countyConfigsDir, key, 'rbac', `${key}_users.json`), 'utf8')) as RbacFile,
}));

/** werkzeug's `pbkdf2:sha256:<iterations>$<salt>$<hex>`, the salt used as its ASCII text. */
function verifyWerkzeugHash(hash: string, password: string): boolean {
  const match = /^pbkdf2:sha256:(\d+)\$([A-Za-z0-9]+)\$([0-9a-f]{64})$/.exec(hash);
  if (!match) return false;
  const [, iterations, salt, hex] = match;
  const derived = pbkdf2Sync(password, salt!, Number(iterations), 32, 'sha256');
  return timingSafeEqual(derived, Buffer.from(hex!, 'hex'));
}

describe('RBAC files of the sample counties', () => {
  it('exist for every county, with the four platform roles', () => {
    expect(files.map((file) => file.key).sort()).toEqual(['benton', 'franklin', 'test']);
    for (const { data } of files) expect(Object.keys(data.roles).sort()).toEqual(['Assessor', 'Auditor', 'ITAdmin', 'Staff']);
  });

  it('only name roles, inherited roles and county keys that exist', () => {
    for (const { key, data } of files) {
      for (const [name, role] of Object.entries(data.roles)) {
        for (const parent of role.inherits_permissions_from) expect(data.roles, `${key}: ${name} inherits ${parent}`).toHaveProperty(parent);
      }
      for (const user of data.users) {
        expect(data.roles, `${key}: ${user.username}`).toHaveProperty(user.role);
        for (const county of user.county_ids) expect(rbacKeys.has(county), `${key}: ${user.username} -> ${county}`).toBe(true);
      }
    }
  });

  it('give the demo users access to every sample county', () => {
    for (const { data } of files) {
      for (const username of ['admin', 'assessor', 'staff', 'auditor']) {
        const user = data.users.find((candidate) => candidate.username === username);
        expect(user?.county_ids.sort()).toEqual(['benton', 'franklin', 'test']);
      }
    }
  });

  it('store werkzeug pbkdf2:sha256 hashes that node:crypto verifies with the documented recipe', () => {
    for (const { data } of files) {
      for (const user of data.users) {
        const password = passwords[user.username]!;
        expect(verifyWerkzeugHash(user.password_hash, password), user.username).toBe(true);
        expect(verifyWerkzeugHash(user.password_hash, `${password}x`), user.username).toBe(false);
      }
    }
  });
});
