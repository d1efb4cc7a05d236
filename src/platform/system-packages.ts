/**
 * The Debian packages the legacy platform runs on. scripts/setup.sh holds the one list and
 * installs what is missing when run as root; otherwise it prints the exact apt-get line.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CutoverError } from '../errors.js';
import { repoRoot } from './paths.js';

export function ensureSystemPackages(): void {
  const result = spawnSync('sh', [join(repoRoot, 'scripts/setup.sh'), '--system-only'], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (result.status === 0) return;
  throw new CutoverError('CUTOVER_ERR_MISSING_PACKAGES', (result.stderr || `scripts/setup.sh exited with ${result.status}`).trim());
}
