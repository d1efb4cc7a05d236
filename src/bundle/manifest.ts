/**
 * A bundle's manifest.json: every file of the unpacked tree with its size and sha256 (symbolic
 * links with their target), and the versions it was built from. install.sh --check verifies a
 * tree against it with coreutils only (no node is trusted before its own checksum is checked),
 * so the manifest is written one entry a line in a fixed key order that sed can read; JSON
 * readers see ordinary JSON.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CutoverError } from '../errors.js';

export const MANIFEST_FILE = 'manifest.json';

export type ManifestEntry = { path: string; size: number; sha256: string } | { path: string; link: string };

export interface BundleVersions {
  harness: string;
  node: string;
  /** process.versions.modules: the ABI the native modules were built for. */
  nodeModuleAbi: string;
  debian: string;
  gdal?: string;
  /** npm package name -> version, of the production node_modules. */
  npm: Record<string, string>;
  /** Debian package name -> version, of the shipped .deb files. */
  debianPackages: Record<string, string>;
}

export interface BundleManifest {
  format: 1;
  builtAt: string;
  versions: BundleVersions;
  /** What scripts/setup.sh asks for and the linked libraries' packages, before the closure. */
  debianRequested: string[];
  /** The .deb files in apt's install order (relative to the bundle root). */
  debianInstallOrder: string[];
  /** How "a bare Debian bookworm" was taken: the packages subtracted from the closure. */
  debianBase: { rule: string; packages: string[] };
  files: ManifestEntry[];
}

// Paths are written between double quotes without JSON escapes, so install.sh's sed reads them.
const PLAIN_PATH = /^[^"\\\u0000-\u001f]+$/;

/** Every file and link under `root` (sorted, `/`-separated, relative), except the manifest itself. */
export function listTree(root: string): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  const walk = (directory: string): void => {
    for (const dirent of readdirSync(directory, { withFileTypes: true })) {
      const absolute = join(directory, dirent.name);
      const path = relative(root, absolute).split(sep).join('/');
      if (path === MANIFEST_FILE) continue;
      if (!PLAIN_PATH.test(path)) throw new CutoverError('CUTOVER_ERR_BUNDLE_BUILD_MISSING', `the bundle cannot list ${JSON.stringify(path)}: a path with a quote, backslash or control character`);
      if (dirent.isSymbolicLink()) entries.push({ path, link: readlinkSync(absolute) });
      else if (dirent.isDirectory()) walk(absolute);
      else if (dirent.isFile()) entries.push({ path, size: lstatSync(absolute).size, sha256: sha256File(absolute) });
    }
  };
  walk(root);
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** manifest.json's text: the header as indented JSON, then one file entry a line. */
export function formatManifest(manifest: BundleManifest): string {
  const { files, ...header } = manifest;
  const head = JSON.stringify(header, null, 2).replace(/\n}$/, '');
  const lines = files.map((entry) =>
    'link' in entry
      ? `    {"path": ${JSON.stringify(entry.path)}, "link": ${JSON.stringify(entry.link)}}`
      : `    {"path": ${JSON.stringify(entry.path)}, "size": ${entry.size}, "sha256": "${entry.sha256}"}`,
  );
  return `${head},\n  "files": [\n${lines.join(',\n')}\n  ]\n}\n`;
}

/** What running the harness writes in its own tree: never "added" to the bundle (install.sh skips the same paths). */
export function isRuntimeState(path: string): boolean {
  return path.startsWith('app/.cutover/') || path.startsWith('app/reports/') || path.includes('/__pycache__/');
}

export interface TreeDifference {
  path: string;
  problem: 'missing' | 'changed' | 'added';
}

/** How the tree at `root` differs from its manifest: files missing, changed (size, sha256, link target) or added. */
export function compareTree(root: string, manifest: Pick<BundleManifest, 'files'>): TreeDifference[] {
  const actual = new Map(listTree(root).map((entry) => [entry.path, entry]));
  const differences: TreeDifference[] = [];
  for (const expected of manifest.files) {
    const found = actual.get(expected.path);
    actual.delete(expected.path);
    if (!found) differences.push({ path: expected.path, problem: 'missing' });
    else if (JSON.stringify(found) !== JSON.stringify(expected)) differences.push({ path: expected.path, problem: 'changed' });
  }
  for (const path of actual.keys()) if (!isRuntimeState(path)) differences.push({ path, problem: 'added' });
  return differences;
}

/** Throws CUTOVER_ERR_BUNDLE_CHECKSUM_MISMATCH naming every difference of the unpacked bundle at `root`. */
export function verifyTree(root: string): void {
  const manifest = JSON.parse(readFileSync(join(root, MANIFEST_FILE), 'utf8')) as BundleManifest;
  const differences = compareTree(root, manifest);
  if (differences.length) {
    throw new CutoverError('CUTOVER_ERR_BUNDLE_CHECKSUM_MISMATCH', differences.map((d) => `${d.problem}: ${d.path}`).join('; '));
  }
}
