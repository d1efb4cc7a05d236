/**
 * `cutover bundle --out FILE.tar.gz`: one archive that installs and runs the harness on Debian
 * bookworm amd64 with no network. Its tree, under one top directory:
 *
 *   install.sh          verifies every file against manifest.json, installs debs/ offline (--check: only verifies)
 *   manifest.json       every file's size and sha256, the versions (node, harness, npm and Debian packages)
 *   README-offline.md   the README's offline section
 *   bin/cutover         runs app/bin/cutover.mjs on the bundled node
 *   node/bin/node       the node the native modules were built for
 *   app/                the built harness (src/bundle/app-tree.ts) and its production node_modules
 *   debs/               the Debian packages and their closure over a minbase (src/bundle/debian-packages.ts), install-order.txt
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { CutoverError } from '../errors.js';
import { repoRoot } from '../platform/paths.js';
import { buildAppTree } from './app-tree.js';
import { collectDebianPackages } from './debian-packages.js';
import { formatManifest, listTree, MANIFEST_FILE, type BundleManifest, type BundleVersions } from './manifest.js';
import { elfFilesUnder, installedPackageVersions, stageProductionModules } from './production-modules.js';

const INSTALL_SCRIPT = join(repoRoot, 'src', 'bundle', 'install.sh');

const LAUNCHER = `#!/bin/sh
# cutover from the unpacked bundle, on the bundle's own node (the one its native modules were built for).
set -eu
self=$(readlink -f "$0")
root=$(cd "$(dirname "$self")/.." && pwd)
PATH="$root/node/bin:$PATH"
export PATH
exec "$root/node/bin/node" "$root/app/bin/cutover.mjs" "$@"
`;

/** The README's "Offline install" section (its heading to the next heading of the same level). */
export function offlineSection(readme: string): string {
  const start = readme.search(/^## Offline install/m);
  if (start < 0) throw new CutoverError('CUTOVER_ERR_BUNDLE_BUILD_MISSING', 'README.md has no "## Offline install" section to ship as README-offline.md');
  const rest = readme.slice(start);
  const next = rest.slice(3).search(/^## /m);
  return `# TerraFusion Cutover, offline bundle\n\n${(next < 0 ? rest : rest.slice(0, next + 3)).trim()}\n`;
}

export interface BundleTreeDescription {
  versions: BundleVersions;
  debianRequested: string[];
  debianInstallOrder: string[];
  debianBase: BundleManifest['debianBase'];
}

/**
 * Writes what every bundle tree has besides its payload (install.sh, bin/cutover,
 * README-offline.md, debs/install-order.txt), then manifest.json over all of it; returns the manifest.
 */
export function finishBundleTree(root: string, description: BundleTreeDescription): BundleManifest {
  copyFileSync(INSTALL_SCRIPT, join(root, 'install.sh'));
  chmodSync(join(root, 'install.sh'), 0o755);
  mkdirSync(join(root, 'bin'), { recursive: true });
  writeFileSync(join(root, 'bin', 'cutover'), LAUNCHER);
  chmodSync(join(root, 'bin', 'cutover'), 0o755);
  writeFileSync(join(root, 'README-offline.md'), offlineSection(readFileSync(join(repoRoot, 'README.md'), 'utf8')));
  mkdirSync(join(root, 'debs'), { recursive: true });
  writeFileSync(join(root, 'debs', 'install-order.txt'), description.debianInstallOrder.map((path) => `${basename(path)}\n`).join(''));
  const manifest: BundleManifest = { format: 1, builtAt: new Date().toISOString(), ...description, files: listTree(root) };
  writeFileSync(join(root, MANIFEST_FILE), formatManifest(manifest));
  return manifest;
}

/** `tar -czf out` of `root` (its top directory kept), written beside and renamed into place. */
export function packTree(root: string, out: string): void {
  mkdirSync(dirname(out), { recursive: true });
  const partial = `${out}.${process.pid}.partial`;
  const tar = spawnSync('tar', ['-C', dirname(root), '--owner=0', '--group=0', '--numeric-owner', '-czf', partial, basename(root)], { encoding: 'utf8' });
  if (tar.status !== 0) {
    rmSync(partial, { force: true });
    throw new CutoverError('CUTOVER_ERR_BUNDLE_BUILD_MISSING', `tar could not write ${out}: ${tar.stderr.trim()}`);
  }
  renameSync(partial, out);
}

export interface BundleOptions {
  out: string;
  log: (line: string) => void;
  /** Keep the staging directory (for a look inside); its path is in the summary. */
  keepStaging?: boolean;
}

export interface BundleSummary {
  out: string;
  bytes: number;
  files: number;
  debianPackages: number;
  seconds: number;
  staging?: string;
}

function commandOutput(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Builds the whole archive. Needs the Debian mirror (apt-get download) and npm's registry or cache. */
export function buildBundle(options: BundleOptions): BundleSummary {
  const startedAt = Date.now();
  const out = resolve(options.out);
  if (!/\.(tar\.gz|tgz)$/.test(out)) throw new CutoverError('CUTOVER_ERR_USAGE', `--out must name a .tar.gz file, not ${options.out}`);
  const harness = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
  const staging = mkdtempSync(join(tmpdir(), 'cutover-bundle-'));
  const root = join(staging, `${harness.name}-${harness.version}`);
  try {
    options.log(`bundle: staging in ${staging}`);
    const app = join(root, 'app');
    const built = buildAppTree(repoRoot, app);
    options.log(`bundle: ${built.compiled} modules compiled by esbuild, ${built.copied} data files, services build ${built.reimplBuild}`);

    const modules = stageProductionModules(repoRoot, join(staging, 'npm'), options.log);
    renameSync(modules, join(app, 'node_modules'));

    mkdirSync(join(root, 'node', 'bin'), { recursive: true });
    copyFileSync(process.execPath, join(root, 'node', 'bin', 'node'));
    chmodSync(join(root, 'node', 'bin', 'node'), 0o755);

    // The built CLI must load on the bundled node before anything is packed.
    const help = spawnSync(join(root, 'node', 'bin', 'node'), [join(app, 'bin', 'cutover.mjs'), 'help'], { encoding: 'utf8' });
    if (help.status !== 0) throw new CutoverError('CUTOVER_ERR_BUNDLE_BUILD_MISSING', `the built CLI does not start: ${help.stderr.trim().split('\n').slice(0, 6).join(' | ')}`);

    options.log('bundle: resolving the Debian packages against a minbase and downloading them (apt-get download)');
    mkdirSync(join(root, 'debs'), { recursive: true });
    const debian = collectDebianPackages({
      setupScript: join(repoRoot, 'scripts', 'setup.sh'),
      elfFiles: [process.execPath, ...elfFilesUnder(join(app, 'node_modules'))],
      directory: join(root, 'debs'),
      workDir: staging,
    });
    for (const p of debian.packages) {
      if (!existsSync(join(root, 'debs', p.file))) throw new CutoverError('CUTOVER_ERR_BUNDLE_DOWNLOAD_FAILED', `apt-get download left no ${p.file}`);
    }
    options.log(`bundle: ${debian.packages.length} Debian packages (${debian.requested.length} asked for, minbase of ${debian.minbase.length} subtracted)`);

    const manifest = finishBundleTree(root, {
      versions: {
        harness: harness.version,
        node: process.version,
        nodeModuleAbi: process.versions.modules,
        debian: readFileSync('/etc/debian_version', 'utf8').trim(),
        ...(commandOutput('gdal-config', ['--version']) ? { gdal: commandOutput('gdal-config', ['--version'])! } : {}),
        npm: installedPackageVersions(join(app, 'node_modules')),
        debianPackages: Object.fromEntries(debian.packages.map((p) => [p.name, p.version])),
      },
      debianRequested: debian.requested,
      debianInstallOrder: debian.packages.map((p) => `debs/${p.file}`),
      debianBase: {
        rule: "debootstrap --variant=minbase: this machine's installed packages of Priority required, apt, and their Depends/Pre-Depends",
        packages: debian.minbase,
      },
    });
    options.log(`bundle: packing ${manifest.files.length} entries into ${out}`);
    packTree(root, out);
    return {
      out,
      bytes: statSync(out).size,
      files: manifest.files.length,
      debianPackages: debian.packages.length,
      seconds: (Date.now() - startedAt) / 1000,
      ...(options.keepStaging ? { staging } : {}),
    };
  } finally {
    if (!options.keepStaging) rmSync(staging, { recursive: true, force: true });
  }
}
