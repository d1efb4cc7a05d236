/**
 * The files of one county's configuration, as the legacy platform reads them
 * (`<county_configs>/<key>/county.json`, `rbac/<key>_users.json`), plus `mapping.yaml` (the legacy
 * system's fields, for the migration engineer to correct) and `.env` (the services' secrets).
 * Pure: builds the texts; writing and checking them is init-county.ts.
 */
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import type { LegacySystem } from './legacy-systems.js';

/** The platform's four roles, as legacy/terrafusion_gateway/make_rbac_files.py writes them. */
const READ_PERMISSIONS = ['view_property_data', 'view_gis_export_status', 'view_gis_export_results', 'view_valuation_results', 'view_reports', 'view_market_analysis'];
export const rbacRoles = {
  ITAdmin: {
    description: 'IT administrator: every permission of Assessor and Auditor, plus administration.',
    permissions: ['manage_users', 'manage_roles', 'manage_county_configs', 'view_system_health'],
    inherits_permissions_from: ['Assessor', 'Auditor'],
  },
  Assessor: {
    description: 'Assessor: runs exports, valuations, reports and market analyses.',
    permissions: ['run_gis_export', 'execute_valuation', 'generate_report', 'run_market_analysis'],
    inherits_permissions_from: ['Staff'],
  },
  Staff: {
    description: 'Staff: reads job status and results, uses the AI narrator.',
    permissions: [...READ_PERMISSIONS, 'use_ai_narrator'],
    inherits_permissions_from: [],
  },
  Auditor: {
    description: 'Auditor: read-only access to job status, results and the audit log.',
    permissions: ['audit_log_view', ...READ_PERMISSIONS],
    inherits_permissions_from: [],
  },
} as const;

export type RoleName = keyof typeof rbacRoles;

/** One user of the county's RBAC file, one per role, named `<key>_<role>`. */
export const countyUserRoles: ReadonlyArray<{ suffix: string; role: RoleName; title: string }> = [
  { suffix: 'admin', role: 'ITAdmin', title: 'IT Administrator' },
  { suffix: 'assessor', role: 'Assessor', title: 'Assessor' },
  { suffix: 'staff', role: 'Staff', title: 'Assessment Staff' },
  { suffix: 'auditor', role: 'Auditor', title: 'Auditor' },
];

export interface CountySpec {
  countyId: string;
  /** Directory name and RBAC key. */
  key: string;
  name: string;
  state: string;
  system: LegacySystem;
  connection: { host: string; port: number; database: string; username: string };
  formats: string[];
  geography: { originLon: number; originLat: number; city: string; zipCodes: string[] };
}

export interface HashedUser {
  id: number;
  username: string;
  role: RoleName;
  fullName: string;
  passwordHash: string;
}

export function countyJson(spec: CountySpec): string {
  const document = {
    county_id: spec.countyId,
    county_name: spec.name,
    state: spec.state,
    rbac_key: spec.key,
    legacy_system_type: spec.system.displayName,
    // No password: sync serves this block at /counties/{id}. The .env holds it.
    connection_params: { ...spec.connection },
    available_formats: spec.formats,
    export_defaults: { simplify_tolerance: 0.0001, include_attributes: true, coordinate_system: 'EPSG:4326' },
    mappings: { property: { ...spec.system.fields } },
    geography: {
      origin_lon: spec.geography.originLon,
      origin_lat: spec.geography.originLat,
      city: spec.geography.city,
      zip_codes: spec.geography.zipCodes,
    },
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

export function mappingYaml(spec: CountySpec): string {
  const header = [
    `# ${spec.name} (${spec.countyId}): fields of ${spec.system.displayName}, ${spec.system.sourceTable},`,
    '# mapped onto TerraFusion property fields. Written by `cutover init-county`; the same mapping is',
    "# county.json's `mappings.property`, which the legacy platform reads: correct both together.",
  ].join('\n');
  return `${header}\n${stringify({ legacy_system: spec.system.id, source: spec.system.sourceTable, property: spec.system.fields })}`;
}

export function rbacUsersJson(spec: CountySpec, users: readonly HashedUser[]): string {
  const document = {
    county: spec.key,
    roles: rbacRoles,
    users: users.map((user) => ({
      id: user.id,
      username: user.username,
      password_hash: user.passwordHash,
      role: user.role,
      full_name: user.fullName,
      county_ids: [spec.key],
      active: true,
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

const secret = () => randomBytes(32).toString('base64url');

/** Environment for the county's services: its own secrets, so they start outside development. */
export function envFile(spec: CountySpec, countyConfigsDir: string): string {
  return [
    `# Services of ${spec.name} (${spec.countyId}), written by cutover init-county. Holds secrets: keep it private.`,
    `COUNTY_CONFIGS_DIR=${countyConfigsDir}`,
    'ENVIRONMENT=production',
    `JWT_SECRET_KEY=${secret()}`,
    `SECRET_KEY=${secret()}`,
    `CUTOVER_ADMIN_TOKENS=${spec.key}_admin:${secret()}`,
    `# The ${spec.system.displayName} database password (connection_params in county.json hold the rest).`,
    'LEGACY_DB_PASSWORD=',
    '# DATABASE_URL=postgres://user@host:5432/terrafusion (unset: the embedded PostgreSQL)',
    '',
  ].join('\n');
}
