/**
 * County configurations (legacy: terrafusion_sync/county_config.py): every
 * COUNTY_CONFIGS_DIR/<key>/county.json indexed by county_id, read once at start, in the
 * directory order legacy's sorted glob gives. Values keep Python's int/float distinction.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parsePyJson, type PyValue } from './py-json.js';

export interface CountyConfig {
  countyId: string;
  /** The directory name (benton), which is also the default RBAC key. */
  dirKey: string;
  raw: Record<string, PyValue>;
  availableFormats: string[];
  exportDefaults: Record<string, PyValue>;
}

export class CountyConfigs {
  private readonly byId = new Map<string, CountyConfig>();

  constructor(readonly dir: string) {
    for (const entry of readdirSync(dir).sort()) {
      const file = join(dir, entry, 'county.json');
      try {
        if (!statSync(file).isFile()) continue;
      } catch {
        continue;
      }
      const raw = parsePyJson(readFileSync(file, 'utf8')) as Record<string, PyValue>;
      const countyId = String(raw.county_id);
      this.byId.set(countyId, {
        countyId,
        dirKey: entry,
        raw,
        availableFormats: (raw.available_formats as string[] | undefined) ?? [],
        exportDefaults: (raw.export_defaults as Record<string, PyValue> | undefined) ?? {},
      });
    }
  }

  get(countyId: string): CountyConfig | undefined {
    return this.byId.get(countyId);
  }

  all(): CountyConfig[] {
    return [...this.byId.values()];
  }

  /** users_count / roles_count of the county's RBAC file, read per call (the gateway rewrites it); 0 when absent. */
  rbacCounts(config: CountyConfig): { users_count: number; roles_count: number } {
    const key = typeof config.raw.rbac_key === 'string' && config.raw.rbac_key ? config.raw.rbac_key : config.dirKey;
    try {
      const data = JSON.parse(readFileSync(join(this.dir, config.dirKey, 'rbac', `${key}_users.json`), 'utf8')) as {
        users?: unknown[];
        roles?: Record<string, unknown>;
      };
      return { users_count: (data.users ?? []).length, roles_count: Object.keys(data.roles ?? {}).length };
    } catch {
      return { users_count: 0, roles_count: 0 };
    }
  }
}
