/**
 * Users, roles and the county mapping, read from the county configs.
 * Reproduces legacy/terrafusion_gateway/rbac_store.py: every county.json's `rbac_key` ->
 * `county_id`, every `<key>/rbac/<key>_users.json` in sorted path order, the first file defining
 * a user or role, county lists merged; permissions inherited transitively (cycles ignored).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkPasswordHash } from './werkzeug-password.js';

export interface RbacUser {
  id: number | string;
  username: string;
  password_hash: string;
  role: string;
  county_ids: string[];
  active?: boolean;
}

interface RoleDefinition {
  permissions?: string[];
  inherits_permissions_from?: string[];
}

export class RbacStore {
  private readonly byUsername = new Map<string, RbacUser>();
  private readonly byId = new Map<string, RbacUser>();
  private readonly countyIdToKey: Map<string, string>;
  private readonly permissionsCache = new Map<string, ReadonlySet<string>>();

  constructor(
    private readonly roles: Record<string, RoleDefinition>,
    users: RbacUser[],
    private readonly keyToCountyId: Map<string, string>,
  ) {
    for (const user of users) {
      this.byUsername.set(user.username, user);
      this.byId.set(String(user.id), user);
    }
    this.countyIdToKey = new Map([...keyToCountyId].map(([key, id]) => [id, key]));
  }

  /** The active user whose password matches, else undefined (unknown, inactive, bad password alike). */
  async authenticate(username: unknown, password: unknown): Promise<RbacUser | undefined> {
    if (typeof username !== 'string' || typeof password !== 'string') return undefined;
    const user = this.byUsername.get(username);
    if (user === undefined || user.active === false) return undefined;
    return (await checkPasswordHash(user.password_hash, password)) ? user : undefined;
  }

  userById(id: unknown): RbacUser | undefined {
    return this.byId.get(String(id));
  }

  /** The role's own permissions plus everything inherited, transitively. */
  permissionsOf(role: unknown): ReadonlySet<string> {
    const name = String(role);
    let cached = this.permissionsCache.get(name);
    if (cached === undefined) {
      const seen = new Set<string>();
      const pending = [name];
      const permissions = new Set<string>();
      while (pending.length) {
        const next = pending.pop()!;
        if (seen.has(next) || !Object.hasOwn(this.roles, next)) continue;
        seen.add(next);
        for (const permission of this.roles[next]!.permissions ?? []) permissions.add(permission);
        pending.push(...(this.roles[next]!.inherits_permissions_from ?? []));
      }
      cached = permissions;
      this.permissionsCache.set(name, cached);
    }
    return cached;
  }

  /** Platform county ids that a user's RBAC keys grant access to. */
  countyIdsForKeys(keys: readonly unknown[] | undefined): Set<string> {
    const allowed = new Set<string>();
    for (const key of keys ?? []) allowed.add(this.keyToCountyId.get(String(key)) ?? String(key));
    return allowed;
  }

  rbacKeyOf(countyId: string): string {
    return this.countyIdToKey.get(countyId) ?? countyId;
  }
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** Python's sorted(glob(...)) of the files directly inside `dir`'s subfolders. */
function sortedGlob(dir: string, inner: (folder: string) => string[]): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) out.push(...inner(join(dir, entry)));
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function loadRbacStore(countyConfigsDir: string): RbacStore {
  const keyToCountyId = new Map<string, string>();
  const countyFiles = sortedGlob(countyConfigsDir, (folder) => (existsSync(join(folder, 'county.json')) ? [join(folder, 'county.json')] : []));
  for (const file of countyFiles) {
    const config = readJson(file);
    const key = config.rbac_key || file.split('/').at(-2)!;
    keyToCountyId.set(key, config.county_id);
  }
  const rbacFiles = sortedGlob(countyConfigsDir, (folder) => {
    const rbac = join(folder, 'rbac');
    if (!existsSync(rbac)) return [];
    return readdirSync(rbac)
      .filter((name) => name.endsWith('_users.json'))
      .map((name) => join(rbac, name));
  });
  const roles: Record<string, RoleDefinition> = {};
  const users = new Map<string, RbacUser>();
  for (const file of rbacFiles) {
    const data = readJson(file);
    for (const [name, definition] of Object.entries<RoleDefinition>(data.roles ?? {})) if (!Object.hasOwn(roles, name)) roles[name] = definition;
    for (const user of (data.users ?? []) as RbacUser[]) {
      const existing = users.get(user.username);
      if (existing === undefined) users.set(user.username, { ...user, county_ids: [...(user.county_ids ?? [])] });
      else for (const key of user.county_ids ?? []) if (!existing.county_ids.includes(key)) existing.county_ids.push(key);
    }
  }
  return new RbacStore(roles, [...users.values()], keyToCountyId);
}
