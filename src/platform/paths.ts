/** Absolute paths of the repository's parts, independent of the caller's working directory. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const legacyDir = resolve(repoRoot, 'legacy');
export const countyConfigsDir = resolve(legacyDir, 'county_configs');
