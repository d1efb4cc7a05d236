/**
 * The parts of `cutover bundle` that need no network and no build, on a small synthetic bundle:
 * the manifest, install.sh --check on the unpacked archive (and its failures on a tampered,
 * missing, added or retargeted file), the README's offline section, and the Debian closure's
 * reading of dpkg and apt. The whole bundle is built by `npm run bundle-test` (tests/bundle/full-bundle.ts).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { finishBundleTree, offlineSection, packTree } from '../../src/bundle/bundle.js';
import { minbaseStatus, parseSimulatedInstalls, runtimePackagesOf } from '../../src/bundle/debian-packages.js';
import { compareTree, listTree, verifyTree, type BundleManifest } from '../../src/bundle/manifest.js';
import { GDAL_DEPS_KEPT, removeAllBut } from '../../src/bundle/production-modules.js';
import { isCutoverError } from '../../src/errors.js';
import { repoRoot } from '../../src/platform/paths.js';

let workDir: string;
let root: string;

/** A .deb of nothing but its control file, built with dpkg-deb into the bundle's debs/. */
function fakeDeb(name: string, depends?: string): string {
  const tree = join(workDir, `deb-${name}`);
  mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
  writeFileSync(
    join(tree, 'DEBIAN', 'control'),
    `Package: ${name}\nVersion: 1.0\nArchitecture: all\nMaintainer: cutover tests <tests@example.invalid>\nDescription: bundle test package\n${depends ? `Depends: ${depends}\n` : ''}`,
  );
  mkdirSync(join(root, 'debs'), { recursive: true });
  const file = `${name}_1.0_all.deb`;
  const built = spawnSync('dpkg-deb', ['--build', '--root-owner-group', tree, join(root, 'debs', file)], { encoding: 'utf8' });
  expect(built.status, built.stderr).toBe(0);
  return `debs/${file}`;
}

function synthesiseBundle(debs?: () => string[]): BundleManifest {
  root = join(workDir, 'terrafusion-cutover-0.0.0');
  mkdirSync(join(root, 'app', 'legacy', 'county configs'), { recursive: true });
  writeFileSync(join(root, 'app', 'main.js'), 'console.log("harness");\n');
  writeFileSync(join(root, 'app', 'legacy', 'county configs', 'benton_wa.json'), '{"county_id":"benton_wa"}\n');
  symlinkSync('main.js', join(root, 'app', 'entry.js'));
  return finishBundleTree(root, {
    versions: { harness: '0.0.0', node: process.version, nodeModuleAbi: process.versions.modules, debian: '12', npm: { pg: '8.0.0' }, debianPackages: {} },
    debianRequested: [],
    debianInstallOrder: debs ? debs() : [],
    debianBase: { rule: 'none (synthetic)', packages: [] },
  });
}

/** Packs the synthetic tree, unpacks it elsewhere and returns the unpacked root. */
function packAndUnpack(): string {
  const archive = join(workDir, 'bundle.tar.gz');
  packTree(root, archive);
  const unpacked = join(workDir, 'unpacked');
  mkdirSync(unpacked);
  const tar = spawnSync('tar', ['-xzf', archive, '-C', unpacked], { encoding: 'utf8' });
  expect(tar.status, tar.stderr).toBe(0);
  return join(unpacked, 'terrafusion-cutover-0.0.0');
}

function check(bundleRoot: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('sh', [join(bundleRoot, 'install.sh'), '--check'], { encoding: 'utf8' });
}

function verifyError(bundleRoot: string): string {
  try {
    verifyTree(bundleRoot);
  } catch (error) {
    if (isCutoverError(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'no error';
}

beforeEach(() => {
  workDir = mkdtempSync(join(tmpdir(), 'bundle-tree-'));
});
afterEach(() => rmSync(workDir, { recursive: true, force: true }));

describe('a bundle tree', () => {
  it('has a manifest listing every file with its size and sha256, links with their target, as JSON', () => {
    const manifest = synthesiseBundle();
    const onDisk = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as BundleManifest;
    expect(onDisk.files).toEqual(manifest.files);
    expect(onDisk.versions.node).toBe(process.version);
    const paths = manifest.files.map((entry) => entry.path);
    expect(paths).toEqual(['README-offline.md', 'app/entry.js', 'app/legacy/county configs/benton_wa.json', 'app/main.js', 'bin/cutover', 'debs/install-order.txt', 'install.sh']);
    const main = manifest.files.find((entry) => entry.path === 'app/main.js');
    const bytes = readFileSync(join(root, 'app', 'main.js'));
    expect(main).toEqual({ path: 'app/main.js', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect(manifest.files.find((entry) => entry.path === 'app/entry.js')).toEqual({ path: 'app/entry.js', link: 'main.js' });
  });

  it('unpacks from its archive and install.sh --check verifies every file', () => {
    synthesiseBundle();
    const unpacked = packAndUnpack();
    const result = check(unpacked);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('6 files and 1 links match manifest.json');
    expect(compareTree(unpacked, JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8')) as BundleManifest)).toEqual([]);
  });

  it('fails install.sh --check on a tampered file, naming it, and so does verifyTree', () => {
    synthesiseBundle();
    const unpacked = packAndUnpack();
    appendFileSync(join(unpacked, 'app', 'legacy', 'county configs', 'benton_wa.json'), ' ');
    const result = check(unpacked);
    expect(result.status).toBe(5);
    expect(result.stderr).toContain('CUTOVER_ERR_BUNDLE_CHECKSUM_MISMATCH');
    expect(result.stderr).toContain('changed or missing: app/legacy/county configs/benton_wa.json');
    expect(verifyError(unpacked)).toBe('CUTOVER_ERR_BUNDLE_CHECKSUM_MISMATCH: changed: app/legacy/county configs/benton_wa.json');
  });

  it('fails install.sh --check on a missing file, an added file and a retargeted link', () => {
    synthesiseBundle();
    const unpacked = packAndUnpack();
    unlinkSync(join(unpacked, 'app', 'main.js'));
    writeFileSync(join(unpacked, 'app', 'intruder.js'), 'process.exit(0);\n');
    unlinkSync(join(unpacked, 'app', 'entry.js'));
    symlinkSync('intruder.js', join(unpacked, 'app', 'entry.js'));
    const result = check(unpacked);
    expect(result.status).toBe(5);
    expect(result.stderr).toContain('3 file(s) differ');
    expect(result.stderr).toContain('changed or missing: app/main.js');
    expect(result.stderr).toContain('added: app/intruder.js');
    expect(result.stderr).toContain('changed link: app/entry.js');
    expect(verifyError(unpacked)).toBe('CUTOVER_ERR_BUNDLE_CHECKSUM_MISMATCH: changed: app/entry.js; missing: app/main.js; added: app/intruder.js');
  });

  it('does not count what running the harness writes (state, reports, Python byte code) as added', () => {
    synthesiseBundle();
    const unpacked = packAndUnpack();
    for (const path of ['app/.cutover/logs/sync.log', 'app/reports/x/report.json', 'app/legacy/__pycache__/x.pyc']) {
      mkdirSync(join(unpacked, path, '..'), { recursive: true });
      writeFileSync(join(unpacked, path), 'state');
    }
    expect(check(unpacked).status).toBe(0);
    expect(verifyError(unpacked)).toBe('no error');
  });

  it('install.sh --dry-run has apt accept its packages from debs/ alone, with no mirror, changing nothing', () => {
    synthesiseBundle(() => [fakeDeb('cutover-bundle-test-leaf'), fakeDeb('cutover-bundle-test-top', 'cutover-bundle-test-leaf')]);
    const unpacked = packAndUnpack();
    const result = spawnSync('sh', [join(unpacked, 'install.sh'), '--dry-run'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('simulating the install of 2 of 2 Debian packages');
    expect(result.stdout).toMatch(/^Inst cutover-bundle-test-leaf /m);
    expect(result.stdout).toMatch(/^Inst cutover-bundle-test-top /m);
    expect(spawnSync('dpkg-query', ['-W', 'cutover-bundle-test-top']).status).not.toBe(0);
  });

  it('install.sh --dry-run fails with CUTOVER_ERR_BUNDLE_INSTALL_FAILED when a dependency is in neither the bundle nor the machine', () => {
    synthesiseBundle(() => [fakeDeb('cutover-bundle-test-orphan', 'cutover-bundle-test-absent')]);
    const unpacked = packAndUnpack();
    const result = spawnSync('sh', [join(unpacked, 'install.sh'), '--dry-run'], { encoding: 'utf8' });
    expect(result.status).toBe(6);
    expect(result.stderr).toContain('CUTOVER_ERR_BUNDLE_INSTALL_FAILED');
    expect(`${result.stdout}${result.stderr}`).toContain('cutover-bundle-test-absent');
  });

  it('carries the README’s offline section as README-offline.md', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = offlineSection(readme);
    expect(section).toContain('install.sh --check');
    expect(section).not.toMatch(/\n## (?!Offline install)/);
  });
});

describe('the production node_modules', () => {
  it('keep the data folders gdal-async checks for and lose its vendored GDAL and PROJ sources', () => {
    const deps = join(workDir, 'deps');
    for (const path of [...GDAL_DEPS_KEPT.map((kept) => `${kept}/file`), 'libgdal/gdal/gcore/gdal.cpp', 'libgdal/gdal/frmts/gtiff/x.c', 'libproj/proj/src/proj.c', 'libcurl/cacert.pem']) {
      mkdirSync(join(deps, path, '..'), { recursive: true });
      writeFileSync(join(deps, path), 'x');
    }
    removeAllBut(deps, GDAL_DEPS_KEPT);
    expect(listTree(deps).map((entry) => entry.path)).toEqual(['libgdal/gdal/data/file', 'libgdal/gdal/frmts/grib/data/file', 'libproj/proj/data/file']);
  });
});

describe('the Debian closure', () => {
  it('takes the runtime packages from scripts/setup.sh, not the build and test ones', () => {
    const packages = runtimePackagesOf(readFileSync(join(repoRoot, 'scripts', 'setup.sh'), 'utf8'));
    expect(packages).toContain('python3-gdal');
    expect(packages).toContain('gdal-bin');
    expect(packages).not.toContain('chromium');
    expect(packages).not.toContain('libgdal-dev');
  });

  it('takes as minbase the required packages, apt, and what they depend on, through alternatives and provides', () => {
    const stanza = (name: string, priority: string, extra = '') => `Package: ${name}\nStatus: install ok installed\nPriority: ${priority}\nVersion: 1.0${extra}`;
    const status = [
      stanza('libc6', 'required'),
      stanza('util-linux', 'required', '\nPre-Depends: libsmartcols1 (>= 2.38)\nDepends: util-linux-extra | fallback, mail-transport'),
      stanza('libsmartcols1', 'optional'),
      stanza('util-linux-extra', 'optional'),
      stanza('fallback', 'optional'),
      stanza('exim-light', 'optional', '\nProvides: mail-transport'),
      stanza('apt', 'important', '\nDepends: libapt-pkg6.0 (>= 2.6)'),
      stanza('libapt-pkg6.0', 'optional'),
      stanza('python3', 'optional'),
      'Package: removed-required\nStatus: deinstall ok config-files\nPriority: required\nVersion: 1.0',
    ].join('\n\n');
    expect(minbaseStatus(status).packages).toEqual(['apt', 'exim-light', 'libapt-pkg6.0', 'libc6', 'libsmartcols1', 'util-linux', 'util-linux-extra']);
  });

  it('reads apt-get -s install lines in their order', () => {
    const output = [
      'Inst libssl3 (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security [amd64])',
      'Inst libgdal32 [3.6.1+dfsg-1] (3.6.2+dfsg-1+b2 Debian:12.15/oldstable [amd64])',
      'Conf libssl3 (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security [amd64])',
      'Inst python3-requests (2.28.1+dfsg-1 Debian:12.15/oldstable [all])',
    ].join('\n');
    expect(parseSimulatedInstalls(output)).toEqual([
      { name: 'libssl3', version: '3.0.22-1~deb12u2', architecture: 'amd64' },
      { name: 'libgdal32', version: '3.6.2+dfsg-1+b2', architecture: 'amd64' },
      { name: 'python3-requests', version: '2.28.1+dfsg-1', architecture: 'all' },
    ]);
  });
});
