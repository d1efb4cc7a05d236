/**
 * `cutover init-county` onboards a county beside the sample ones (a temporary copy of
 * legacy/county_configs): legacy's own Python loaders and the reimplementation's read it, no
 * password is written in clear, `cutover seed` seeds it, and both gateways log its users in.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initCountyCommand } from '../../src/cli/commands/init-county.js';
import { seedCommand } from '../../src/cli/commands/seed.js';
import { loadConfig } from '../../src/config/load.js';
import { initCounty } from '../../src/onboard/init-county.js';
import { legacyServiceSpecs } from '../../src/platform/legacy-services.js';
import { countyConfigsDir, legacyDir } from '../../src/platform/paths.js';
import { freePort } from '../../src/platform/ports.js';
import { reimplEdgeServiceSpecs } from '../../src/platform/reimpl-services.js';
import type { ServiceSpec } from '../../src/platform/service-spec.js';
import { Supervisor } from '../../src/platform/supervisor.js';
import { loadRbacStore } from '../../reimpl/gateway/rbac-store.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';

const yakima = ['yakima_wa', '--name', 'Yakima County', '--legacy-system', 'PATRIOT', '--origin=-120.51,46.60', '--zip', '98901,98902', '--generate-passwords'];

/** Runs `cutover init-county ...` in process; returns what it printed and the passwords it showed. */
async function init(...argv: string[]): Promise<{ code: number; out: string; passwords: Map<string, string> }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
  try {
    const code = await initCountyCommand.run(argv);
    const passwords = new Map([...lines.join('\n').matchAll(/^ {2}(\S+_(?:admin|assessor|staff|auditor)) +(\S+) +\(/gm)].map((m) => [m[1]!, m[2]!] as [string, string]));
    return { code, out: lines.join('\n'), passwords };
  } finally {
    log.mockRestore();
  }
}

/** Legacy's own loaders, under Debian's python3: what sync and the gateway make of the folder. */
function legacyView(dir: string, logins: Array<[string, string]>): { config: Record<string, unknown> | null; counts: unknown; logins: Array<string | null> } {
  const script = `
import json, os, sys
want = json.load(sys.stdin)
from terrafusion_sync import county_config
from terrafusion_gateway.rbac_store import load_rbac_store
config = county_config.get("yakima_wa")
store = load_rbac_store(os.environ["COUNTY_CONFIGS_DIR"])
logins = []
for username, password in want:
    user = store.authenticate(username, password)
    logins.append(None if user is None else user["role"])
print(json.dumps({"config": config, "counts": config and county_config.rbac_counts(config), "logins": logins}))
`;
  const run = spawnSync('/usr/bin/python3', ['-c', script], {
    cwd: legacyDir,
    env: { ...process.env, PYTHONPATH: legacyDir, COUNTY_CONFIGS_DIR: dir, PYTHONDONTWRITEBYTECODE: '1' },
    input: JSON.stringify(logins),
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as ReturnType<typeof legacyView>;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => join(dir, name)).filter((path) => statSync(path).isFile());
}

describe('cutover init-county', () => {
  let dir: string;
  let first: Awaited<ReturnType<typeof init>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'init-county-'));
    cpSync(countyConfigsDir, dir, { recursive: true });
    first = await init(...yakima, '--dir', dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes county.json, mapping.yaml, the RBAC file and a private .env, and prints four generated passwords once', () => {
    expect(first.code).toBe(0);
    expect(first.out).toContain('checked with the legacy and reimplemented loaders');
    expect([...first.passwords.keys()]).toEqual(['yakima_wa_admin', 'yakima_wa_assessor', 'yakima_wa_staff', 'yakima_wa_auditor']);
    const county = JSON.parse(readFileSync(join(dir, 'yakima_wa', 'county.json'), 'utf8'));
    expect(county).toMatchObject({ county_id: 'yakima_wa', county_name: 'Yakima County', state: 'WA', rbac_key: 'yakima_wa', legacy_system_type: 'Patriot Properties AssessPro' });
    expect(county.mappings.property).toMatchObject({ PID: 'property_id', TotalValue: 'assessed_total_value' });
    expect(readFileSync(join(dir, 'yakima_wa', 'mapping.yaml'), 'utf8')).toMatch(/^legacy_system: PATRIOT$/m);
    expect(statSync(join(dir, 'yakima_wa', '.env')).mode & 0o777).toBe(0o600);
    const env = readFileSync(join(dir, 'yakima_wa', '.env'), 'utf8');
    expect(env).toMatch(/^ENVIRONMENT=production$/m);
    expect(env).toMatch(/^JWT_SECRET_KEY=[\w-]{40,}$/m);
  });

  it('writes no password in clear anywhere, only werkzeug pbkdf2 hashes, with ids after the sample users', () => {
    const written = filesUnder(join(dir, 'yakima_wa')).map((file) => readFileSync(file, 'utf8')).join('\n');
    for (const password of first.passwords.values()) expect(written).not.toContain(password);
    const users = JSON.parse(readFileSync(join(dir, 'yakima_wa', 'rbac', 'yakima_wa_users.json'), 'utf8')).users as Array<{ id: number; password_hash: string; county_ids: string[] }>;
    expect(users.map((user) => user.id)).toEqual([7, 8, 9, 10]);
    for (const user of users) {
      expect(user.password_hash).toMatch(/^pbkdf2:sha256:260000\$[A-Za-z0-9]{16}\$[0-9a-f]{64}$/);
      expect(user.county_ids).toEqual(['yakima_wa']);
    }
  });

  it("is read by legacy's Python loaders: sync finds the county with 4 users and 4 roles, the gateway logs each user in", () => {
    const view = legacyView(dir, [...first.passwords.entries(), ['yakima_wa_admin', 'wrong-password'], ['admin', 'admin123']]);
    expect(view.config).toMatchObject({ county_id: 'yakima_wa', _dir_key: 'yakima_wa', geography: { origin_lon: -120.51, origin_lat: 46.6 } });
    expect(view.counts).toEqual({ users_count: 4, roles_count: 4 });
    expect(view.logins).toEqual(['ITAdmin', 'Assessor', 'Staff', 'Auditor', null, 'ITAdmin']);
  });

  it('refuses to overwrite without --force; with --force it writes new passwords and the old ones stop working', async () => {
    await expect(init(...yakima, '--dir', dir)).rejects.toMatchObject({ code: 'CUTOVER_ERR_COUNTY_EXISTS', message: expect.stringContaining('--force') });
    const again = await init(...yakima, '--dir', dir, '--force');
    expect(again.code).toBe(0);
    const store = loadRbacStore(dir);
    const [username, oldPassword] = [...first.passwords.entries()][0]!;
    expect(await store.authenticate(username, oldPassword)).toBeUndefined();
    expect((await store.authenticate(username, again.passwords.get(username)!))?.role).toBe('ITAdmin');
    first = again;
  });

  it('names every bad input at once and writes nothing', async () => {
    const error = await init('Bad-Id', '--legacy-system', 'ORACLE', '--origin', '500,1', '--zip', '123', '--formats', 'PDF', '--dir', dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CUTOVER_ERR_COUNTY_INVALID' });
    const message = (error as Error).message;
    for (const named of ["<county_id> 'Bad-Id'", '--name', "--legacy-system 'ORACLE'", '--state', "--origin '500,1'", "--zip '123'", "--formats 'PDF'"]) expect(message).toContain(named);
    expect(readdirSync(dir).sort()).toEqual(['benton', 'franklin', 'test', 'yakima_wa']);
    await expect(init('benton_wa', '--name', 'Benton again', '--legacy-system', 'PACS', '--origin=-119,46', '--dir', dir)).rejects.toMatchObject({ code: 'CUTOVER_ERR_COUNTY_EXISTS' });
    await expect(init('a_wa', 'b_wa')).rejects.toMatchObject({ code: 'CUTOVER_ERR_USAGE' });
  });

  it('removes a new folder again when the legacy loaders cannot read it', async () => {
    const input = { countyId: 'walla_walla_wa', name: 'Walla Walla County', legacySystem: 'TYLER', origin: '-118.3,46.06', dir, force: false };
    await expect(initCounty(input, { python: '/bin/false' })).rejects.toMatchObject({ code: 'CUTOVER_ERR_COUNTY_CHECK_FAILED', message: expect.stringContaining('legacy loaders failed') });
    expect(readdirSync(dir)).not.toContain('walla_walla_wa');
  });

  describe('once written', () => {
    let database: IsolatedDatabase;
    const serverUrl = process.env.DATABASE_URL;
    let supervisor: Supervisor;
    let scratch: string;
    beforeAll(async () => {
      database = await createIsolatedDatabase('init_county');
      process.env.DATABASE_URL = database.url;
      scratch = mkdtempSync(join(tmpdir(), 'init-county-gw-'));
      supervisor = new Supervisor(join(scratch, 'logs'));
    });
    afterAll(async () => {
      await supervisor?.stopAll();
      process.env.DATABASE_URL = serverUrl;
      await database?.drop();
      rmSync(scratch, { recursive: true, force: true });
    });

    it('is seeded by cutover seed --county yakima_wa', async () => {
      const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        expect(await seedCommand.run(['--county', 'yakima_wa', '--parcels', '60', '--configs', dir])).toBe(0);
      } finally {
        log.mockRestore();
      }
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query("SELECT count(*)::int AS n FROM property_operational WHERE county_id = 'yakima_wa'");
        expect(rows[0].n).toBe(60);
      } finally {
        await client.end();
      }
    });

    it("logs its users in on both gateways pointed at the folder, and refuses a wrong password", async () => {
      const config = loadConfig();
      const host = '127.0.0.1';
      const env = { databaseUrl: database.url, syncServiceUrl: 'http://127.0.0.1:9', narratorUrl: 'http://127.0.0.1:9', exportDir: scratch, ollamaUrl: '' };
      const atFolder = (spec: ServiceSpec): ServiceSpec => ({ ...spec, env: { ...spec.env, COUNTY_CONFIGS_DIR: dir } });
      const legacy = legacyServiceSpecs(config, env, { sync: { host, port: 0 }, narrator: { host, port: 0 }, gateway: { host, port: await freePort() } }, 'yakima-legacy').find((spec) => spec.id === 'yakima-legacy.gateway')!;
      const [reimpl] = reimplEdgeServiceSpecs(config, env, { narrator: { host, port: 0 }, gateway: { host, port: await freePort() } }, { idPrefix: 'yakima-reimpl', only: ['gateway'] });
      const gateways = await Promise.all([supervisor.start(atFolder(legacy)), supervisor.start(atFolder(reimpl!))]);
      const login = async (base: string, username: string, password: string) => {
        const response = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
        const body = (await response.json()) as { access_token?: string };
        return { status: response.status, token: body.access_token };
      };
      for (const gateway of gateways) {
        for (const [username, password] of first.passwords) {
          const answer = await login(gateway.url, username, password);
          expect(answer, `${gateway.url} ${username}`).toMatchObject({ status: 200, token: expect.stringMatching(/^ey/) });
        }
        expect((await login(gateway.url, 'yakima_wa_staff', 'not-the-password')).status).toBe(401);
      }
    });
  });
});
