/**
 * The Debian packages the legacy platform runs on. scripts/setup.sh holds the one list and
 * installs what is missing when run as root; otherwise it prints the exact apt-get line.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CutoverError } from '../errors.js';
import { repoRoot, runsFromSource } from './paths.js';

export function ensureSystemPackages(): void {
  // A built tree (cutover bundle) only runs: the packages to build and test with are not its business.
  const result = spawnSync('sh', [join(repoRoot, 'scripts/setup.sh'), runsFromSource ? '--system-only' : '--runtime-only'], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (result.status === 0) return;
  throw new CutoverError('CUTOVER_ERR_MISSING_PACKAGES', (result.stderr || `scripts/setup.sh exited with ${result.status}`).trim());
}
