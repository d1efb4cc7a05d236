/** Absolute paths of the repository's parts, independent of the caller's working directory. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const legacyDir = resolve(repoRoot, 'legacy');
export const countyConfigsDir = resolve(legacyDir, 'county_configs');
/**
 * True when the harness runs from its TypeScript sources (through tsx); false in a built tree of
 * plain JavaScript (`cutover bundle`, the container image), where no source exists to rebuild
 * from and child processes run on bare node.
 */
export const runsFromSource = import.meta.url.endsWith('.ts');
