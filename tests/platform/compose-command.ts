import { spawnSync } from 'node:child_process';

/** The Compose CLI this machine has: the docker plugin when present, else Debian's docker-compose. */
export function composeCommand(): string[] {
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  return plugin.status === 0 ? ['docker', 'compose'] : ['docker-compose'];
}
