/**
 * Checks a written county configuration by loading it the way both sides do: legacy's Python
 * loaders (terrafusion_sync.county_config, terrafusion_gateway.rbac_store, under Debian's
 * python3) and the reimplementation's (reimpl/shared/county-configs.ts, reimpl/gateway/rbac-store.ts).
 * Each must find the county in its folder, count its users and roles, and log every user in
 * with its password. Returns the problems found, empty when both agree.
 */
import { spawnSync } from 'node:child_process';
import { CountyConfigs } from '../../reimpl/shared/county-configs.js';
import { loadRbacStore } from '../../reimpl/gateway/rbac-store.js';
import { legacyDir } from '../platform/paths.js';

export interface CountyExpectation {
  countyConfigsDir: string;
  countyId: string;
  key: string;
  users: ReadonlyArray<{ username: string; password: string }>;
  rolesCount: number;
}

// Reads the expectation on stdin (passwords never on a command line), prints the problems as JSON.
const LEGACY_CHECK = `
import json, os, sys
want = json.load(sys.stdin)
os.environ["COUNTY_CONFIGS_DIR"] = want["countyConfigsDir"]
from terrafusion_sync import county_config
from terrafusion_gateway.rbac_store import load_rbac_store
problems = []
config = county_config.get(want["countyId"])
if config is None:
    problems.append("legacy sync does not find county %s" % want["countyId"])
elif config["_dir_key"] != want["key"]:
    problems.append("legacy sync reads county %s from folder %s" % (want["countyId"], config["_dir_key"]))
else:
    counts = county_config.rbac_counts(config)
    if counts != {"users_count": len(want["users"]), "roles_count": want["rolesCount"]}:
        problems.append("legacy sync counts %r" % counts)
store = load_rbac_store(want["countyConfigsDir"])
for user in want["users"]:
    found = store.authenticate(user["username"], user["password"])
    if found is None:
        problems.append("legacy gateway refuses %s" % user["username"])
    elif want["countyId"] not in store.county_ids_for_keys(found["county_ids"]):
        problems.append("legacy gateway does not give %s county %s" % (user["username"], want["countyId"]))
print(json.dumps(problems))
`;

function legacyProblems(python: string, want: CountyExpectation): string[] {
  const run = spawnSync(python, ['-c', LEGACY_CHECK], {
    cwd: legacyDir,
    env: { ...process.env, PYTHONPATH: legacyDir, PYTHONDONTWRITEBYTECODE: '1' },
    input: JSON.stringify(want),
    encoding: 'utf8',
  });
  if (run.status !== 0) return [`legacy loaders failed (${python}): ${(run.stderr || String(run.error)).trim().split('\n').at(-1)}`];
  return JSON.parse(run.stdout) as string[];
}

async function reimplProblems(want: CountyExpectation): Promise<string[]> {
  const problems: string[] = [];
  try {
    const configs = new CountyConfigs(want.countyConfigsDir);
    const config = configs.get(want.countyId);
    if (!config) problems.push(`the reimplementation does not find county ${want.countyId}`);
    else {
      const counts = configs.rbacCounts(config);
      if (counts.users_count !== want.users.length || counts.roles_count !== want.rolesCount) problems.push(`the reimplementation counts ${JSON.stringify(counts)}`);
    }
    const store = loadRbacStore(want.countyConfigsDir);
    for (const user of want.users) {
      const found = await store.authenticate(user.username, user.password);
      if (!found) problems.push(`the reimplemented gateway refuses ${user.username}`);
      else if (!store.countyIdsForKeys(found.county_ids).has(want.countyId)) problems.push(`the reimplemented gateway does not give ${user.username} county ${want.countyId}`);
    }
  } catch (error) {
    problems.push(`the reimplementation's loaders failed: ${(error as Error).message}`);
  }
  return problems;
}

export async function checkCountyConfiguration(python: string, want: CountyExpectation): Promise<string[]> {
  return [...legacyProblems(python, want), ...(await reimplProblems(want))];
}
